/**
 * Data contracts: a zod schema per asset (`contract:` in the config names it), batch
 * validation that splits rows into valid rows — coerced to the contract's types — and rejects
 * with every failed field path, and the column types a contract gives the asset's sink.
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../core/errors.ts";
import type { ColumnType } from "../sinks/column_types.ts";
import { columnTypesOf } from "./column_types.ts";
import { orderDetailsContract, ordersContract } from "./northwind.ts";

export { columnTypeOf, columnTypesOf } from "./column_types.ts";
export { orderDetailsContract, ordersContract } from "./northwind.ts";
export {
  checkRejectRatio,
  pruneRejects,
  readRejects,
  type RejectLine,
  rejectLineSchema,
  type RejectProvenance,
  rejectsPath,
  writeRejects,
  type WriteRejectsOptions,
} from "./rejects.ts";

/** One failed check of a row: the field path (`Freight`, `items[0].id`; "" for the row) and why. */
export interface RejectIssue {
  /** Field path, dotted with indexes. */
  path: string;
  /** What is wrong, from the contract. */
  message: string;
}

/**
 * Why a row was rejected: it broke its contract, its cursor value cannot be read, or a value
 * does not fit its column's declared or inferred type (SQL extraction).
 */
export type RejectReason = "contract" | "cursor_unparseable" | "column_type";

/** A row that failed its contract. */
export interface RejectedRow {
  /** The row as received. */
  row: Record<string, unknown>;
  /** Its index in the batch. */
  index: number;
  /** Every failed check. */
  issues: RejectIssue[];
  /** Why it was rejected. @default "contract" */
  reason?: RejectReason;
}

/** Result of {@link validateBatch}. */
export interface ValidationResult<T> {
  /** Rows that passed, coerced to the contract's types, in input order. */
  valid: T[];
  /** Rows that failed, with their issues. */
  rejects: RejectedRow[];
}

const registry = new Map<string, z.ZodType>([
  ["orders", ordersContract],
  ["order_details", orderDetailsContract],
]);

/**
 * Registers a contract under a name (for user-owned modules, e.g. one written by
 * `tidemark contract infer`). A later registration under the same name wins.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { registerContract } from "./mod.ts";
 * registerContract("posts", z.object({ id: z.int().positive() }));
 * ```
 */
export function registerContract(name: string, schema: z.ZodType): void {
  registry.set(name, schema);
}

/** Names of the registered contracts, sorted. */
export function contractNames(): string[] {
  return [...registry.keys()].sort();
}

/**
 * The contract registered as `name`; throws {@link ConfigError} listing the known names.
 *
 * @example
 * ```ts
 * import { getContract } from "./mod.ts";
 * getContract("orders").safeParse({ OrderID: 0 }).success; // false
 * ```
 */
export function getContract(name: string): z.ZodType {
  const schema = registry.get(name);
  if (!schema) {
    throw new ConfigError("unknown contract", [{
      path: "contract",
      message: `"${name}" is not a registered contract; known: ${contractNames().join(", ")}`,
    }]);
  }
  return schema;
}

/** The sink column types a contract declares (for `SinkOptions.columns`). */
export function contractColumnTypes(name: string): Record<string, ColumnType> {
  return columnTypesOf(getContract(name));
}

/**
 * Validates a batch of rows against a contract: valid rows come back coerced, failed rows with
 * every issue (never only the first).
 *
 * @example
 * ```ts
 * import { orderDetailsContract, validateBatch } from "./mod.ts";
 * const { valid, rejects } = validateBatch([
 *   { OrderID: "10248", ProductID: 11, UnitPrice: 14, Quantity: 12, Discount: 0 },
 *   { OrderID: 10248, ProductID: 42, UnitPrice: 9.8, Quantity: 0, Discount: 1.5 },
 * ], orderDetailsContract);
 * valid[0].OrderID; // 10248
 * rejects[0].issues.map((i) => i.path); // ["Quantity", "Discount"]
 * ```
 */
export function validateBatch<S extends z.ZodType>(
  rows: readonly Record<string, unknown>[],
  schema: S,
): ValidationResult<z.output<S>> {
  const valid: z.output<S>[] = [];
  const rejects: RejectedRow[] = [];
  rows.forEach((row, index) => {
    const result = schema.safeParse(row);
    if (result.success) {
      valid.push(result.data);
    } else {
      rejects.push({
        row,
        index,
        issues: result.error.issues.map((issue) => ({
          path: formatPath(issue.path),
          message: issue.message,
        })),
      });
    }
  });
  return { valid, rejects };
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}
