/**
 * Column types of the sinks: inference from the first non-null values, casting of every later
 * batch to the fixed type, the text forms of dates and timestamps, and the column declarations
 * a config gives for untyped sources (validated by `column_schema.ts`). Pure functions, no I/O,
 * and no zod: the SQL reader thread loads this module, and starts faster without it.
 *
 * Types are fixed once and never change for the life of a sink, so every part of an asset has
 * the same schema: a column that is null in one batch keeps the type it had, integers stay
 * Int64 (exact above 2^53 when given as bigint or digit strings), and a value that cannot be
 * cast is an error naming the column and the value rather than a silently different part.
 * @module
 */
import { ContractError } from "../core/errors.ts";
import { jsonText } from "../core/json_text.ts";
import { compileDateFormat, parseIsoDateTime, partsToMicros, scratchParts } from "./date_text.ts";

/** The column types without parameters (a decimal has its precision and scale: `decimal(p,s)`). */
export const BASE_COLUMN_TYPES: readonly BaseColumnType[] = [
  "int64",
  "float64",
  "string",
  "boolean",
  "date",
  "datetime",
  "timestamp",
  "timestamp_tz",
  "json",
];

/** A column type without parameters. */
export type BaseColumnType =
  | "int64"
  | "float64"
  | "string"
  | "boolean"
  | "date"
  | "datetime"
  | "timestamp"
  | "timestamp_tz"
  | "json";

/** A decimal type: `decimal(precision,scale)`, precision 1–38, scale 0–precision. */
export type DecimalType = `decimal(${number},${number})`;

/**
 * One column type. Parquet: int64 → INT64, float64 → DOUBLE, string → STRING, boolean →
 * BOOLEAN, date → DATE, datetime → TIMESTAMP(ms, UTC) (the harvest's timestamps), timestamp →
 * TIMESTAMP(µs) without a zone (wall-clock time as written), timestamp_tz → TIMESTAMP(µs, UTC),
 * json → STRING holding JSON text, `decimal(p,s)` → DECIMAL(p,s).
 */
export type ColumnType = BaseColumnType | DecimalType;

const DECIMAL_TYPE = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;

/** Precision and scale of a decimal type (`decimal(10,2)` → 10, 2); undefined for other types. */
export function decimalOf(type: string): { precision: number; scale: number } | undefined {
  const m = DECIMAL_TYPE.exec(type);
  if (!m) return undefined;
  const precision = Number(m[1]);
  const scale = Number(m[2]);
  if (precision < 1 || precision > 38 || scale > precision) return undefined;
  return { precision, scale };
}

/** The canonical spelling of a decimal type: `decimal(10,2)`. */
export function decimalType(precision: number, scale: number): DecimalType {
  return `decimal(${precision},${scale})`;
}

/** True for the types whose cells are text (string, json, decimal). */
export function isTextType(type: ColumnType): boolean {
  return type === "string" || type === "json" || type.startsWith("decimal(");
}

/** Every column type, for messages: the base types and `decimal(p,s)`. */
export const COLUMN_TYPE_NAMES: readonly string[] = [...BASE_COLUMN_TYPES, "decimal(p,s)"];

/**
 * A cell after casting: int64 → number (bigint beyond 2^53), float64 → number, string/json →
 * string (JSON text for json), boolean → boolean, date → days since 1970-01-01, datetime →
 * milliseconds since the epoch (UTC), timestamp/timestamp_tz → microseconds since the epoch
 * (bigint beyond 2^53, i.e. outside 1685–2255), decimal → its text with exactly `scale`
 * fraction digits (`"12.50"`), missing → null.
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
  // An index, not for-of: with the mixed cells of a batch V8 may run this loop unoptimized, and
  // then every step of an iterator allocates its result (~40 bytes a cell, 6 MB a batch).
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
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
  const cast = castFor(type);
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

const CASTS: Record<(typeof BASE_COLUMN_TYPES)[number], Cast> = {
  int64: toInt64,
  float64: toFloat64,
  string: toText,
  boolean: toBoolean,
  date: toDate,
  datetime: epochMsOf,
  timestamp: (value) => toMicros(value, false),
  timestamp_tz: (value) => toMicros(value, true),
  json: toJson,
};

/** The cast of a column type. */
function castFor(type: ColumnType): Cast {
  const decimal = decimalOf(type);
  if (decimal) return (value) => toDecimalText(value, decimal.precision, decimal.scale);
  return CASTS[type as (typeof BASE_COLUMN_TYPES)[number]];
}

