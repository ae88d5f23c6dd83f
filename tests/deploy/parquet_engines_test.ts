/**
 * The two Parquet engines write the same dataset: polars (FFI) and hyparquet-writer (no FFI),
 * compared through an independent reader (hyparquet) — schema, row count and every value; and
 * a merge by key gives the same rows either way.
 */
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { join } from "node:path";
import { assertEquals } from "../assert.ts";
import { castColumn, type TypedColumn } from "../../lib/sinks/column_types.ts";
import { forceParquetEngine } from "../../lib/sinks/ffi.ts";
import { writeParquetColumns } from "../../lib/sinks/parquet_wasm.ts";
import { toFrame, writeParquetFile } from "../../lib/sinks/parquet.ts";
import { beginWrite, mergeByKey, parquetFiles } from "../../lib/sinks/write_mode.ts";

function dataset(n: number): TypedColumn[] {
  const ids = Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 2n ** 60n + BigInt(i) : i));
  return [
    castColumn("id", ids, "int64"),
    castColumn("price", ids.map((_, i) => (i % 5 === 0 ? null : i * 1.25)), "float64"),
    castColumn("name", ids.map((_, i) => (i % 6 === 0 ? null : `näme ${i} "q"`)), "string"),
    castColumn("ok", ids.map((_, i) => (i % 4 === 0 ? null : i % 2 === 0)), "boolean"),
    castColumn(
      "day",
      ids.map((_, i) => (i % 9 === 0 ? null : `1997-0${1 + (i % 9)}-1${i % 10}`)),
      "date",
    ),
    castColumn(
      "at",
      ids.map((_, i) => (i % 8 === 0 ? null : `1998-05-06 0${i % 10}:00:00.${100 + i % 900}`)),
      "datetime",
    ),
    castColumn("meta", ids.map((_, i) => (i % 3 === 0 ? null : { i, tags: ["a"] })), "json"),
  ];
}

async function readBack(path: string) {
  const bytes = await Deno.readFile(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const metadata = parquetMetadata(buffer as ArrayBuffer);
  const schema = metadata.schema.slice(1).map((e) => ({
    name: e.name,
    type: e.type,
    repetition: e.repetition_type,
    converted: e.converted_type ?? null,
    logical: e.logical_type ? JSON.stringify(e.logical_type) : null,
  }));
  const rows = await parquetReadObjects({ file: buffer as ArrayBuffer, metadata, utf8: true });
  return { schema, rows, numRows: Number(metadata.num_rows) };
}

Deno.test("polars and hyparquet-writer write the same schema and rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-engines-" });
  try {
    const columns = dataset(1000);
    // hyparquet reads snappy, not zstd: the polars file is written with snappy for the reader.
    await writeParquetFile(toFrame(columns), join(dir, "polars.parquet"), {
      compression: "snappy",
    });
    await writeParquetColumns(columns, 1000, join(dir, "js.parquet"));
    const polars = await readBack(join(dir, "polars.parquet"));
    const js = await readBack(join(dir, "js.parquet"));
    assertEquals(js.schema, polars.schema);
    assertEquals(js.numRows, 1000);
    assertEquals(js.rows, polars.rows);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a merge by key gives the same rows on polars and without FFI", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-merge-engines-" });
  try {
    const results: unknown[] = [];
    for (const engine of ["polars", "js"] as const) {
      forceParquetEngine(engine);
      const asset = join(dir, engine, "parquet", "Orders");
      for (
        const [run, from, to, day] of [["r1", 0, 60, "1997-01-01"], [
          "r2",
          40,
          90,
          "1997-02-01",
        ]] as const
      ) {
        const staging = await beginWrite(asset, { mode: "merge", runId: run });
        const n = to - from;
        const ids = Array.from({ length: n }, (_, i) => from + i);
        await writeParquetColumns(
          [
            castColumn("OrderID", ids, "int64"),
            castColumn("ShipCountry", ids.map((i) => ["France", "USA", null][i % 3]), "string"),
            castColumn("OrderDate", ids.map(() => day), "datetime"),
            castColumn("run", ids.map(() => run), "string"),
          ],
          n,
          join(staging, "part-00001.parquet"),
        );
        await mergeByKey(asset, {
          runId: run,
          primaryKey: ["OrderID"],
          orderBy: "OrderDate",
          partitionBy: ["ShipCountry"],
          compression: "snappy",
        });
      }
      const files = await parquetFiles(asset);
      const seen: Record<string, unknown[]> = {};
      for (const file of files) {
        seen[file.slice(asset.length)] = (await readBack(file)).rows;
      }
      results.push(seen);
    }
    assertEquals(results[1], results[0]);
    const all = Object.values(results[1] as Record<string, { OrderID: bigint; run: string }[]>)
      .flat();
    assertEquals(all.length, 90);
    assertEquals(all.filter((r) => r.run === "r2").length, 50);
  } finally {
    forceParquetEngine(undefined);
    await Deno.remove(dir, { recursive: true });
  }
});
