/**
 * Parquet without native code: typed columns written by hyparquet-writer (pure JavaScript, so it
 * runs under `--deny-ffi` and on Deno Deploy) with the schema polars writes for the same column
 * types — INT64, DOUBLE, UTF8 strings, BOOLEAN, DATE, TIMESTAMP(MILLIS, UTC) for datetime,
 * TIMESTAMP(MICROS) without a zone for timestamp, TIMESTAMP(MICROS, UTC) for timestamp_tz and
 * DECIMAL(p,s) — so a part has the same columns and values whichever engine wrote it. Takes typed
 * columns or the SQL extractor's column vectors (converted column by column, no row objects).
 * Snappy compression (hyparquet-writer's built-in codec); written to a temporary name, fsynced and
 * renamed into place like every part. Also reads Parquet back (hyparquet) for merges on this path.
 *
 * Where it differs from polars: a decimal is stored as INT32 (precision ≤ 9), INT64 (≤ 18) or a
 * 16-byte FIXED_LEN_BYTE_ARRAY, with its exact unscaled value, which is how polars stores it too
 * (see {@link decimalPhysical}); but reading Parquet back ({@link readParquetColumns}, used by
 * merges without FFI) goes through hyparquet, which turns a DECIMAL into a JavaScript number:
 * decimals of more than 15 significant digits are not exact after such a merge. The extractor
 * (replace and append) never reads its parts back.
 * @module
 */
import { createHash } from "node:crypto";
import { ByteWriter, parquetWrite } from "hyparquet-writer";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { writeFileAtomic } from "../core/atomic_file.ts";
import { parquetFooterBytes } from "./parquet_rows.ts";
import {
  type CellValue,
  type ColumnType,
  decimalOf,
  decimalType,
  decimalUnscaled,
  type TypedColumn,
} from "./column_types.ts";
import type { PartTarget, PartWriter, WrittenPart } from "./part_writer.ts";
import { isDict, type VectorColumn } from "./vectors.ts";

/** A parquet schema element as hyparquet-writer takes it. */
type SchemaElement = Parameters<typeof parquetWrite>[0]["schema"] extends (infer E)[] | undefined
  ? E
  : never;

const MS_PER_DAY = 86_400_000;