/** Parts {@link toMicros} reads right after each parse (one object for every cell). */
const MICROS_PARTS = scratchParts();

/**
 * Microseconds since the epoch of a timestamp text (ISO-8601), a `Date`, or a number or bigint
 * (already microseconds). `utc`: a zoned timestamp (the written offset is applied; a text
 * without one is UTC); otherwise the wall-clock time as written, and a text with an offset is
 * refused (declare timestamp_tz). Fractions below a microsecond are refused, never rounded.
 */
export function toMicros(value: unknown, utc: boolean): number | bigint | undefined {
  switch (typeof value) {
    case "string": {
      const parts = parseIsoDateTime(value.trim(), MICROS_PARTS);
      if (!parts || parts.subMicro || (!utc && parts.offsetMinutes !== null)) return undefined;
      return partsToMicros(parts, utc);
    }
    case "number":
      return Number.isSafeInteger(value) ? value : undefined;
    case "bigint":
      return value >= INT64_MIN && value <= INT64_MAX
        ? (value >= BigInt(-Number.MAX_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(value)
          : value)
        : undefined;
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : ms * 1000;
  }
  return undefined;
}

const DECIMAL_TEXT = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * The text of a decimal value with exactly `scale` fraction digits, or undefined when it does
 * not fit `decimal(precision,scale)` without rounding (more integer digits than
 * `precision - scale`, or non-zero digits beyond `scale`). Accepts numbers (their shortest
 * text), bigints and decimal text (`"12.5"`, `"-0.50"`, `"1e3"`).
 *
 * @example
 * ```ts
 * import { toDecimalText } from "./column_types.ts";
 * toDecimalText("12.5", 10, 2); // "12.50"
 * toDecimalText(0.125, 10, 2); // undefined: it would be rounded
 * ```
 */
export function toDecimalText(
  value: unknown,
  precision: number,
  scale: number,
): string | undefined {
  let text: string;
  switch (typeof value) {
    case "string":
      text = value.trim();
      break;
    case "number":
      if (!Number.isFinite(value)) return undefined;
      text = String(value);
      break;
    case "bigint":
      text = String(value);
      break;
    default:
      return undefined;
  }
  const m = DECIMAL_TEXT.exec(text);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return undefined;
  let whole = m[2];
  let fraction = m[3] ?? "";
  const exponent = m[4] ? Number(m[4]) : 0;
  if (exponent > 0) {
    const shift = fraction.slice(0, exponent).padEnd(exponent, "0");
    whole += shift;
    fraction = fraction.slice(exponent);
  } else if (exponent < 0) {
    const padded = whole.padStart(-exponent, "0");
    fraction = padded.slice(padded.length + exponent) + fraction;
    whole = padded.slice(0, padded.length + exponent);
  }
  whole = whole.replace(/^0+/, "");
  if (fraction.length > scale) {
    if (/[1-9]/.test(fraction.slice(scale))) return undefined;
    fraction = fraction.slice(0, scale);
  }
  fraction = fraction.padEnd(scale, "0");
  if (whole.length > precision - scale) return undefined;
  const negative = m[1] === "-" && /[1-9]/.test(whole + fraction);
  return `${negative ? "-" : ""}${whole || "0"}${scale > 0 ? `.${fraction}` : ""}`;
}

/**
 * The unscaled integer of a decimal text made by {@link toDecimalText} (`"12.50"` → 1250n): the
 * digits without the point, which is what Parquet and Arrow store.
 */
export function decimalUnscaled(text: string): bigint {
  return BigInt(text.replace(".", ""));
}

/**
 * The type names a column declaration accepts (`columns:` of a config): string, int, float,
 * `decimal(p,s)`, bool, date, timestamp, timestamp_tz, json — and the sink names (int64,
 * float64, boolean) as synonyms.
 */
export const DECLARED_TYPE_NAMES: readonly string[] = [
  "string",
  "int",
  "float",
  "decimal(p,s)",
  "bool",
  "date",
  "timestamp",
  "timestamp_tz",
  "json",
];

const DECLARED_SYNONYMS: Record<string, ColumnType> = {
  string: "string",
  text: "string",
  int: "int64",
  int64: "int64",
  integer: "int64",
  float: "float64",
  float64: "float64",
  double: "float64",
  bool: "boolean",
  boolean: "boolean",
  date: "date",
  timestamp: "timestamp",
  timestamp_tz: "timestamp_tz",
  timestamptz: "timestamp_tz",
  json: "json",
};

/**
 * The column type of a declared type name (`int` → int64, `decimal(10, 2)` → decimal(10,2));
 * undefined for an unknown name.
 *
 * @example
 * ```ts
 * import { declaredColumnType } from "./column_types.ts";
 * declaredColumnType("timestamp_tz"); // "timestamp_tz"
 * declaredColumnType("decimal(10, 2)"); // "decimal(10,2)"
 * ```
 */
export function declaredColumnType(name: string): ColumnType | undefined {
  const key = name.trim().toLowerCase();
  const decimal = decimalOf(key);
  if (decimal) return decimalType(decimal.precision, decimal.scale);
  return Object.hasOwn(DECLARED_SYNONYMS, key) ? DECLARED_SYNONYMS[key] : undefined;
}

/** Formats of numeric date cells: seconds, milliseconds or microseconds since the epoch. */
export const EPOCH_FORMATS = ["epoch", "epoch_ms", "epoch_us"] as const;

/** The types a text date `format` applies to. */
export const DATE_TYPES: readonly ColumnType[] = ["date", "timestamp", "timestamp_tz"];

/** A parsed column declaration (see `columnDeclSchema`); `type` is a column type. */
export interface ColumnDecl {
  /** The column type (names already mapped: `int` → int64). */
  type: ColumnType;
  /** Text date format, or an epoch unit for numbers. */
  format?: string;
  /** False: a null rejects the row. */
  nullable: boolean;
  /** The name written. */
  rename?: string;
}

/**
 * A converter from source cells to a declared column's cells: `convert` returns the cell
 * ({@link CellValue}; never null: nulls are the caller's) or undefined when the value does not
 * fit, and `explain` says why in words for the rejects file.
 */
export interface CellConverter {
  /** The cell of `value` (not null), or undefined when it does not fit the type. */
  convert(value: unknown): CellValue | undefined;
  /** Why `value` does not fit, e.g. `"13/31/1997" does not match format %d/%m/%Y`. */
  explain(value: unknown): string;
}

const EPOCH_SCALE: Record<string, number> = { epoch: 1_000_000, epoch_ms: 1000, epoch_us: 1 };

function shown(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  }
  if (value instanceof Uint8Array) return `a ${value.length}-byte BLOB`;
  return typeof value === "bigint" ? `${value}` : String(value);
}

