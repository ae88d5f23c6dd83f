/**
 * Datasette's column filters (`col=v`, `col__gt=v`, `col__in=a,b`, …) turned into SQL conditions.
 * Columns are validated against the table and quoted; values are always bound, and compare with
 * SQLite's affinity rules (a text value against an INTEGER column compares as a number).
 * @module
 */
import type { SQLInputValue } from "node:sqlite";
import { ApiError } from "./api_error.ts";
import { checkColumn, type Conditions, quoteIdentifier, type TableInfo } from "./tables.ts";

/** The filter operators, as written after `__` in a query parameter. */
export const FILTER_OPERATORS = [
  "exact",
  "not",
  "gt",
  "gte",
  "lt",
  "lte",
  "contains",
  "notcontains",
  "startswith",
  "endswith",
  "like",
  "glob",
  "in",
  "notin",
  "isnull",
  "notnull",
  "isblank",
  "notblank",
] as const;

/** One filter operator. */
export type FilterOperator = typeof FILTER_OPERATORS[number];

const OPERATORS = new Set<string>(FILTER_OPERATORS);

/** Splits `ShipCountry__in` into its column and operator (`exact` when there is no operator). */
export function parseFilterKey(
  table: TableInfo,
  key: string,
): { column: string; operator: FilterOperator } {
  const split = key.lastIndexOf("__");
  if (split > 0) {
    const operator = key.slice(split + 2);
    const column = key.slice(0, split);
    // A column literally named `a__b` wins over an operator reading of the key.
    if (OPERATORS.has(operator) && !table.affinities.has(key)) {
      return { column, operator: operator as FilterOperator };
    }
  }
  return { column: key, operator: "exact" };
}

/** Parses `a,b` or a JSON array (`["a","b"]`) into the values of an `__in` filter. */
function listValues(key: string, value: string): SQLInputValue[] {
  if (value.trimStart().startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ApiError(400, `invalid JSON array for ${key}: ${value}; use a,b or ["a","b"]`);
    }
    if (
      !Array.isArray(parsed) ||
      !parsed.every((v) => v === null || typeof v === "string" || typeof v === "number")
    ) {
      throw new ApiError(400, `${key} must be a JSON array of strings and numbers, got ${value}`);
    }
    return parsed as SQLInputValue[];
  }
  return value.split(",");
}

/** Binds a filter value: text, or a number for an untyped column when the text is a number. */
function bindValue(table: TableInfo, column: string, value: string): SQLInputValue {
  // Typed columns convert bound text themselves (affinity); untyped ones compare storage classes.
  if (table.affinities.get(column) === "BLOB" && value.trim() !== "" && Number.isFinite(+value)) {
    return Number(value);
  }
  return value;
}

/**
 * Turns the query's filter parameters (every key not starting with `_`) into SQL conditions.
 * Throws a 400 {@link ApiError} naming an unknown column.
 */
export function parseFilters(table: TableInfo, query: [string, string][]): Required<Conditions> {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  for (const [key, value] of query) {
    if (key.startsWith("_")) continue;
    const { column, operator } = parseFilterKey(table, key);
    checkColumn(table, column, { use: "filter on" });
    const c = quoteIdentifier(column);
    switch (operator) {
      case "exact":
      case "not":
      case "gt":
      case "gte":
      case "lt":
      case "lte": {
        const sign = { exact: "=", not: "!=", gt: ">", gte: ">=", lt: "<", lte: "<=" }[operator];
        // A range filter must not steer the index away from a keyset cursor: SQLite otherwise
        // seeks from the filter's bound and scans up to the cursor on every page.
        where.push(
          operator === "exact" || operator === "not"
            ? `${c} ${sign} ?`
            : `likelihood(${c} ${sign} ?, 0.99)`,
        );
        params.push(bindValue(table, column, value));
        break;
      }
      case "contains":
        where.push(`${c} LIKE ?`);
        params.push(`%${value}%`);
        break;
      case "notcontains":
        where.push(`${c} NOT LIKE ?`);
        params.push(`%${value}%`);
        break;
      case "startswith":
        where.push(`${c} LIKE ?`);
        params.push(`${value}%`);
        break;
      case "endswith":
        where.push(`${c} LIKE ?`);
        params.push(`%${value}`);
        break;
      case "like":
        where.push(`${c} LIKE ?`);
        params.push(value);
        break;
      case "glob":
        where.push(`${c} GLOB ?`);
        params.push(value);
        break;
      case "in":
      case "notin": {
        const values = listValues(key, value).map((v) =>
          typeof v === "string" ? bindValue(table, column, v) : v
        );
        if (values.length === 0) {
          where.push(operator === "in" ? "0" : "1");
          break;
        }
        where.push(
          `${c} ${operator === "in" ? "IN" : "NOT IN"} (${values.map(() => "?").join(", ")})`,
        );
        params.push(...values);
        break;
      }
      case "isnull":
        where.push(`${c} IS NULL`);
        break;
      case "notnull":
        where.push(`${c} IS NOT NULL`);
        break;
      case "isblank":
        where.push(`(${c} IS NULL OR ${c} = '')`);
        break;
      case "notblank":
        where.push(`(${c} IS NOT NULL AND ${c} != '')`);
        break;
    }
  }
  return { where, params };
}
