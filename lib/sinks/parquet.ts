/**
 * Parquet parts through nodejs-polars: typed columns become polars Series of fixed dtypes
 * (Int64, Float64, Utf8, Boolean, Date, Datetime(ms, UTC), Datetime(µs), Datetime(µs, UTC),
 * Decimal(p, s)), written with row groups of
 * `rowGroupRows` rows and the chosen compression, to a temporary name renamed into place. The
 * sinks reach it through `parquet_writer.ts`, which loads it only on the thread that writes.
 * @module
 */
import pl from "nodejs-polars";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { commitTemporaryFile, temporaryPathFor } from "../core/atomic_file.ts";
import { encodeArrowStream } from "./arrow_ipc.ts";
import { type ColumnType, decimalOf, type TypedColumn } from "./column_types.ts";

/** The polars dtype each column type is written as. */
export function polarsTypeOf(type: ColumnType): pl.DataType {
  const decimal = decimalOf(type);
  if (decimal) return pl.Decimal(decimal.precision, decimal.scale);
  switch (type) {
    case "int64":
      return pl.Int64;
    case "float64":
      return pl.Float64;
    case "boolean":
      return pl.Bool;
    case "date":
      return pl.Date;
    case "datetime":
      return pl.Datetime("ms", "UTC");
    case "timestamp":
      return pl.Datetime("us");
    case "timestamp_tz":
      return pl.Datetime("us", "UTC");
    default:
      return pl.Utf8;
  }
}

/**
 * Builds a polars Series of the column's fixed dtype. Int64 columns holding bigints go through a
 * `BigInt64Array` so values beyond 2^53 stay exact; null-free numeric columns go through typed
 * arrays, which is several times faster than boxing each value.
 *
 * @example
 * ```ts
 * import { castColumn } from "./column_types.ts";
 * import { toSeries } from "./parquet.ts";
 * toSeries(castColumn("id", [1n, 2n ** 60n], "int64")).dtype; // Int64
 * ```
 */
export function toSeries(column: TypedColumn): pl.Series {
  const { name, type, values, nulls } = column;
  if (decimalOf(type)) return pl.Series(name, values, pl.Utf8).cast(polarsTypeOf(type));
  switch (type) {
    case "int64":
      return column.big ? bigIntSeries(column) : integerSeries(name, values, nulls);
    case "float64":
      return nulls === 0
        ? pl.Series(name, Float64Array.from(values as number[]))
        : pl.Series(name, values, pl.Float64);
    case "datetime":
      return integerSeries(name, values, nulls).cast(pl.Datetime("ms", "UTC"));
    case "timestamp":
    case "timestamp_tz":
      return (column.big ? bigIntSeries(column) : integerSeries(name, values, nulls))
        .cast(polarsTypeOf(type));
    case "date":
      return integerSeries(name, values, nulls).cast(pl.Int32).cast(pl.Date);
    case "boolean":
      return pl.Series(name, values, pl.Bool);
    default:
      return pl.Series(name, values, pl.Utf8);
  }
}

function integerSeries(name: string, values: unknown[], nulls: number): pl.Series {
  // Safe integers convert exactly from Float64; the cast is a cheap columnar pass.
  return nulls === 0
    ? pl.Series(name, Float64Array.from(values as number[])).cast(pl.Int64)
    : pl.Series(name, values, pl.Int64);
}

function bigIntSeries(column: TypedColumn): pl.Series {
  const { name, values, nulls } = column;
  const ints = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null) ints[i] = typeof v === "bigint" ? v : BigInt(v as number);
  }
  // The typings omit BigInt64Array, which polars reads natively as Int64.
  const series = pl.Series(name, ints as unknown as number[]);
  if (nulls === 0) return series;
  const valid = pl.Series("valid", values.map((v) => v !== null), pl.Bool);
  const missing = pl.Series(name, new Array(values.length).fill(null), pl.Int64);
  return series.zipWith(valid, missing).rename(name);
}

/**
 * Builds a DataFrame from typed columns (in their order), through one Arrow IPC stream
 * ({@link encodeArrowStream}): one native call for the whole batch instead of one per text cell
 * (a 10 k-row Orders batch: 18 ms through Series, 7 ms this way). Same dtypes and values as
 * {@link toSeries}.
 */
export function toFrame(columns: readonly TypedColumn[]): pl.DataFrame {
  if (columns.length === 0) return pl.DataFrame([]);
  const length = columns[0].values.length;
  return frameFromArrow(encodeArrowStream(columns, length));
}

/** Reads an Arrow IPC stream made by {@link encodeArrowStream} into a DataFrame (no copy in JS). */
export function frameFromArrow(bytes: Uint8Array): pl.DataFrame {
  return pl.readIPCStream(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Options of {@link writeParquetFile}. */
export interface ParquetFileOptions {
  /** Compression codec of every column chunk. @default "zstd" */
  compression?: "zstd" | "snappy" | "none";
  /** Rows per row group. @default 100_000 */
  rowGroupRows?: number;
  /**
   * Temporary path written before the rename, in the same folder (the Parquet thread gets it
   * from the sink's thread, whose counter names temporary files). @default temporaryPathFor(path)
   */
  tmp?: string;
}

/**
 * Writes a DataFrame to `path` as Parquet, atomically (temporary name, fsync, rename), and
 * returns its size and SHA-256. Creates the folder.
 */
export async function writeParquetFile(
  frame: pl.DataFrame,
  path: string,
  options: ParquetFileOptions = {},
): Promise<{ bytes: number; sha256: string }> {
  const tmp = options.tmp ?? temporaryPathFor(path);
  try {
    await frame.lazy().sinkParquet(tmp, {
      compression: options.compression === "none" ? "uncompressed" : options.compression ?? "zstd",
      rowGroupSize: options.rowGroupRows ?? 100_000,
      maintainOrder: true,
      statistics: true,
      mkdir: true,
    }).collect();
    const data = await Deno.readFile(tmp);
    await commitTemporaryFile(tmp, path);
    return { bytes: data.length, sha256: createHash("sha256").update(data).digest("hex") };
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}
