/**
 * Derived datasets (`derive:` in the config): a dataset built from harvested ones with polars,
 * lazily — scan the assets' Parquet parts, join, add computed columns, write partitioned
 * Parquet. E.g. `line_items` = `"Order Details"` ⋈ `Orders` on `OrderID` with
 * `extended_price = UnitPrice · Quantity · (1 − Discount)`, partitioned by `year(OrderDate)`.
 *
 * Memory stays flat: the partition values are found first (a small query), then each partition
 * is streamed from the scans straight into its Parquet part with `sinkParquet`, so at most one
 * partition's pipeline is in flight. The derived asset is rebuilt whole and swapped in atomically
 * (write mode `replace`).
 * @module
 */
import pl from "nodejs-polars";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { commitTemporaryFile, temporaryPathFor } from "../core/atomic_file.ts";
import { ConfigError } from "../core/errors.ts";
import {
  encodePartitionValue,
  NULL_PARTITION,
  parsePartitionSpecs,
  type PartitionSpec,
} from "../sinks/partition.ts";
import type { WrittenPart } from "../sinks/part_writer.ts";
import { beginWrite, commitReplace, parquetFiles } from "../sinks/write_mode.ts";
import { expressionColumns, parseExpression } from "./expression.ts";
import { toPolarsExpr } from "./expression_polars.ts";

/** Options of {@link deriveDataset}. */
export interface DeriveOptions {
  /** Run id: names the parts and the staging folder. */
  runId: string;
  /** The asset the rows come from (`<out>/parquet/<from>/`). */
  from: string;
  /** An asset joined to it: `on` columns present on both sides. @default no join */
  join?: { asset: string; on: string[]; how?: "inner" | "left" };
  /** Computed columns: name → arithmetic expression over columns (see expression.ts). @default {} */
  columns?: Record<string, string>;
  /** Partitions of the output, as for sinks (`year(OrderDate)`, columns, …). @default [] */
  partitionBy?: string[];
  /** Parquet compression. @default "zstd" */
  compression?: "zstd" | "snappy" | "none";
  /** Parquet rows per row group. @default 100_000 */
  rowGroupRows?: number;
  /** Time for `load_date`/`load_time` partitions. @default now */
  loadTime?: Date;
}

/** What a derive wrote. */
export interface DeriveResult {
  /** Rows written. */
  rows: number;
  /** Parts written, relative to `<out>/parquet/<name>/`. */
  parts: WrittenPart[];
}

/**
 * Builds the derived dataset `name` under `<out>/parquet/<name>/` and swaps it in atomically.
 * Throws {@link ConfigError} for a missing input asset, join column or expression column.
 *
 * @example
 * ```ts
 * import { deriveDataset } from "./derive.ts";
 * await deriveDataset("out", "line_items", {
 *   runId: "r1",
 *   from: "Order Details",
 *   join: { asset: "Orders", on: ["OrderID"] },
 *   columns: { extended_price: "UnitPrice * Quantity * (1 - Discount)" },
 *   partitionBy: ["year(OrderDate)"],
 * });
 * ```
 */
export async function deriveDataset(
  out: string,
  name: string,
  options: DeriveOptions,
): Promise<DeriveResult> {
  const frame = await derivedFrame(out, options);

  const specs = parsePartitionSpecs(options.partitionBy ?? []);
  const dtypes = (await frame.limit(0).collect()).schema as Record<string, pl.DataType>;
  const keys = specs.map((spec, i) =>
    partitionKey(spec, dtypes, options.loadTime ?? new Date()).alias(`__key${i}`)
  );
  const dir = join(out, "parquet", name);
  const staging = await beginWrite(dir, { mode: "replace", runId: options.runId });
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  await Deno.mkdir(staging, { recursive: true });

  const combos: string[][] = [];
  if (keys.length === 0) {
    combos.push([]);
  } else {
    const distinct = await frame.select(...keys).unique().collect();
    const columns = keys.map((_, i) => distinct.getColumn(`__key${i}`).toArray() as string[]);
    for (let r = 0; r < distinct.height; r++) combos.push(columns.map((c) => c[r]));
    combos.sort((a, b) => a.join("/").localeCompare(b.join("/")));
  }
  const parts: WrittenPart[] = [];
  let rows = 0;
  for (const combo of combos) {
    let slice = frame;
    if (keys.length > 0) {
      const conditions = combo.map((value, i) =>
        partitionKey(specs[i], dtypes, options.loadTime ?? new Date()).eq(pl.lit(value))
      );
      slice = frame.filter(conditions.reduce((a, b) => a.and(b)));
    }
    const part = await writeSlice(slice, staging, dir, specs, combo, options);
    rows += part.rows;
    parts.push(part);
  }
  await commitReplace(dir, { runId: options.runId });
  return { rows, parts };
}

