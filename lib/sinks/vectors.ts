/**
 * Column vectors: a batch's columns as typed arrays (numbers in a `Float64Array`, days in an
 * `Int32Array`, flags in a `Uint8Array`, a validity byte per row) and text as arrays or
 * dictionary codes. The SQL extractor builds them on its reader thread and moves them across
 * threads without copying; the sinks partition them and encode them to Arrow without boxing a
 * cell ({@link ./arrow_ipc.ts}). {@link toTypedColumn} turns one into the boxed form the CSV and
 * JSONL writers take.
 * @module
 */
import type { CellValue, ColumnType, TypedColumn } from "./column_types.ts";

/** Dictionary-encoded text: row `i` is `dict[codes[i] - 1]`, null for code 0. */
export interface DictText {
  /** One code per row. */
  codes: Uint32Array;
  /** The distinct values, each once. */
  dict: string[];
}

/** Types held as 64-bit integers (timestamps as their epoch count). */
export type IntegerLikeType = "int64" | "datetime" | "timestamp" | "timestamp_tz";

/**
 * One column of a batch. `valid[i] === 0` marks row `i` null (null `valid`: no nulls). Integer
 * values (int64, datetime ms, timestamp µs) sit in a `Float64Array` while every one is a safe
 * integer and in a `BigInt64Array` once one is not. Text columns (string, json, decimal text)
 * mark nulls in their values.
 */
export type VectorColumn =
  | {
    name: string;
    type: IntegerLikeType;
    values: Float64Array | BigInt64Array;
    valid: Uint8Array | null;
  }
  | { name: string; type: "float64"; values: Float64Array; valid: Uint8Array | null }
  | { name: string; type: "date"; values: Int32Array; valid: Uint8Array | null }
  | { name: string; type: "boolean"; values: Uint8Array; valid: Uint8Array | null }
  | { name: string; type: ColumnType; values: (string | null)[] | DictText; valid: null };

/** A batch of rows as vectors, one per column, in output order. */
export interface VectorBatch {
  /** Rows in the batch. */
  length: number;
  /** The columns. */
  columns: VectorColumn[];
}

/** True for a column whose values are text (an array or a dictionary). */
export function isTextVector(
  column: VectorColumn,
): column is Extract<VectorColumn, { valid: null }> {
  return Array.isArray(column.values) || isDict(column.values);
}

/** True when text values are dictionary-encoded. */
export function isDict(values: unknown): values is DictText {
  return typeof values === "object" && values !== null && "codes" in values;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Row `i` of a column as a cell ({@link CellValue}): numbers (bigint beyond 2^53), booleans,
 * days for dates, text, or null.
 */
export function cellAt(column: VectorColumn, i: number): CellValue {
  if (column.valid !== null && column.valid[i] === 0) return null;
  const values = column.values;
  if (Array.isArray(values)) return values[i];
  if (isDict(values)) {
    const code = values.codes[i];
    return code === 0 ? null : values.dict[code - 1];
  }
  if (column.type === "boolean") return values[i] === 1;
  const v = values[i];
  if (typeof v === "bigint") return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
  return v;
}

/** The cells of rows `0..length-1` (see {@link cellAt}). */
export function vectorCells(column: VectorColumn, length: number): CellValue[] {
  const values = column.values;
  if (Array.isArray(values)) return values.length === length ? values : values.slice(0, length);
  const out = new Array<CellValue>(length);
  for (let i = 0; i < length; i++) out[i] = cellAt(column, i);
  return out;
}

/** The boxed form of a column, for the writers that take {@link TypedColumn}s (CSV, JSONL). */
export function toTypedColumn(column: VectorColumn, length: number): TypedColumn {
  const values = vectorCells(column, length);
  let nulls = 0;
  let big = false;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v === null) nulls++;
    else if (typeof v === "bigint") big = true;
  }
  return { name: column.name, type: column.type, values, nulls, big };
}

/** Number of null rows among `0..length-1`. */
export function nullCount(column: VectorColumn, length: number): number {
  let nulls = 0;
  if (column.valid !== null) {
    for (let i = 0; i < length; i++) if (column.valid[i] === 0) nulls++;
    return nulls;
  }
  const values = column.values;
  if (Array.isArray(values)) {
    for (let i = 0; i < length; i++) if (values[i] === null) nulls++;
  } else if (isDict(values)) {
    for (let i = 0; i < length; i++) if (values.codes[i] === 0) nulls++;
  }
  return nulls;
}

