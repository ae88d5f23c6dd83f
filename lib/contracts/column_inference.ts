/**
 * What an undeclared REST column is, from the asset's first page: text whose every value is one
 * date form is a `date`, `timestamp` or `timestamp_tz` column; anything else keeps the type its
 * values have. And how a column's type may change from one run to the next: the same type, a
 * type whose values fit the old one, a widening (int → float, date → timestamp), or an
 * incompatible change that must stop the asset. Pure.
 * @module
 */
import type { ColumnType } from "../sinks/column_types.ts";
import { parseIsoDateTime } from "../sinks/date_text.ts";

/** `YYYY-MM-DD`, alone. */
const DATE_FORM = /^\d{4}-\d{2}-\d{2}$/;
/** `YYYY-MM-DD` then `T` or a space, `HH:MM[:SS[.fraction]]`, optionally a zone. */
const TIMESTAMP_FORM =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * The date type of a text column, or undefined: every non-null value is a string (at least one)
 * and every one is a valid `YYYY-MM-DD` (→ `date`), or every one is an ISO-8601 timestamp with
 * `T` or a space and optional fractions, either all without a zone (→ `timestamp`, wall-clock)
 * or all with one (`Z`, `+02:00` → `timestamp_tz`). Mixed forms stay text.
 *
 * @example
 * ```ts
 * import { inferTextDateType } from "./column_inference.ts";
 * inferTextDateType(["1996-07-04 00:00:00.000", null]); // "timestamp"
 * inferTextDateType(["2026-01-01T10:00:03Z"]); // "timestamp_tz"
 * inferTextDateType(["1996-07-04", "1996-07-04 10:00"]); // undefined
 * ```
 */
export function inferTextDateType(values: readonly unknown[]): ColumnType | undefined {
  let form: ColumnType | undefined;
  for (const value of values) {
    if (value === null || value === undefined) continue;
    if (typeof value !== "string") return undefined;
    const text = value.trim();
    let kind: ColumnType;
    if (DATE_FORM.test(text)) kind = "date";
    else {
      const m = TIMESTAMP_FORM.exec(text);
      if (!m) return undefined;
      kind = m[1] === undefined ? "timestamp" : "timestamp_tz";
    }
    if (form !== undefined && form !== kind) return undefined;
    const parts = parseIsoDateTime(text);
    if (!parts || parts.subMicro) return undefined;
    form = kind;
  }
  return form;
}

/**
 * How a column's type changed from an earlier run (`before`) to this one (`after`):
 * - `same`;
 * - `fits`: the new values fit the old type (int in a float column, a date in a timestamp
 *   column, anything in a text column), so the old type is kept;
 * - `widen`: the old values fit the new type (int64 → float64, date → timestamp or
 *   timestamp_tz), so the column becomes the new type;
 * - `incompatible`: neither.
 *
 * @example
 * ```ts
 * import { typeChange } from "./column_inference.ts";
 * typeChange("int64", "float64"); // "widen"
 * typeChange("float64", "int64"); // "fits"
 * typeChange("timestamp", "string"); // "incompatible"
 * ```
 */
export function typeChange(
  before: ColumnType,
  after: ColumnType,
): "same" | "fits" | "widen" | "incompatible" {
  if (before === after) return "same";
  if (WIDER[after]?.includes(before)) return "widen";
  if (before === "string" || WIDER[before]?.includes(after)) return "fits";
  return "incompatible";
}

/** Types and the narrower types whose values they hold exactly. */
const WIDER: Partial<Record<ColumnType, ColumnType[]>> = {
  float64: ["int64"],
  timestamp: ["date"],
  timestamp_tz: ["date"],
};