/**
 * The converter of a declared column: how the source's cells (SQLite's text dates, numbers
 * stored as text, 0/1 booleans, …) become cells of the declared type, exactly or not at all:
 * decimals are never rounded, integers never truncated, and a date with a time of day is not a
 * date.
 *
 * @example
 * ```ts
 * import { declaredConverter } from "./column_types.ts";
 * const c = declaredConverter({ type: "timestamp", format: "%d/%m/%Y %H:%M", nullable: true });
 * c.convert("04/07/1996 13:05"); // 836485500000000 (µs)
 * c.explain("1996-07-04"); // '"1996-07-04" does not match format %d/%m/%Y %H:%M'
 * ```
 */
export function declaredConverter(decl: Pick<ColumnDecl, "type" | "format">): CellConverter {
  const { type, format } = decl;
  const decimal = decimalOf(type);
  if (decimal) {
    const { precision, scale } = decimal;
    return {
      convert: (value) => toDecimalText(value, precision, scale),
      explain: (value) =>
        `${shown(value)} does not fit ${type} without rounding (at most ${
          precision - scale
        } integer and ${scale} fraction digits)`,
    };
  }
  switch (type) {
    case "date":
    case "timestamp":
    case "timestamp_tz":
    case "datetime":
      return dateConverter(type, format);
    case "int64":
      return {
        convert: (value) => typeof value === "boolean" ? undefined : toInt64(value),
        explain: (value) => `${shown(value)} is not a whole number within the int64 range`,
      };
    case "float64":
      return {
        convert: (value) => typeof value === "boolean" ? undefined : toFloat64(value),
        explain: (value) => `${shown(value)} is not a number`,
      };
    case "boolean":
      return {
        convert: toDeclaredBoolean,
        explain: (value) => `${shown(value)} is not a boolean (true/false, t/f, 1/0)`,
      };
    case "json":
      return {
        convert: (value) => {
          if (typeof value !== "string") return jsonText(value);
          try {
            JSON.parse(value);
            return value;
          } catch {
            return undefined;
          }
        },
        explain: (value) => `${shown(value)} is not JSON text`,
      };
    default:
      return {
        convert: (value) => value instanceof Uint8Array ? undefined : toText(value),
        explain: (value) => `${shown(value)} cannot be written as text`,
      };
  }
}