/** The derived frame: `from`, joined with `join` when given, with the computed `columns`. */
async function derivedFrame(out: string, options: DeriveOptions): Promise<pl.LazyDataFrame> {
  let frame = await scanAsset(out, options.from, "derive.from");
  if (options.join) {
    const right = await scanAsset(out, options.join.asset, "derive.join.asset");
    const left = frame;
    for (const key of options.join.on) {
      for (const [side, f] of [[options.from, left], [options.join.asset, right]] as const) {
        if (!schemaOf(f).includes(key)) {
          throw new ConfigError("bad derive", [{
            path: "derive.join.on",
            message: `join column "${key}" is not in asset "${side}"`,
          }]);
        }
      }
    }
    frame = left.join(right, { on: options.join.on, how: options.join.how ?? "inner" });
  }
  const available = schemaOf(frame);
  const computed = Object.entries(options.columns ?? {}).map(([column, text]) => {
    const where = `derive.columns.${column}`;
    const node = parseExpression(text, where);
    const missing = expressionColumns(node).filter((c) => !available.includes(c));
    if (missing.length > 0) {
      throw new ConfigError("bad derive", [{
        path: where,
        message: `${JSON.stringify(text)} reads ${missing.map((c) => `"${c}"`).join(", ")}, ` +
          `not among the columns (${available.join(", ")})`,
      }]);
    }
    return toPolarsExpr(node).alias(column);
  });
  if (computed.length > 0) frame = frame.withColumns(...computed);
  return frame;
}

/** Writes one partition's rows as a part in staging: temporary name, then committed in place. */
async function writeSlice(
  slice: pl.LazyDataFrame,
  staging: string,
  dir: string,
  specs: ReturnType<typeof parsePartitionSpecs>,
  combo: string[],
  options: DeriveOptions,
): Promise<WrittenPart> {
  const folder = specs.map((spec, i) => `${encodePartitionValue(spec.key)}=${encodeKey(combo[i])}`)
    .join("/");
  const relativePath = folder
    ? `${folder}/part-${options.runId}-00001.parquet`
    : `part-${options.runId}-00001.parquet`;
  const path = join(staging, relativePath);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  const tmp = temporaryPathFor(path);
  await slice.sinkParquet(tmp, {
    compression: options.compression === "none" ? "uncompressed" : options.compression ?? "zstd",
    rowGroupSize: options.rowGroupRows ?? 100_000,
    maintainOrder: true,
  }).collect();
  const count = (await pl.scanParquet(tmp).select(pl.len().alias("n")).collect())
    .getColumn("n").get(0) as number;
  const data = await Deno.readFile(tmp);
  await commitTemporaryFile(tmp, path);
  return {
    path: join(dir, relativePath),
    relativePath,
    partition: Object.fromEntries(specs.map((s, i) => [s.key, combo[i]])),
    rows: count,
    bytes: data.length,
    sha256: createHash("sha256").update(data).digest("hex"),
    complete: true,
  };
}

function encodeKey(value: string): string {
  return value === NULL_PARTITION ? value : encodePartitionValue(value);
}

async function scanAsset(out: string, asset: string, where: string): Promise<pl.LazyDataFrame> {
  const files = await parquetFiles(join(out, "parquet", asset));
  if (files.length === 0) {
    throw new ConfigError("bad derive", [{
      path: where,
      message: `asset "${asset}" has no Parquet under ${join(out, "parquet", asset)}; ` +
        `harvest it first or fix the name`,
    }]);
  }
  // Parts of different runs may differ in width or numeric type: relax to a common schema.
  const scans = files.map((f) => pl.scanParquet(f));
  return scans.length === 1 ? scans[0] : pl.concat(scans, { how: "diagonalRelaxed" });
}

function schemaOf(frame: pl.LazyDataFrame): string[] {
  return frame.columns;
}

/** The text of a partition value as a polars expression, mirroring lib/sinks/partition.ts. */
function partitionKey(
  spec: PartitionSpec,
  dtypes: Record<string, pl.DataType>,
  loadTime: Date,
): pl.Expr {
  if (spec.kind === "load_date" || spec.kind === "load_time") {
    const iso = loadTime.toISOString();
    const text = spec.kind === "load_date"
      ? iso.slice(0, 10)
      : `${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
    return pl.lit(text);
  }
  const column = spec.column!;
  const dtype = dtypes[column];
  if (!dtype) {
    throw new ConfigError("bad derive", [{
      path: "derive.partition_by",
      message: `"${spec.source}" reads column "${column}", which the derived rows do not have`,
    }]);
  }
  const col = pl.col(column);
  let text: pl.Expr;
  if (spec.kind === "column") {
    text = col.cast(pl.Utf8);
  } else if (dtype.equals(pl.String) || dtype.equals(pl.Utf8)) {
    // Date texts (`1996-07-04 00:00:00.000`, ISO-8601) carry year, month and day in place.
    text = spec.kind === "year"
      ? col.str.slice(0, 4)
      : spec.kind === "month"
      ? col.str.slice(5, 2)
      : col.str.slice(8, 2);
  } else {
    const part = spec.kind === "year"
      ? col.dt.year()
      : spec.kind === "month"
      ? col.dt.month()
      : col.dt.day();
    text = part.cast(pl.Utf8).str.padStart(spec.kind === "year" ? 4 : 2, "0");
  }
  return text.fillNull(pl.lit(NULL_PARTITION));
}
