/**
 * The raw-load format: one row per record with `id`, `dl_inserted_at` (the load
 * time), `payload` (the record as canonical JSON text) and `dl_hash` (SHA-256 hex of that text),
 * ready to load into a warehouse as-is and to de-duplicate by hash.
 * @module
 */
import { createHash } from "node:crypto";
import { ContractError } from "../core/errors.ts";
import type { ColumnType } from "./column_types.ts";
import { canonicalJson } from "../core/json_text.ts";

/** Column types of the raw-load columns (the `id` type is inferred unless declared). */
export const RAW_LOAD_COLUMNS: Readonly<Record<string, ColumnType>> = {
  dl_inserted_at: "datetime",
  payload: "string",
  dl_hash: "string",
};

/** Options of {@link rawLoadColumns}. */
export interface RawLoadOptions {
  /** Field of each record copied to `id`. @default "id" */
  idField?: string;
  /** Value of `dl_inserted_at` for every row. @default new Date() */
  insertedAt?: Date;
}

/**
 * Turns records into raw-load columns. Throws {@link ContractError} when a record lacks the id
 * field.
 *
 * @example
 * ```ts
 * import { rawLoadColumns } from "./raw_load.ts";
 * const { payload } = rawLoadColumns([{ title: "x", id: 7 }]);
 * payload; // ['{"id":7,"title":"x"}']
 * ```
 */
export function rawLoadColumns(
  records: readonly Record<string, unknown>[],
  options: RawLoadOptions = {},
): { id: unknown[]; dl_inserted_at: Date[]; payload: string[]; dl_hash: string[] } {
  const idField = options.idField ?? "id";
  const insertedAt = options.insertedAt ?? new Date();
  const n = records.length;
  const id = new Array<unknown>(n);
  const payload = new Array<string>(n);
  const hash = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const record = records[i];
    const value = record[idField];
    if (value === null || value === undefined) {
      throw new ContractError(
        `raw-load record ${i} has no "${idField}" field (keys: ${
          Object.keys(record).slice(0, 8).join(", ") || "none"
        }); set the sink's idField to the record's identifier`,
      );
    }
    id[i] = value;
    payload[i] = canonicalJson(record);
    hash[i] = sha256Hex(payload[i]);
  }
  return { id, dl_inserted_at: new Array(n).fill(insertedAt), payload, dl_hash: hash };
}

/** SHA-256 hex of a text's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