function toDeclaredBoolean(value: unknown): CellValue | undefined {
  if (typeof value === "string") {
    const t = value.trim().toLowerCase();
    if (t === "t" || t === "true" || t === "1") return true;
    if (t === "f" || t === "false" || t === "0") return false;
    return undefined;
  }
  if (typeof value === "bigint") return value === 1n ? true : value === 0n ? false : undefined;
  return toBoolean(value);
}

function dateConverter(
  type: "date" | "timestamp" | "timestamp_tz" | "datetime",
  format: string | undefined,
): CellConverter {
  const utc = type !== "timestamp";
  const epoch = format !== undefined && Object.hasOwn(EPOCH_SCALE, format)
    ? EPOCH_SCALE[format]
    : undefined;
  const parse = format === undefined || epoch !== undefined
    ? parseIsoDateTime
    : compileDateFormat(format);
  const expected = format === undefined ? "ISO-8601 (1996-07-04, 1996-07-04 10:00:00)" : format;
  const fromMicros = (micros: number | bigint): CellValue | undefined => {
    if (type === "timestamp" || type === "timestamp_tz") return micros;
    const n = Number(micros);
    if (type === "datetime") return n % 1000 === 0 ? n / 1000 : undefined;
    return n % 86_400_000_000 === 0 ? n / 86_400_000_000 : undefined;
  };
  const convert = (value: unknown): CellValue | undefined => {
    if (typeof value === "number" || typeof value === "bigint") {
      if (epoch === undefined) return undefined;
      if (typeof value === "bigint") return fromMicros(value * BigInt(epoch));
      const micros = value * epoch;
      return Number.isSafeInteger(micros) ? fromMicros(micros) : undefined;
    }
    if (typeof value !== "string" || epoch !== undefined) return undefined;
    const parts = parse(value.trim());
    if (!parts || parts.subMicro) return undefined;
    if (type === "timestamp" && parts.offsetMinutes !== null) return undefined;
    if (type === "date") {
      return parts.micros === 0 && !parts.offsetMinutes ? parts.days : undefined;
    }
    return fromMicros(partsToMicros(parts, utc));
  };
  const explain = (value: unknown): string => {
    if (typeof value === "number" || typeof value === "bigint") {
      return epoch === undefined
        ? `${shown(value)} is a number; declare format epoch, epoch_ms or epoch_us for ` +
          "numbers since 1970-01-01"
        : `${shown(value)} is not a whole number of ${
          type === "date" ? "days" : "microseconds"
        } in ${format}`;
    }
    if (typeof value !== "string") return `${shown(value)} is not a date text`;
    if (epoch !== undefined) return `${shown(value)} is text, not a number (format ${format})`;
    const parts = parse(value.trim());
    if (!parts) return `${shown(value)} does not match format ${expected}`;
    if (parts.subMicro) return `${shown(value)} has digits beyond microseconds`;
    if (type === "timestamp" && parts.offsetMinutes !== null) {
      return `${shown(value)} has a UTC offset; declare the column timestamp_tz`;
    }
    if (type === "date") return `${shown(value)} has a time of day; declare timestamp`;
    return `${shown(value)} does not fit ${type}`;
  };
  return { convert, explain };
}