/** The schema element polars writes for a column type (OPTIONAL: every column may hold nulls). */
export function schemaElementOf(name: string, type: ColumnType): SchemaElement {
  const base = { name, repetition_type: "OPTIONAL" } as const;
  const decimal = decimalOf(type);
  if (decimal) {
    const { precision, scale } = decimal;
    const physical = decimalPhysical(precision);
    return {
      ...base,
      ...physical,
      converted_type: "DECIMAL",
      precision,
      scale,
      logical_type: { type: "DECIMAL", precision, scale },
    };
  }
  switch (type) {
    case "int64":
      return { ...base, type: "INT64" };
    case "float64":
      return { ...base, type: "DOUBLE" };
    case "boolean":
      return { ...base, type: "BOOLEAN" };
    case "date":
      return { ...base, type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" } };
    case "datetime":
      return {
        ...base,
        type: "INT64",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" },
      };
    case "timestamp":
    case "timestamp_tz":
      return {
        ...base,
        type: "INT64",
        logical_type: {
          type: "TIMESTAMP",
          isAdjustedToUTC: type === "timestamp_tz",
          unit: "MICROS",
        },
      };
    default:
      return {
        ...base,
        type: "BYTE_ARRAY",
        converted_type: "UTF8",
        logical_type: { type: "STRING" },
      };
  }
}

/**
 * The physical type of a `decimal(precision,…)`: INT32 up to 9 digits, INT64 up to 18, else a
 * 16-byte FIXED_LEN_BYTE_ARRAY (two's complement, big-endian), as polars writes it.
 */
export function decimalPhysical(
  precision: number,
): { type: "INT32" | "INT64" } | { type: "FIXED_LEN_BYTE_ARRAY"; type_length: number } {
  if (precision <= 9) return { type: "INT32" };
  if (precision <= 18) return { type: "INT64" };
  return { type: "FIXED_LEN_BYTE_ARRAY", type_length: 16 };
}

const isIntegerLike = (type: ColumnType) =>
  type === "int64" || type === "datetime" || type === "timestamp" || type === "timestamp_tz";

function columnData(column: TypedColumn): unknown[] {
  const { type, values } = column;
  if (isIntegerLike(type)) {
    return values.map((v) => v === null ? null : typeof v === "bigint" ? v : BigInt(v as number));
  }
  // A decimal cell is its exact text (`"12.50"`); hyparquet-writer takes the unscaled bigint.
  if (decimalOf(type)) return values.map((v) => v === null ? null : decimalUnscaled(v as string));
  return values as unknown[];
}

/**
 * The values of rows `0..length-1` of a column vector as hyparquet-writer takes them (one
 * column, no row objects): bigints for the 64-bit integer types, numbers (days for dates),
 * booleans, text, and unscaled bigints for decimals; null where the row is null.
 */
export function vectorData(column: VectorColumn, length: number): unknown[] {
  const out = new Array<unknown>(length);
  const values = column.values;
  if (Array.isArray(values) || isDict(values)) {
    const decimal = decimalOf(column.type) !== undefined;
    for (let i = 0; i < length; i++) {
      let v: string | null;
      if (Array.isArray(values)) v = values[i];
      else {
        const code = values.codes[i];
        v = code === 0 ? null : values.dict[code - 1];
      }
      out[i] = v === null ? null : decimal ? decimalUnscaled(v) : v;
    }
    return out;
  }
  const valid = column.valid;
  const integer = isIntegerLike(column.type);
  const boolean = column.type === "boolean";
  for (let i = 0; i < length; i++) {
    if (valid !== null && valid[i] === 0) {
      out[i] = null;
      continue;
    }
    const v = values[i];
    out[i] = integer ? (typeof v === "bigint" ? v : BigInt(v)) : boolean ? v === 1 : v;
  }
  return out;
}

/** Options of {@link encodeParquet}. */
export interface EncodeParquetOptions {
  /** Rows per row group. @default 100_000 */
  rowGroupRows?: number;
}

/**
 * Encodes typed columns (each `length` long) as one Parquet file in memory.
 *
 * @example
 * ```ts
 * import { castColumn } from "./column_types.ts";
 * import { encodeParquet } from "./parquet_js.ts";
 * const bytes = encodeParquet([castColumn("id", [1, 2], "int64")], 2);
 * ```
 */
export function encodeParquet(
  columns: readonly TypedColumn[],
  length: number,
  options: EncodeParquetOptions = {},
): Uint8Array {
  return encodeColumnData(
    columns.map((c) => ({ name: c.name, type: c.type, data: columnData(c) })),
    length,
    options,
  );
}

/** Same as {@link encodeParquet} for column vectors (the SQL extractor's batches). */
export function encodeParquetVectors(
  columns: readonly VectorColumn[],
  length: number,
  options: EncodeParquetOptions = {},
): Uint8Array {
  return encodeColumnData(
    columns.map((c) => ({ name: c.name, type: c.type, data: vectorData(c, length) })),
    length,
    options,
  );
}

function encodeColumnData(
  columns: readonly { name: string; type: ColumnType; data: unknown[] }[],
  length: number,
  options: EncodeParquetOptions,
): Uint8Array {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    columnData: columns.map((c) => ({ name: c.name, data: c.data as never })),
    schema: [
      { name: "root", num_children: columns.length },
      ...columns.map((c) => schemaElementOf(c.name, c.type)),
    ],
    codec: "SNAPPY",
    statistics: true,
    rowGroupSize: options.rowGroupRows ?? 100_000,
    createdBy: "tidemark (hyparquet-writer)",
  });
  // `length` is implied by the columns; kept in the signature to match the polars writer.
  void length;
  return new Uint8Array(writer.getBuffer());
}

/**
 * Writes typed columns to `path` as Parquet, atomically (temporary name, fsync, rename); resolves
 * to the file's size and SHA-256. Creates the folder.
 */
export async function writeParquetColumns(
  columns: readonly TypedColumn[],
  length: number,
  path: string,
  options: EncodeParquetOptions = {},
): Promise<{ bytes: number; sha256: string }> {
  return await writeParquetBytes(encodeParquet(columns, length, options), path);
}

async function writeParquetBytes(
  data: Uint8Array,
  path: string,
): Promise<{ bytes: number; sha256: string }> {
  await writeFileAtomic(path, data);
  return { bytes: data.length, sha256: createHash("sha256").update(data).digest("hex") };
}

/**
 * The part writer of the no-FFI path: one Parquet file per batch per partition, like the polars
 * one, on the caller's thread (encoding 10 k rows takes a few milliseconds).
 *
 * @example
 * ```ts
 * import { createJsParquetWriter } from "./parquet_js.ts";
 * createJsParquetWriter().extension; // "parquet"
 * ```
 */
export function createJsParquetWriter(options: EncodeParquetOptions = {}): PartWriter {
  return {
    extension: "parquet",
    streamed: false,
    async write(target: PartTarget, columns: TypedColumn[], length: number): Promise<WrittenPart> {
      const { bytes, sha256 } = await writeParquetColumns(columns, length, target.path, options);
      return { ...target, rows: length, bytes, sha256, complete: true };
    },
    async writeVectors(
      target: PartTarget,
      columns: VectorColumn[],
      length: number,
    ): Promise<WrittenPart> {
      const data = encodeParquetVectors(columns, length, options);
      const { bytes, sha256 } = await writeParquetBytes(data, target.path);
      return { ...target, rows: length, bytes, sha256, complete: true };
    },
    close: () => Promise.resolve([]),
    abort: () => Promise.resolve(),
  };
}

