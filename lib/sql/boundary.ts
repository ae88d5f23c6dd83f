/**
 * The watermark boundary of an incremental extraction, as the rows are read: the largest value
 * of the incremental column, and the keys of the rows holding exactly that value, so that the
 * next run (which reads `column >= watermark`) drops the rows it already wrote. Pure, and
 * without zod: it runs on the SQLite reader thread (`incremental.ts` stores and reads it).
 * @module
 */
import type { ColumnType } from "../sinks/column_types.ts";

/** A boundary (stored as JSON in the state; see `incremental.ts`). */
export interface Boundary {
  /** The incremental column. */
  column: string;
  /** Its column type, so the next run binds the watermark with the right SQL type. */
  type: string;
  /** The watermark: the largest value seen, as text. */
  value: string;
  /** Key columns used to recognise a row. */
  keys: string[];
  /** Keys (JSON arrays of the key cells) of the rows holding exactly `value`. */
  rows: string[];
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
 * import { BoundaryTracker } from "./boundary.ts";
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
