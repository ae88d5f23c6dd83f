/**
 * Test support: reads sink output back for comparison with the input rows.
 * @module
 */
import pl from "nodejs-polars";

/** Recursively lists files under `dir` ending with `ext`, as paths relative to `dir`, sorted. */
export async function listFiles(dir: string, ext = ""): Promise<string[]> {
  const out: string[] = [];
  async function walk(sub: string) {
    for await (const entry of Deno.readDir(`${dir}/${sub}`)) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory) await walk(rel);
      else if (rel.endsWith(ext)) out.push(rel);
    }
  }
  await walk("");
  return out.sort();
}

/** Column dtypes of a Parquet file as polars names (`Int64`, `Datetime(ms,UTC)`, …). */
export function parquetDtypes(path: string): Record<string, string> {
  const df = pl.readParquet(path);
  return Object.fromEntries(
    df.columns.map((
      c,
    ) => [c, df.getColumn(c).dtype.toString().replace(/^DataType\((.*)\)$/, "$1")]),
  );
}

/**
 * Rows of a Parquet file with exact values: Int64 as bigint (no precision lost above 2^53),
 * Decimal as its text (`"12.50"`), Date/Datetime as `Date`, others as polars returns them.
 */
export function parquetRows(path: string): Record<string, unknown>[] {
  const df = pl.readParquet(path);
  const columns: Record<string, unknown[]> = {};
  for (const name of df.columns) {
    const series = df.getColumn(name);
    columns[name] = series.dtype.equals(pl.Int64)
      ? series.cast(pl.Utf8).toArray().map((v) => (v === null ? null : BigInt(v as string)))
      : series.dtype.toString().includes("Decimal")
      ? series.cast(pl.Utf8).toArray()
      : series.toArray();
  }
  return Array.from(
    { length: df.height },
    (_, i) => Object.fromEntries(df.columns.map((c) => [c, columns[c][i]])),
  );
}
