/**
 * Incremental extraction: the watermark of an asset is the largest value of its incremental
 * column seen so far, plus the keys of the rows holding exactly that value (the boundary). A
 * re-run reads `column >= watermark` — so rows that arrived later with the same value are never
 * lost — and drops the rows whose key is in the boundary, which were written last time. Pure,
 * apart from reading and writing the two watermark rows of the state store. The tracker that
 * follows the boundary across a run's rows is in `boundary.ts` (no zod: it runs on the SQLite
 * reader thread).
 * @module
 */
import { z } from "zod";
import type { StateStore } from "../state/mod.ts";
import { readStoredJson } from "../state/stored_json.ts";
import type { Boundary } from "./boundary.ts";
import { type ParamValue, singleStatement, type SqlDialect } from "./params.ts";
import { quoteIdentifier } from "./source.ts";

export { type Boundary, BoundaryTracker } from "./boundary.ts";

/** Placeholder name the watermark is bound to in the wrapped query. */
export const WATERMARK_PARAM = "tidemark_watermark";

/** The state's `data_type` of the boundary record (the `default` record holds the value). */
export const BOUNDARY_DATA_TYPE = "sql_boundary";

/**
 * What is stored about the boundary of an asset (JSON in the boundary record's `last_id`); the
 * {@link Boundary} the tracker (`boundary.ts`) keeps.
 */
export const boundarySchema: z.ZodType<Boundary> = z.strictObject({
  /** The incremental column. */
  column: z.string(),
  /** Its column type, so the next run binds the watermark with the right SQL type. */
  type: z.string(),
  /** The watermark: the largest value seen, as text. */
  value: z.string(),
  /** Key columns used to recognise a row. */
  keys: z.array(z.string()),
  /** Keys (JSON arrays of the key cells) of the rows holding exactly `value`. */
  rows: z.array(z.string()),
});

/** Reads an asset's boundary; undefined on the first run. */
export async function readBoundary(
  state: StateStore,
  asset: string,
): Promise<Boundary | undefined> {
  return await readStoredJson(state, {
    asset,
    dataType: BOUNDARY_DATA_TYPE,
    schema: boundarySchema,
    what: "watermark",
  });
}

/** Stores an asset's boundary and its plain watermark value (shown by `tidemark state`). */
export async function writeBoundary(
  state: StateStore,
  asset: string,
  boundary: Boundary,
): Promise<void> {
  await state.setWatermark({ assetId: asset, lastId: boundary.value });
  await state.setWatermark({
    assetId: asset,
    dataType: BOUNDARY_DATA_TYPE,
    lastId: JSON.stringify(boundary),
  });
}

/**
 * Wraps a query so it returns only rows with `column >= :tidemark_watermark`. The column is
 * filtered on the query's result, so it can be any result column (an alias, an expression).
 *
 * @example
 * ```ts
 * import { wrapIncremental } from "./incremental.ts";
 * wrapIncremental("SELECT * FROM Orders", "OrderDate");
 * // SELECT * FROM (\nSELECT * FROM Orders\n) AS "tidemark_inc" WHERE "OrderDate" >= :tidemark_watermark
 * ```
 */
export function wrapIncremental(sql: string, column: string, dialect: SqlDialect = "sqlite") {
  return `SELECT * FROM (\n${singleStatement(sql, { dialect })}\n) AS "tidemark_inc" WHERE ${
    quoteIdentifier(column)
  } >= :${WATERMARK_PARAM}`;
}

/** The watermark text as a value of the column's type, for binding. */
export function watermarkValue(boundary: Boundary): ParamValue {
  if (boundary.type === "int64" && /^[+-]?\d+$/.test(boundary.value)) {
    const n = BigInt(boundary.value);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(n)
      : n;
  }
  if (boundary.type === "float64" && boundary.value.trim() !== "") {
    const n = Number(boundary.value);
    if (!Number.isNaN(n)) return n;
  }
  return boundary.value;
}
