/**
 * Incremental extraction: the watermark of an asset is the largest value of its incremental
 * column seen so far, plus the keys of the rows holding exactly that value (the boundary). A
 * re-run reads `column >= watermark` — so rows that arrived later with the same value are never
 * lost — and drops the rows whose key is in the boundary, which were written last time. Pure,
 * apart from reading and writing the two watermark rows of the state store.
 * @module
 */
import { z } from "zod";
import { SqlError } from "../core/errors.ts";
import type { StateStore } from "../state/mod.ts";
import type { ColumnType } from "../sinks/mod.ts";
import { type ParamValue, singleStatement, type SqlDialect } from "./params.ts";
import { quoteIdentifier } from "./source.ts";

/** Placeholder name the watermark is bound to in the wrapped query. */
export const WATERMARK_PARAM = "tidemark_watermark";

/** The state's `data_type` of the boundary record (the `default` record holds the value). */
export const BOUNDARY_DATA_TYPE = "sql_boundary";

/** What is stored about the boundary of an asset (JSON in the boundary record's `last_id`). */
export const boundarySchema = z.strictObject({
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
/** A stored boundary. */
export type Boundary = z.infer<typeof boundarySchema>;

/** Reads an asset's boundary; undefined on the first run. */
export async function readBoundary(
  state: StateStore,
  asset: string,
): Promise<Boundary | undefined> {
  const record = await state.getWatermark(asset, BOUNDARY_DATA_TYPE);
  if (!record?.lastId) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.lastId);
  } catch {
    parsed = undefined;
  }
  const result = boundarySchema.safeParse(parsed);
  if (!result.success) {
    throw new SqlError(
      `the stored watermark of asset "${asset}" is unreadable; reset it with ` +
        `'tidemark state reset ${asset}' and run again`,
    );
  }
  return result.data;
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

/** The text form of a cell for comparing with a stored watermark and building keys. */
export function cellText(value: unknown): string {
  return typeof value === "string" ? value : String(value);
}

/** Options of {@link BoundaryTracker}. */
export interface BoundaryTrackerOptions {
  /** The boundary of the previous run, whose rows are dropped when read again. */
  previous?: Boundary;
}

/**
 * Follows the largest incremental value across the chunks of a run and the keys of the rows
 * holding it, and drops rows written by the previous run.
 *
 * @example
 * ```ts
 * import { BoundaryTracker } from "./incremental.ts";
 * const tracker = new BoundaryTracker("OrderDate", "string", ["OrderID"]);
 * const keep = tracker.visit({ OrderDate: ["1997-01-01", "1997-01-02"], OrderID: [1, 2] }, 2);
 * tracker.boundary(); // { value: "1997-01-02", rows: ["[2]"], ... }
 * ```
 */
export class BoundaryTracker {
  readonly #column: string;
  readonly #type: ColumnType;
  readonly #keys: string[];
  readonly #previous: Boundary | undefined;
  readonly #previousRows: Set<string>;
  #max: unknown = null;
  #maxText: string | null = null;
  #rows = new Set<string>();
  /** Rows dropped because the previous run wrote them. */
  dropped = 0;

  /** A tracker of `column` (of `type`), recognising rows by `keys`. */
  constructor(
    column: string,
    type: ColumnType,
    keys: string[],
    options: BoundaryTrackerOptions = {},
  ) {
    this.#column = column;
    this.#type = type;
    this.#keys = keys;
    this.#previous = options.previous;
    this.#previousRows = new Set(options.previous?.rows ?? []);
  }

  /**
   * Looks at one chunk (as column arrays); returns the indexes of rows to keep, or `null` when
   * every row is kept.
   */
  visit(columns: Record<string, unknown[]>, length: number): number[] | null {
    const values = columns[this.#column];
    const keyColumns = this.#keys.map((k) => columns[k]);
    let keep: number[] | null = null;
    const previousValue = this.#previous?.value;
    if (previousValue !== undefined) {
      for (let i = 0; i < length; i++) {
        const v = values[i];
        const drop = v !== null && v !== undefined && cellText(v) === previousValue &&
          this.#previousRows.has(keyOf(keyColumns, i));
        if (drop) {
          keep ??= Array.from({ length: i }, (_, j) => j);
          this.dropped += 1;
        } else {
          keep?.push(i);
        }
      }
    }
    // The chunk's largest value first, so keys are built only for the rows that hold it.
    let chunkMax: unknown = null;
    for (let i = 0; i < length; i++) {
      const v = values[i];
      if (v === null || v === undefined) continue;
      if (chunkMax === null || compare(v, chunkMax, this.#type) > 0) chunkMax = v;
    }
    if (chunkMax === null) return keep;
    const cmp = this.#maxText === null ? 1 : compare(chunkMax, this.#max, this.#type);
    if (cmp > 0) {
      this.#max = chunkMax;
      this.#maxText = cellText(chunkMax);
      this.#rows = new Set();
    }
    if (cmp >= 0) {
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined && compare(v, chunkMax, this.#type) === 0) {
          this.#rows.add(keyOf(keyColumns, i));
        }
      }
    }
    return keep;
  }

  /** The boundary to store after the run; the previous one when the run saw no value. */
  boundary(): Boundary | undefined {
    if (this.#maxText === null) return this.#previous;
    return {
      column: this.#column,
      type: this.#type,
      value: this.#maxText,
      keys: this.#keys,
      rows: [...this.#rows],
    };
  }
}

function keyOf(columns: unknown[][], i: number): string {
  return JSON.stringify(columns.map((c) => {
    const v = c[i];
    return typeof v === "bigint" ? v.toString() : v ?? null;
  }));
}

function compare(a: unknown, b: unknown, type: ColumnType): number {
  if (type === "int64" || type === "float64") {
    const x = typeof a === "bigint" || typeof b === "bigint" ? BigInt(a as number) : a as number;
    const y = typeof a === "bigint" || typeof b === "bigint" ? BigInt(b as number) : b as number;
    return x > y ? 1 : x < y ? -1 : 0;
  }
  const x = cellText(a);
  const y = cellText(b);
  return x > y ? 1 : x < y ? -1 : 0;
}

/** Keeps only the rows at `keep` of every column. */
export function pickRows(columns: Record<string, unknown[]>, keep: number[]) {
  const out: Record<string, unknown[]> = {};
  for (const [name, values] of Object.entries(columns)) out[name] = keep.map((i) => values[i]);
  return out;
}
