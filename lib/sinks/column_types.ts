/**
 * Column types of the sinks: inference from the first non-null values, casting of every later
 * batch to the fixed type, and the text forms of dates and timestamps. Pure functions, no I/O.
 *
 * Types are fixed once and never change for the life of a sink, so every part of an asset has
 * the same schema: a column that is null in one batch keeps the type it had, integers stay
 * Int64 (exact above 2^53 when given as bigint or digit strings), and a value that cannot be
 * cast is an error naming the column and the value rather than a silently different part.
 * @module
 */
import { z } from "zod";
import { ContractError } from "../core/errors.ts";
import { jsonText } from "./json_text.ts";

/** The column types a sink writes; Parquet maps them to Int64, Float64, Utf8, Boolean, Date, Datetime(ms, UTC), Utf8 (JSON text). */
export const columnTypeSchema = z.enum([
  "int64",
  "float64",
  "string",
  "boolean",
  "date",
  "datetime",
  "json",
]);

/** One column type (see {@link columnTypeSchema}). */
export type ColumnType = z.infer<typeof columnTypeSchema>;

/**
 * A cell after casting: int64 → number (bigint beyond 2^53), float64 → number, string/json →
 * string (JSON text for json), boolean → boolean, date → days since 1970-01-01, datetime →
 * milliseconds since the epoch (UTC), missing → null.
 */
export type CellValue = number | bigint | string | boolean | null;

/** A column cast to its fixed type, ready for a format writer. */
export interface TypedColumn {
  /** Column name. */
  name: string;
  /** Its fixed type. */
  type: ColumnType;
  /** One cell per row (see {@link CellValue}). */
  values: CellValue[];
  /** How many cells are null. */
  nulls: number;
  /** True when an int64 column holds at least one bigint (a value beyond 2^53). */
  big: boolean;
}

const MS_PER_DAY = 86_400_000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/;
const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Infers a column type from a batch of values: bigints and integral numbers → int64, other
 * numbers → float64, booleans → boolean, `Date`s → datetime, strings → string, objects and
 * arrays → json. Mixed primitives fall back to string (json when any value is an object).
 * Returns `undefined` when every value is null or undefined: the type is still unknown.
 *
 * @example
 * ```ts
 * import { inferColumnType } from "./column_types.ts";
 * inferColumnType([null, 1, 2]); // "int64"
 * inferColumnType([1, 2.5]); // "float64"
 * inferColumnType([null]); // undefined
 * ```
 */
export function inferColumnType(values: readonly unknown[]): ColumnType | undefined {
  let integer = false, fraction = false, text = false, bool = false, date = false, object = false;
  for (const value of values) {
    if (value === null || value === undefined) continue;
    switch (typeof value) {
      case "bigint":
        integer = true;
        break;
      case "number":
        if (Number.isInteger(value)) integer = true;
        else fraction = true;
        break;
      case "string":
        text = true;
        break;
      case "boolean":
        bool = true;
        break;
      default:
        if (value instanceof Date) date = true;
        else object = true;
    }
  }
  if (object) return "json";
  const kinds = [integer || fraction, text, bool, date].filter(Boolean).length;
  if (kinds === 0) return undefined;
  if (kinds > 1) return "string";
  if (text) return "string";
  if (bool) return "boolean";
  if (date) return "datetime";
  return fraction ? "float64" : "int64";
}

/**
 * Parses a timestamp text to milliseconds since the epoch: ISO-8601 dates and date-times with
 * `T` or a space (`1996-07-04`, `1996-07-04 00:00:00.000`, `2026-01-01T10:00:03.120Z`,
 * `…+02:00`). Text without an offset is UTC. Returns `undefined` when it is not such a text.
 *
 * @example
 * ```ts
 * import { parseTimestamp } from "./column_types.ts";
 * parseTimestamp("1996-07-04 00:00:00.000"); // 836438400000
 * parseTimestamp("July 4th"); // undefined
 * ```
 */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP_TEXT.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const millis = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC rolls 1996-02-30 over to March: reject instead of silently moving the date.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  return ms - offsetMinutes(m[8]) * 60_000;
}

function offsetMinutes(zone: string | undefined): number {
  if (!zone || zone === "Z" || zone === "z") return 0;
  const digits = zone.slice(1).replace(":", "");
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
  return zone[0] === "-" ? -minutes : minutes;
}

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
/** Years 0000–9999: where the ISO text has the fixed `YYYY-MM-DDT` prefix. */
const FIRST_MS = Date.parse("0000-01-01T00:00:00.000Z");
const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
let cachedDay = Number.NaN;
let cachedPrefix = "";

function dayPrefix(day: number): string {
  // Rows of a batch are mostly from few days: format each day once, not once per row.
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = new Date(day * MS_PER_DAY).toISOString().slice(0, 11);
  }
  return cachedPrefix;
}

/** Renders days since 1970-01-01 as `YYYY-MM-DD`. */
export function formatDate(days: number): string {
  const ms = days * MS_PER_DAY;
  if (!(ms >= FIRST_MS && ms <= LAST_MS)) return new Date(ms).toISOString().slice(0, -14);
  return dayPrefix(days).slice(0, 10);
}

/** Renders milliseconds since the epoch as ISO-8601 UTC (`2026-01-01T10:00:03.120Z`). */
export function formatDatetime(ms: number): string {
  if (!(ms >= FIRST_MS && ms <= LAST_MS)) return new Date(ms).toISOString();
  const day = Math.floor(ms / MS_PER_DAY);
  let rest = ms - day * MS_PER_DAY;
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  return dayPrefix(day) + PAD2[hour] + ":" + PAD2[minute] + ":" + PAD2[second] + "." +
    PAD3[rest - second * 1000] + "Z";
}