/**
 * The rows at `rows` of a column, in that order (a partition's share of a batch).
 *
 * @example
 * ```ts
 * import { gatherVector } from "./vectors.ts";
 * const c = { name: "x", type: "float64" as const, values: new Float64Array([1, 2, 3]), valid: null };
 * gatherVector(c, Int32Array.of(2, 0)).values; // Float64Array [3, 1]
 * ```
 */
export function gatherVector(column: VectorColumn, rows: ArrayLike<number>): VectorColumn {
  const n = rows.length;
  const valid = column.valid === null ? null : new Uint8Array(n);
  if (valid !== null) { for (let k = 0; k < n; k++) valid[k] = column.valid![rows[k]]; }
  const values = column.values;
  if (Array.isArray(values)) {
    const out = new Array<string | null>(n);
    for (let k = 0; k < n; k++) out[k] = values[rows[k]];
    return { ...column, values: out, valid: null } as VectorColumn;
  }
  if (isDict(values)) {
    const codes = new Uint32Array(n);
    for (let k = 0; k < n; k++) codes[k] = values.codes[rows[k]];
    return { ...column, values: { codes, dict: values.dict }, valid: null } as VectorColumn;
  }
  // Same typed array class as the source, then one loop (monomorphic per class).
  const source = values as Float64Array;
  const out = new (source.constructor as Float64ArrayConstructor)(n);
  for (let k = 0; k < n; k++) out[k] = source[rows[k]];
  return { ...column, values: out, valid } as VectorColumn;
}

/** The rows `start..end-1` of a column, sharing its buffers. */
export function sliceVector(column: VectorColumn, start: number, end: number): VectorColumn {
  const values = column.values;
  const valid = column.valid === null ? null : column.valid.subarray(start, end);
  if (Array.isArray(values)) {
    return { ...column, values: values.slice(start, end), valid: null } as VectorColumn;
  }
  if (isDict(values)) {
    return {
      ...column,
      values: { codes: values.codes.subarray(start, end), dict: values.dict },
      valid: null,
    } as VectorColumn;
  }
  return { ...column, values: values.subarray(start, end), valid } as VectorColumn;
}

/** The `ArrayBuffer`s of a batch, to transfer it to another thread without copying. */
export function batchBuffers(batch: VectorBatch): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const column of batch.columns) {
    const values = column.values;
    if (column.valid !== null) out.add(column.valid.buffer as ArrayBuffer);
    if (Array.isArray(values)) continue;
    if (isDict(values)) out.add(values.codes.buffer as ArrayBuffer);
    else out.add(values.buffer as ArrayBuffer);
  }
  return [...out];
}

/**
 * The vector form of a boxed column (the harvest's {@link TypedColumn}s), for the TypeScript
 * Parquet encoder: numbers into a `Float64Array` (a `BigInt64Array` once a cell is a bigint),
 * days into an `Int32Array`, flags into a `Uint8Array`, each with a validity byte per row when
 * the column has nulls; text (string, json, decimal) as it is. Returns `undefined` when a cell
 * is not of its type's JavaScript kind (a column not made by `castColumn`), so the caller can
 * give the batch to a writer that takes any cell.
 *
 * @example
 * ```ts
 * import { fromTypedColumn } from "./vectors.ts";
 * const c = { name: "n", type: "int64" as const, values: [1, null], nulls: 1, big: false };
 * fromTypedColumn(c, 2)?.valid; // Uint8Array [1, 0]
 * ```
 */
export function fromTypedColumn(column: TypedColumn, length: number): VectorColumn | undefined {
  const { name, type, values } = column;
  switch (type) {
    case "int64":
    case "datetime":
    case "timestamp":
    case "timestamp_tz":
      return integerVector(name, type, values, length);
    case "float64": {
      const out = new Float64Array(length);
      const valid = numericFill(values, length, (v, i) => {
        if (typeof v !== "number") return false;
        out[i] = v;
        return true;
      });
      return valid === undefined ? undefined : { name, type, values: out, valid };
    }
    case "date": {
      const out = new Int32Array(length);
      const valid = numericFill(values, length, (v, i) => {
        if (typeof v !== "number" || !Number.isInteger(v)) return false;
        out[i] = v;
        return true;
      });
      return valid === undefined ? undefined : { name, type, values: out, valid };
    }
    case "boolean": {
      const out = new Uint8Array(length);
      const valid = numericFill(values, length, (v, i) => {
        if (typeof v !== "boolean") return false;
        out[i] = v ? 1 : 0;
        return true;
      });
      return valid === undefined ? undefined : { name, type, values: out, valid };
    }
    default: {
      // string, json and decimal cells are text already.
      const texts = values.length === length ? values : values.slice(0, length);
      for (let i = 0; i < length; i++) {
        const v = texts[i];
        if (v !== null && typeof v !== "string") return undefined;
      }
      return { name, type, values: texts as (string | null)[], valid: null };
    }
  }
}

