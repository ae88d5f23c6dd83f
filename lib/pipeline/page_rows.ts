/**
 * One page's response bytes → records → rows, as a pure function: the JSON body, the records at
 * `data_path`, and the rows that pass the asset's contract (coerced to its types) with the rows
 * it rejects. The harvest uses it on every page it receives; `tidemark replay` uses it on the
 * snapshots alone, offline, and so gets the same rows.
 * @module
 */
import type { z } from "zod";
import { type RejectedRow, validateBatch } from "../contracts/mod.ts";
import { PaginationError } from "../core/errors.ts";
import { select } from "../core/select.ts";
import type { WatermarkTracker } from "./watermark_tracker.ts";

const decoder = new TextDecoder();

/**
 * The parsed body of a response: the HTTP layer's own parse when it made one (a JSON content
 * type), else the bytes decoded with {@link decodeBody}.
 */
export function responseBody(result: { json?: unknown; body: Uint8Array }, label: string): unknown {
  return result.json !== undefined ? result.json : decodeBody(result.body, label);
}

/** Parses a response body as JSON; throws {@link PaginationError} naming `label` when it is not. */
export function decodeBody(bytes: Uint8Array, label = "response"): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new PaginationError(
      `${label}: the response is not JSON (${
        (error as Error).message
      }); check the URL and that the API answers JSON`,
    );
  }
}

/**
 * The records of a parsed body at `dataPath` (`rows`, `data`, `""` for a bare array). A missing
 * or null value is no records (an empty timeline has no `data`); anything but a list of objects
 * is a {@link PaginationError}.
 *
 * @example
 * ```ts
 * import { selectRecords } from "./page_rows.ts";
 * selectRecords({ rows: [{ OrderID: 1 }], next: null }, "rows"); // [{ OrderID: 1 }]
 * ```
 */
export function selectRecords(
  body: unknown,
  dataPath: string,
  label = "response",
  options: { optional?: boolean } = {},
): Record<string, unknown>[] {
  const found = select(body, dataPath);
  if (found === undefined && !options.optional) {
    // A data_path that is not there is far more often a wrong path than an API leaving the
    // list out: harvesting zero rows without a word would be fast and silently wrong.
    const keys = body !== null && typeof body === "object" && !Array.isArray(body)
      ? Object.keys(body).slice(0, 8).join(", ")
      : typeof body;
    throw new PaginationError(
      `${label}: the response has no "${dataPath}" (it has: ${keys}); point data_path at the ` +
        "list of records, or set data_optional: true if the API leaves the list out when it is empty",
    );
  }
  if (found === undefined || found === null) return [];
  if (!Array.isArray(found)) {
    throw new PaginationError(
      `${label}: data_path "${dataPath}" holds ${typeof found}, not a list of records; point data_path at the list (e.g. "rows", "data", "" for a bare array)`,
    );
  }
  for (let i = 0; i < found.length; i++) {
    const record = found[i];
    if (record === null || typeof record !== "object" || Array.isArray(record)) {
      throw new PaginationError(
        `${label}: record ${i} at data_path "${dataPath}" is ${
          JSON.stringify(record)?.slice(0, 60)
        }, not an object; point data_path at a list of objects`,
      );
    }
  }
  return found as Record<string, unknown>[];
}

/** Rows of a page: what passed the contract (coerced) and what it rejected. */
export interface PageRows {
  /** Rows to write, in record order. */
  rows: Record<string, unknown>[];
  /** Records that failed the contract, with every issue. */
  rejects: RejectedRow[];
}

/** Options of {@link validateRows} and {@link rowsFromBytes}. */
export interface PageRowsOptions {
  /** The asset's contract; without one every record is a row as it is. */
  contract?: z.ZodType;
}

/** Records → rows through the asset's contract. */
export function validateRows(
  records: readonly Record<string, unknown>[],
  options: PageRowsOptions = {},
): PageRows {
  if (!options.contract) return { rows: records as Record<string, unknown>[], rejects: [] };
  const { valid, rejects } = validateBatch(records, options.contract);
  return { rows: valid as Record<string, unknown>[], rejects };
}

/** Options of {@link rowsOfPage}. */
export interface RowsOfPageOptions extends PageRowsOptions {
  /** The asset's watermark tracker (incremental assets): drops rows the last run wrote. */
  tracker?: WatermarkTracker | null;
  /** The cursor field, named in the rejects of rows whose value cannot be read. */
  cursorField?: string;
}

/** A page's rows, rejects, and the records dropped as written by the previous run. */
export interface PageOutcomeRows extends PageRows {
  /** Records dropped at the previous boundary. */
  dropped: number;
}

/**
 * The one walk from a page's records to its rows, shared by the harvest and replay: records
 * whose cursor value cannot be read are rejected (`cursor_unparseable`) before the watermark
 * sees them, records the previous run wrote at its boundary are dropped, and the rest pass the
 * contract.
 *
 * @example
 * ```ts
 * import { rowsOfPage } from "./page_rows.ts";
 * const { rows, rejects } = rowsOfPage([{ OrderID: 1 }], {});
 * ```
 */
export function rowsOfPage(
  records: readonly Record<string, unknown>[],
  options: RowsOfPageOptions,
): PageOutcomeRows {
  if (!options.tracker) return { ...validateRows(records, options), dropped: 0 };
  const droppedBefore = options.tracker.dropped;
  const { kept, unparseable } = options.tracker.visit(records);
  const dropped = options.tracker.dropped - droppedBefore;
  const { rows, rejects } = validateRows(kept, options);
  if (unparseable.length === 0) return { rows, rejects, dropped };
  const cursorRejects: RejectedRow[] = unparseable.map((u) => ({
    row: u.record,
    index: u.index,
    issues: [{ path: options.cursorField ?? "", message: u.message }],
    reason: "cursor_unparseable",
  }));
  return { rows, rejects: [...cursorRejects, ...rejects], dropped };
}

/** Options of {@link rowsFromBytes}. */
export interface RowsFromBytesOptions extends PageRowsOptions {
  /** Where the records are in the body. */
  dataPath: string;
  /** A body without `dataPath` holds no records (else it is an error). @default false */
  dataOptional?: boolean;
  /** Names the page in errors. @default "response" */
  label?: string;
}

/**
 * A snapshot's bytes → its rows, exactly as the harvest computed them (before de-duplication
 * against the previous run's boundary, which `replay` applies across pages).
 *
 * @example
 * ```ts
 * import { rowsFromBytes } from "./page_rows.ts";
 * const bytes = await Deno.readFile("out/raw/Orders/20261123T101500Z-3fa9c1/00001.json");
 * const { rows } = rowsFromBytes(bytes, { dataPath: "rows" });
 * ```
 */
export function rowsFromBytes(
  bytes: Uint8Array,
  options: RowsFromBytesOptions,
): PageRows & { records: Record<string, unknown>[] } {
  const records = selectRecords(decodeBody(bytes, options.label), options.dataPath, options.label, {
    optional: options.dataOptional,
  });
  return { records, ...validateRows(records, options) };
}
