/**
 * The zod contract of a REST asset's `columns:` / `select:`: the same declarations (and the same
 * converters) as a SQL step's, so a value fits a declared column in a harvest exactly when it
 * would in an extraction. Each declared column becomes a field that converts its value or adds
 * an issue naming why it does not fit; the row comes out renamed and, with `select`, holding
 * only the selected columns in that order.
 * @module
 */
import { z } from "zod";
import {
  type ColumnDecl,
  type ColumnType,
  DATE_TYPES,
  declaredConverter,
  formatDate,
} from "../sinks/column_types.ts";

const MS_PER_DAY = 86_400_000;

/** The value of one cell after its declaration: `value`, or `error` saying why it does not fit. */
export type DeclaredCell = { value: unknown } | { error: string };

/**
 * The conversion of one declared column's cells (never null: nulls are the caller's). Text dates
 * without a `format` stay the text they were (the sink parses them with the same ISO reader, and
 * a `transform:` still sees the source's text); every other value becomes its typed cell: a
 * `date` as `YYYY-MM-DD`, a timestamp as microseconds, a decimal as its exact text.
 *
 * @example
 * ```ts
 * import { declaredCell } from "./declared_columns.ts";
 * declaredCell({ type: "int64", nullable: true })("42"); // { value: 42 }
 * declaredCell({ type: "date", format: "%d/%m/%Y", nullable: true })("04/07/1996"); // { value: "1996-07-04" }
 * ```
 */
export function declaredCell(
  decl: Pick<ColumnDecl, "type" | "format">,
): (value: unknown) => DeclaredCell {
  const converter = declaredConverter(decl);
  const type = decl.type;
  const keepText = decl.format === undefined && DATE_TYPES.includes(type);
  return (value) => {
    if (value instanceof Date) return dateCell(value, type);
    const cell = converter.convert(value);
    if (cell === undefined) return { error: converter.explain(value) };
    if (keepText && typeof value === "string") return { value };
    if (type === "date") return { value: formatDate(cell as number) };
    // json cells are written from the value: hand back the parsed value, not its text twice.
    if (type === "json") return { value: typeof value === "string" ? JSON.parse(value) : value };
    return { value: cell };
  };
}

/** A `Date` (a contract's output) in a declared column. */
function dateCell(value: Date, type: ColumnType): DeclaredCell {
  const ms = value.getTime();
  if (Number.isNaN(ms)) return { error: "an invalid Date" };
  switch (type) {
    case "date":
      return ms % MS_PER_DAY === 0
        ? { value: formatDate(ms / MS_PER_DAY) }
        : { error: `${value.toISOString()} has a time of day; declare timestamp` };
    case "timestamp":
    case "timestamp_tz":
      return { value: ms * 1000 };
    case "string":
      return { value: value.toISOString() };
  }
  return { error: `a Date cannot be written as ${type}` };
}

/** The name a column is written under. */
export function outputName(name: string, columns: Readonly<Record<string, ColumnDecl>>): string {
  return Object.hasOwn(columns, name) ? columns[name].rename ?? name : name;
}

/**
 * A row renamed by the declarations and, with `select`, cut to the selected columns in their
 * order (a selected column the record lacks is null).
 */
export function shapeRow(
  row: Readonly<Record<string, unknown>>,
  columns: Readonly<Record<string, ColumnDecl>>,
  select: readonly string[] | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of select ?? Object.keys(row)) {
    out[outputName(name, columns)] = row[name] ?? null;
  }
  return out;
}

/**
 * The zod contract of a set of column declarations (by source name) and an optional `select`:
 * declared values converted (issues name the column and why), undeclared ones kept, the row
 * renamed and selected. Valid rows are what the sink writes.
 *
 * @example
 * ```ts
 * import { declaredContract } from "./declared_columns.ts";
 * const contract = declaredContract({
 *   OrderID: { type: "int64", nullable: false, rename: "order_id" },
 * }, ["OrderID"]);
 * contract.parse({ OrderID: "10248", ShipName: "x" }); // { order_id: 10248 }
 * contract.safeParse({ OrderID: "ten" }).success; // false
 * ```
 */
export function declaredContract(
  columns: Readonly<Record<string, ColumnDecl>>,
  select?: readonly string[],
): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, decl] of Object.entries(columns)) {
    const cell = declaredCell(decl);
    shape[name] = z.unknown().transform((value, ctx) => {
      if (value === null || value === undefined) {
        if (!decl.nullable) {
          ctx.addIssue({
            code: "custom",
            message: `is ${value === null ? "null" : "missing"} but the column is declared ` +
              "nullable: false",
          });
          return z.NEVER;
        }
        return null;
      }
      const out = cell(value);
      if ("error" in out) {
        ctx.addIssue({ code: "custom", message: `${out.error} (declared ${decl.type})` });
        return z.NEVER;
      }
      return out.value;
    });
  }
  return z.looseObject(shape).transform((row) => shapeRow(row, columns, select));
}