/**
 * Casts a batch of raw values to `type`, returning the typed column. Throws
 * {@link ContractError} naming the column, the row and the value when a value cannot be cast.
 *
 * @example
 * ```ts
 * import { castColumn } from "./column_types.ts";
 * castColumn("OrderID", ["10248", 10249, null], "int64").values; // [10248, 10249, null]
 * ```
 */
export function castColumn(
  name: string,
  values: readonly unknown[],
  type: ColumnType,
): TypedColumn {
  const out: CellValue[] = new Array(values.length);
  let nulls = 0, big = false;
  const cast = CASTS[type];
  // The common cases (numbers into numeric columns, text into text columns) skip the generic
  // cast call: this loop runs for every cell of every batch.
  const plain = type === "float64" ? "number" : type === "string" ? "string" : "";
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      out[i] = null;
      nulls++;
      continue;
    }
    if (typeof value === plain || (type === "int64" && Number.isSafeInteger(value))) {
      out[i] = value as number | string;
      continue;
    }
    const cell = cast(value);
    if (cell === undefined) throw castError(name, type, i, value);
    if (typeof cell === "bigint") big = true;
    out[i] = cell;
  }
  return { name, type, values: out, nulls, big };
}

/** A column of `length` nulls of a given type (a fixed column absent from a batch). */
export function nullColumn(name: string, type: ColumnType, length: number): TypedColumn {
  return { name, type, values: new Array(length).fill(null), nulls: length, big: false };
}

/**
 * Fixes the type of every column of a batch not typed yet: declared type first, else inferred
 * from the batch's non-null values, else `string` (a column that is null in the first batch
 * that shows it has no type to infer; declaring it avoids this). Returns the new schema in
 * column order (known columns first, then new ones as they appear); never changes a fixed type.
 *
 * @example
 * ```ts
 * import { extendSchema } from "./column_types.ts";
 * extendSchema({ id: "int64" }, { id: [null], price: [1.5] }); // { id: "int64", price: "float64" }
 * ```
 */
export function extendSchema(
  schema: Readonly<Record<string, ColumnType>>,
  columns: Readonly<Record<string, readonly unknown[]>>,
  declared: Readonly<Record<string, ColumnType>> = {},
): Record<string, ColumnType> {
  const next: Record<string, ColumnType> = { ...schema };
  for (const [name, type] of Object.entries(declared)) next[name] ??= type;
  for (const [name, values] of Object.entries(columns)) {
    next[name] ??= inferColumnType(values) ?? "string";
  }
  return next;
}

function castError(name: string, type: ColumnType, row: number, value: unknown): ContractError {
  const shown = typeof value === "string"
    ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
    : typeof value === "bigint"
    ? `${value}n`
    : value instanceof Date
    ? `Date(${Number.isNaN(value.getTime()) ? "invalid" : value.toISOString()})`
    : jsonText(value).slice(0, 60);
  const kind = value instanceof Date ? "date" : Array.isArray(value) ? "array" : typeof value;
  return new ContractError(
    `column "${name}" has type ${type} but row ${row} holds ${shown} (${kind}), which cannot be ` +
      `cast to ${type}; declare the column's type (sink columns or the asset's contract) or fix the source`,
  );
}

type Cast = (value: unknown) => CellValue | undefined;

function toInt64(value: unknown): CellValue | undefined {
  switch (typeof value) {
    case "number":
      if (!Number.isInteger(value)) return undefined;
      return Number.isSafeInteger(value) ? value : fromBigInt(BigInt(value));
    case "bigint":
      return fromBigInt(value);
    case "string":
      return INTEGER_TEXT.test(value) ? fromBigInt(BigInt(value.trim())) : undefined;
  }
  return undefined;
}

function fromBigInt(value: bigint): CellValue | undefined {
  if (value < INT64_MIN || value > INT64_MAX) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

function toFloat64(value: unknown): CellValue | undefined {
  switch (typeof value) {
    case "number":
      return value;
    case "bigint":
      return Number(value);
    case "string": {
      if (value.trim() === "") return undefined;
      const n = Number(value);
      return Number.isNaN(n) && value.trim() !== "NaN" ? undefined : n;
    }
  }
  return undefined;
}

function toText(value: unknown): CellValue | undefined {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "bigint":
    case "boolean":
      return String(value);
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  return jsonText(value);
}

function toBoolean(value: unknown): CellValue | undefined {
  switch (typeof value) {
    case "boolean":
      return value;
    case "number":
      return value === 1 ? true : value === 0 ? false : undefined;
    case "string": {
      const t = value.trim().toLowerCase();
      return t === "true" || t === "1" ? true : t === "false" || t === "0" ? false : undefined;
    }
  }
  return undefined;
}

/**
 * Milliseconds since the epoch of a `Date`, a timestamp text ({@link parseTimestamp}) or a
 * number (already epoch milliseconds); `undefined` for anything else.
 */
export function epochMsOf(value: unknown): number | undefined {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (typeof value === "string") return parseTimestamp(value);
  if (typeof value === "number" && Number.isFinite(value)) return Math.trunc(value);
  return undefined;
}

function toDate(value: unknown): CellValue | undefined {
  const ms = epochMsOf(value);
  return ms === undefined ? undefined : Math.floor(ms / MS_PER_DAY);
}

function toJson(value: unknown): CellValue | undefined {
  return jsonText(value);
}

const CASTS: Record<ColumnType, Cast> = {
  int64: toInt64,
  float64: toFloat64,
  string: toText,
  boolean: toBoolean,
  date: toDate,
  datetime: epochMsOf,
  json: toJson,
};