/** A Parquet file read back as typed columns (the types the sink wrote). */
export interface ReadParquet {
  /** Columns in file order. */
  columns: TypedColumn[];
  /** Rows. */
  length: number;
}

/**
 * Reads a Parquet file written by either engine into typed columns: INT64 → int64 (number, or
 * bigint beyond 2^53), DOUBLE → float64, UTF8 → string, BOOLEAN → boolean, DATE → date (days),
 * TIMESTAMP → datetime (ms). Needs no native code (hyparquet); snappy or uncompressed files.
 * `columns` reads only those columns (a merge's key scan).
 */
export async function readParquetColumns(
  path: string,
  options: { columns?: readonly string[] } = {},
): Promise<ReadParquet> {
  const bytes = await Deno.readFile(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const metadata = parquetMetadata(buffer as ArrayBuffer);
  const wanted = options.columns;
  const elements = metadata.schema.slice(1).filter((e) => !wanted || wanted.includes(e.name));
  const types = elements.map((e) => columnTypeOfElement(e));
  const rows = await parquetReadObjects({
    file: buffer as ArrayBuffer,
    metadata,
    utf8: true,
    ...(wanted ? { columns: elements.map((e) => e.name) } : {}),
    // Microseconds stay exact (the default parser makes a Date of milliseconds).
    parsers: { timestampFromMicroseconds: (micros: bigint) => micros as unknown as Date },
  }) as Record<string, unknown>[];
  const columns = elements.map((e, i): TypedColumn => {
    const type = types[i];
    let nulls = 0;
    let big = false;
    const values = rows.map((row): CellValue => {
      const v = row[e.name];
      if (v === null || v === undefined) {
        nulls++;
        return null;
      }
      switch (type) {
        case "int64":
        case "timestamp":
        case "timestamp_tz": {
          const n = typeof v === "bigint" ? v : BigInt(v as number);
          if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
            big = true;
            return n;
          }
          return Number(n);
        }
        case "datetime":
          return v instanceof Date ? v.getTime() : Number(v as bigint);
        case "date":
          return v instanceof Date ? Math.round(v.getTime() / MS_PER_DAY) : Number(v);
        default: {
          // A DECIMAL comes back as a number (exact up to 15 significant digits).
          const decimal = decimalOf(type);
          if (decimal) return (v as number).toFixed(decimal.scale);
          return v as CellValue;
        }
      }
    });
    return { name: e.name, type, values, nulls, big };
  });
  return { columns, length: Number(metadata.num_rows) };
}

function columnTypeOfElement(
  e: {
    type?: string;
    converted_type?: string;
    logical_type?: { type: string; unit?: string; isAdjustedToUTC?: boolean };
    precision?: number;
    scale?: number;
  },
): ColumnType {
  if (e.converted_type === "DECIMAL" || e.logical_type?.type === "DECIMAL") {
    return decimalType(e.precision ?? 38, e.scale ?? 0);
  }
  if (e.logical_type?.type === "TIMESTAMP" && e.logical_type.unit === "MICROS") {
    return e.logical_type.isAdjustedToUTC ? "timestamp_tz" : "timestamp";
  }
  if (e.converted_type === "TIMESTAMP_MICROS") return "timestamp_tz";
  if (e.logical_type?.type === "TIMESTAMP" || e.converted_type === "TIMESTAMP_MILLIS") {
    return "datetime";
  }
  if (e.logical_type?.type === "DATE" || e.converted_type === "DATE") return "date";
  switch (e.type) {
    case "INT64":
    case "INT32":
      return "int64";
    case "DOUBLE":
    case "FLOAT":
      return "float64";
    case "BOOLEAN":
      return "boolean";
    default:
      return "string";
  }
}

/** The metadata of a Parquet file, as hyparquet reads it. */
export type ParquetFooter = ReturnType<typeof parquetMetadata>;

/**
 * The metadata of a Parquet file (schema, row groups, column statistics), from its footer alone:
 * no data page is read, whatever the compression.
 */
export async function parquetFooter(path: string): Promise<ParquetFooter> {
  return parquetMetadata((await parquetFooterBytes(path)).buffer as ArrayBuffer);
}

/** Each top-level column of a footer's schema with the type it reads back as. */
export function footerColumns(footer: ParquetFooter): { name: string; type: ColumnType }[] {
  return footer.schema.slice(1).map((e) => ({ name: e.name, type: columnTypeOfElement(e) }));
}
