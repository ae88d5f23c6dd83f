/**
 * The polars engine of `mergeByKey` (write_mode.ts): reads the asset's current parts and the
 * run's staged parts, keeps the newest row of each key, and writes the merged generation. Loaded
 * by a dynamic import only when FFI is permitted; `merge_js.ts` does the same without native code.
 * @module
 */
import pl from "nodejs-polars";
import { join } from "node:path";
import { ContractError } from "../core/errors.ts";
import { writeParquetFile } from "./parquet.ts";
import { groupByPartition, parsePartitionSpecs } from "./partition.ts";
import type { MergedRows, MergeSpec } from "./merge_js.ts";

/**
 * Merges `currentFiles` (source 0) and `incomingFiles` (source 1) by key with polars; null when
 * there is no row at all.
 */
export function mergeWithPolars(
  currentFiles: readonly string[],
  incomingFiles: readonly string[],
  options: MergeSpec,
): MergedRows | null {
  const frames: pl.DataFrame[] = [];
  let incoming = 0;
  for (const [source, files] of [[0, currentFiles], [1, incomingFiles]] as const) {
    for (const file of files) {
      const frame = pl.readParquet(file);
      if (source === 1) incoming += frame.height;
      frames.push(frame.withColumns(pl.lit(source).cast(pl.Int32).alias("__source")));
    }
  }
  if (frames.length === 0) return null;
  const combined = pl.concat(frames, { how: "diagonalRelaxed" }).withRowIndex("__seq");
  for (const key of options.primaryKey) {
    if (!combined.columns.includes(key)) {
      throw new ContractError(
        `merge key column "${key}" is not in the data (columns: ${
          combined.columns.filter((c) => !c.startsWith("__")).join(", ")
        }); fix primary_key`,
      );
    }
    const nulls = combined.getColumn(key).nullCount();
    if (nulls > 0) {
      throw new ContractError(
        `merge needs a value in every key column but ${nulls} row(s) have null "${key}"; ` +
          `fix the source or the asset's primary_key`,
      );
    }
  }
  if (options.orderBy && !combined.columns.includes(options.orderBy)) {
    throw new ContractError(
      `merge order column "${options.orderBy}" is not in the data; fix the incremental field`,
    );
  }
  const order = [...(options.orderBy ? [options.orderBy] : []), "__source", "__seq"];
  // Which rows survive is decided on the key and order columns alone, then every column is
  // gathered once: sorting the whole frame twice held up to four copies of the asset (a 500-row
  // change merged into 1 M rows: 581 MB peak, now 418 MB, and 4.3 s → 3.0 s).
  const decide = [...new Set([...options.primaryKey, ...order])];
  const chosen = combined
    .select(...decide)
    .sort({ by: order, nullsLast: false, maintainOrder: true })
    .unique({ subset: options.primaryKey, keep: "last", maintainOrder: true })
    .sort({ by: options.primaryKey, maintainOrder: true })
    .getColumn("__seq");
  const merged = combined.drop("__source", "__seq").select(pl.all().gather(chosen));
  return {
    rows: merged.height,
    incoming,
    write: (generation) => writeGeneration(merged, generation, options),
  };
}

async function writeGeneration(
  frame: pl.DataFrame,
  generation: string,
  options: MergeSpec,
): Promise<string[]> {
  const specs = parsePartitionSpecs(options.partitionBy ?? []);
  const columns: Record<string, unknown[]> = {};
  for (const spec of specs) {
    if (!spec.column) continue;
    const series = frame.getColumn(spec.column);
    // Int64 through text so partition values of ids beyond 2^53 stay exact.
    columns[spec.column] = series.dtype.equals(pl.Int64)
      ? series.cast(pl.Utf8).toArray()
      : series.toArray();
  }
  const groups = groupByPartition(specs, { columns, length: frame.height });
  const parts: string[] = [];
  const write = { compression: options.compression, rowGroupRows: options.rowGroupRows };
  if (groups.length === 1) {
    const relative = join(groups[0].path, "part-merged-00001.parquet");
    await writeParquetFile(frame, join(generation, relative), write);
    return [relative];
  }
  const groupOf = new Int32Array(frame.height);
  groups.forEach((group, g) => {
    for (const row of group.rows) groupOf[row] = g;
  });
  const indexed = frame.withColumns(pl.Series("__group", groupOf));
  for (let g = 0; g < groups.length; g++) {
    const relative = join(groups[g].path, "part-merged-00001.parquet");
    const subset = indexed.filter(pl.col("__group").eq(pl.lit(g))).drop("__group");
    await writeParquetFile(subset, join(generation, relative), write);
    parts.push(relative);
  }
  return parts;
}