/**
 * Fills a typed array through `put` (false: the cell does not fit) and returns the validity
 * bytes (`null` without nulls), or `undefined` when a cell did not fit.
 */
function numericFill(
  values: readonly CellValue[],
  length: number,
  put: (v: CellValue, i: number) => boolean,
): Uint8Array | null | undefined {
  let valid: Uint8Array | null = null;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      if (valid === null) valid = new Uint8Array(length).fill(1);
      valid[i] = 0;
    } else if (!put(v, i)) return undefined;
  }
  return valid;
}

/** An integer-like column: safe integers in a `Float64Array`, or all in a `BigInt64Array`. */
function integerVector(
  name: string,
  type: IntegerLikeType,
  values: readonly CellValue[],
  length: number,
): VectorColumn | undefined {
  let big = false;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (typeof v === "bigint") big = true;
    else if (v !== null && v !== undefined && !Number.isSafeInteger(v)) return undefined;
  }
  if (big) {
    const out = new BigInt64Array(length);
    const valid = numericFill(values, length, (v, i) => {
      // castColumn keeps int64 in range; anything wider cannot be an INT64.
      const n = BigInt(v as number | bigint);
      if (BigInt.asIntN(64, n) !== n) return false;
      out[i] = n;
      return true;
    });
    return valid === undefined ? undefined : { name, type, values: out, valid };
  }
  const out = new Float64Array(length);
  const valid = numericFill(values, length, (v, i) => {
    out[i] = v as number;
    return true;
  });
  return valid === undefined ? undefined : { name, type, values: out, valid };
}

/**
 * The pieces of one column laid end to end: `pieces[k]` holds `lengths[k]` rows, or is
 * `undefined` for a piece without the column (its rows are null). Pieces share the column's
 * type; integer pieces become one `BigInt64Array` once any of them is one. Text pieces must be
 * plain arrays (not dictionaries).
 *
 * @example
 * ```ts
 * import { concatVectors } from "./vectors.ts";
 * const a = { name: "x", type: "float64" as const, values: Float64Array.of(1), valid: null };
 * concatVectors("x", "float64", [a, undefined], [1, 2]).valid; // Uint8Array [1, 0, 0]
 * ```
 */
export function concatVectors(
  name: string,
  type: ColumnType,
  pieces: readonly (VectorColumn | undefined)[],
  lengths: readonly number[],
): VectorColumn {
  let length = 0;
  for (const n of lengths) length += n;
  const first = pieces.find((p) => p !== undefined);
  if (first === undefined) return { name, type, values: new Array(length).fill(null), valid: null };
  if (Array.isArray(first.values)) {
    const out = new Array<string | null>(length);
    let at = 0;
    for (let k = 0; k < pieces.length; k++) {
      const values = pieces[k]?.values as (string | null)[] | undefined;
      const n = lengths[k];
      for (let i = 0; i < n; i++) out[at + i] = values === undefined ? null : values[i];
      at += n;
    }
    return { name, type, values: out, valid: null } as VectorColumn;
  }
  const big = pieces.some((p) => p?.values instanceof BigInt64Array);
  const values = big
    ? new BigInt64Array(length)
    : new (first.values.constructor as Float64ArrayConstructor)(length);
  let valid: Uint8Array | null = null;
  let at = 0;
  for (let k = 0; k < pieces.length; k++) {
    const piece = pieces[k];
    const n = lengths[k];
    if (piece === undefined || piece.valid !== null) {
      valid ??= new Uint8Array(length).fill(1, 0, at);
      if (piece === undefined) valid.fill(0, at, at + n);
      else valid.set(piece.valid!.subarray(0, n), at);
    } else if (valid !== null) valid.fill(1, at, at + n);
    if (piece !== undefined) {
      const source = piece.values as Float64Array | BigInt64Array;
      if (big && !(source instanceof BigInt64Array)) {
        const out = values as BigInt64Array;
        for (let i = 0; i < n; i++) out[at + i] = BigInt(source[i]);
      } else (values as Float64Array).set(source.subarray(0, n) as Float64Array, at);
    }
    at += n;
  }
  return { name, type, values, valid } as VectorColumn;
}
