/**
 * The watermark of one asset while it is harvested (docs/design.md §4): the largest value
 * of `cursor_field` seen (timestamps normalized to UTC ISO-8601, ids compared as BigInt), the
 * smallest one (the `X_oldest` of timelines), and the keys of the rows inside the boundary
 * window — the rows holding the largest value, or with a `lookback` every row within that window
 * of it. The next run asks for `>=` the watermark (minus the lookback) and drops exactly the rows
 * whose key and cursor value are in that window: rows tied at the boundary are re-read, never
 * lost, and never written twice, even to append-only output.
 *
 * Pure and in memory; memory is bounded by the window, not by the asset.
 * @module
 */
import { z } from "zod";
import type { AssetConfig } from "../config/schema.ts";
import { compileSelector, type Selector } from "../core/select.ts";
import { StateError } from "../core/errors.ts";
import {
  applyLookback,
  compareIds,
  normalizeTimestamp,
  type WatermarkKind,
} from "../state/watermark.ts";

/** What a completed asset leaves for the next run: its watermark and the rows of its window. */
export const boundarySchema = z.strictObject({
  /** How values compare. */
  kind: z.enum(["timestamp", "id"]),
  /** The largest cursor value seen (normalized). */
  value: z.string(),
  /** The lookback the window was taken with, if any. */
  lookback: z.string().nullable(),
  /** `[record key, cursor value]` of every row seen inside the window. */
  keys: z.array(z.tuple([z.string(), z.string()])),
  /**
   * The largest value as the source wrote it (`1998-05-06 00:00:00.000`), so the next request
   * can send the watermark in the source's own form. Absent in boundaries of older versions.
   */
  raw: z.string().optional(),
});
/** The boundary of a completed asset. */
export type Boundary = z.infer<typeof boundarySchema>;

/** Options of {@link WatermarkTracker}. */
export interface WatermarkTrackerOptions {
  /** How values compare. @default "timestamp" */
  kind?: WatermarkKind;
  /** Columns identifying a record; without them the whole record is its key. @default [] */
  primaryKey?: readonly string[];
  /** Window kept behind the largest value (`2d`, or a count of ids). @default none */
  lookback?: string;
  /** The boundary of the last completed run, whose rows are dropped when read again. */
  previous?: Boundary | null;
}

/** A record whose cursor value cannot be read: it is rejected, never written, never a watermark. */
export interface UnparseableCursor {
  /** The record as received. */
  record: Record<string, unknown>;
  /** Its index in the page. */
  index: number;
  /** Why its cursor value cannot be read, naming the value. */
  message: string;
}

/** What {@link WatermarkTracker.visit} makes of one page. */
export interface VisitedPage {
  /** Records to write, in page order. */
  kept: Record<string, unknown>[];
  /** Records whose cursor value cannot be read. */
  unparseable: UnparseableCursor[];
}

/**
 * Follows an asset's cursor values page by page.
 *
 * @example
 * ```ts
 * import { WatermarkTracker } from "./watermark_tracker.ts";
 * const tracker = new WatermarkTracker("OrderDate", { primaryKey: ["OrderID"] });
 * tracker.visit([{ OrderID: 1, OrderDate: "1997-01-01 00:00:00.000" }]).kept.length; // 1
 * tracker.boundary()?.value; // "1997-01-01T00:00:00.000Z"
 * tracker.boundary()?.raw; // "1997-01-01 00:00:00.000"
 * ```
 */
export class WatermarkTracker {
  readonly #field: string;
  readonly #cursor: Selector;
  readonly #kind: WatermarkKind;
  readonly #primaryKey: readonly string[];
  readonly #lookback: string | null;
  readonly #previous: Map<string, string>;
  readonly #previousFloor: string | null;
  readonly #previousValue: string | null;
  #max: string | null = null;
  #maxRaw: string | null = null;
  #min: string | null = null;
  #floor: string | null = null;
  // The window, as parallel arrays: the key cells of each record at or above the floor (its
  // primary-key cell, cells, or whole-record key) and its cursor value. Keys are built only for
  // the entries that survive to the boundary: most records of a sorted walk are pruned first.
  #cells: unknown[] = [];
  #values: string[] = [];
  #pruneAt = 1024;
  #lastRaw: unknown = undefined;
  #lastValue = "";
  /** Records dropped because the previous run already wrote them. */
  dropped = 0;
  /** Records seen whose value equals the previous boundary's (re-read at `>=` the watermark). */
  atPreviousValue = 0;

  /** A tracker of `cursorField` (a selector into each record). */
  constructor(cursorField: string, options: WatermarkTrackerOptions = {}) {
    this.#field = cursorField;
    this.#cursor = compileSelector(cursorField);
    this.#kind = options.kind ?? "timestamp";
    this.#primaryKey = options.primaryKey ?? [];
    this.#lookback = options.lookback ?? null;
    const previous = options.previous ?? null;
    this.#previous = new Map(previous?.keys ?? []);
    this.#previousValue = previous?.value ?? null;
    // Only records at or above the previous window's floor can be in it; below, no key is built.
    this.#previousFloor = previous && this.#previous.size > 0
      ? this.#floorOf(previous.value, previous.lookback)
      : null;
  }

  /** The largest value seen, normalized, or null. */
  get newest(): string | null {
    return this.#max;
  }

  /** The smallest value seen, normalized, or null. */
  get oldest(): string | null {
    return this.#min;
  }

  /** The previous boundary's value, or null without one. */
  get previousValue(): string | null {
    return this.#previousValue;
  }

  /** How many rows the previous run wrote at its boundary's value (0 without a boundary). */
  get previousAtValue(): number {
    let count = 0;
    for (const value of this.#previous.values()) if (value === this.#previousValue) count++;
    return count;
  }

  /**
   * Looks at one page of records: returns those to write (the ones the previous run wrote are
   * dropped and counted) and takes every record into the watermark and the window. A record
   * whose cursor value cannot be read is set apart as unparseable before the watermark sees it:
   * one bad value must neither stop the asset nor move its watermark.
   */
  visit(records: readonly Record<string, unknown>[]): VisitedPage {
    const kept: Record<string, unknown>[] = [];
    const unparseable: UnparseableCursor[] = [];
    for (let index = 0; index < records.length; index++) {
      const record = records[index];
      let value: string | null;
      try {
        value = this.#valueOf(record);
      } catch (error) {
        if (!(error instanceof StateError)) throw error;
        unparseable.push({ record, index, message: error.message });
        continue;
      }
      if (value !== null) {
        this.#observe(record, value);
        if (this.#isPrevious(record, value)) {
          this.dropped++;
          continue;
        }
      }
      kept.push(record);
    }
    return { kept, unparseable };
  }

  /**
   * Takes records into the watermark and the window without filtering (a resumed run re-reading
   * its committed pages); a record with an unreadable cursor value was rejected then and is
   * passed over now.
   */
  observe(records: readonly Record<string, unknown>[]): void {
    for (const record of records) {
      let value: string | null;
      try {
        value = this.#valueOf(record);
      } catch (error) {
        if (!(error instanceof StateError)) throw error;
        continue;
      }
      if (value !== null) this.#observe(record, value);
    }
  }

  /** The boundary to store once the asset is complete, or null when no record had a value. */
  boundary(): Boundary | null {
    if (this.#max === null) return null;
    this.#prune();
    return {
      kind: this.#kind,
      value: this.#max,
      lookback: this.#lookback,
      keys: [...this.#windowKeys()],
      ...(this.#maxRaw === null ? {} : { raw: this.#maxRaw }),
    };
  }

  #observe(record: Record<string, unknown>, value: string): void {
    if (value === this.#previousValue) this.atPreviousValue++;
    if (this.#max === null || this.#compare(value, this.#max) > 0) {
      this.#max = value;
      // #valueOf has just read this record, so #lastRaw is its value as the source wrote it.
      this.#maxRaw = String(this.#lastRaw);
      this.#floor = this.#floorOf(value, this.#lookback);
      if (this.#values.length >= this.#pruneAt) this.#prune();
    }
    if (this.#min === null || this.#compare(value, this.#min) < 0) this.#min = value;
    if (value !== this.#floor && this.#compare(value, this.#floor!) < 0) return;
    this.#cells.push(this.#cellsOf(record));
    this.#values.push(value);
  }

  #isPrevious(record: Record<string, unknown>, value: string): boolean {
    if (this.#previousFloor === null || this.#compare(value, this.#previousFloor) < 0) return false;
    return this.#previous.get(this.keyOf(record)) === value;
  }

  /** Drops the window entries below the floor (in place). */
  #prune(): void {
    const floor = this.#floor;
    if (floor !== null) {
      let kept = 0;
      for (let i = 0; i < this.#values.length; i++) {
        const value = this.#values[i];
        if (value !== floor && this.#compare(value, floor) < 0) continue;
        this.#cells[kept] = this.#cells[i];
        this.#values[kept] = value;
        kept++;
      }
      this.#cells.length = kept;
      this.#values.length = kept;
    }
    this.#pruneAt = Math.max(1024, this.#values.length * 2);
  }

  /** The window as `key → value`, a later sighting of a key replacing an earlier one. */
  #windowKeys(): Map<string, string> {
    const keys = new Map<string, string>();
    for (let i = 0; i < this.#values.length; i++) {
      keys.set(this.#keyOfCells(this.#cells[i]), this.#values[i]);
    }
    return keys;
  }

  /** What the window keeps of a record to build its key later: its key cell(s), or its key. */
  #cellsOf(record: Record<string, unknown>): unknown {
    const pk = this.#primaryKey;
    if (pk.length === 0) return JSON.stringify(record);
    if (pk.length === 1) return record[pk[0]] ?? null;
    return pk.map((k) => record[k] ?? null);
  }

  #keyOfCells(cells: unknown): string {
    const pk = this.#primaryKey;
    if (pk.length === 0) return cells as string;
    return JSON.stringify(pk.length === 1 ? [cells] : cells);
  }

  #floorOf(value: string, lookback: string | null): string {
    if (lookback === null || lookback === "") return value;
    return applyLookback(value, lookback, { kind: this.#kind });
  }

  /** The identity of a record: its primary key cells, or the whole record. */
  keyOf(record: Record<string, unknown>): string {
    return this.#keyOfCells(this.#cellsOf(record));
  }

  #valueOf(record: Record<string, unknown>): string | null {
    const raw = this.#cursor(record);
    if (raw === null || raw === undefined || raw === "") return null;
    // Pages are often sorted or tied on the cursor: normalize each distinct value once.
    if (raw === this.#lastRaw) return this.#lastValue;
    const value = this.#normalize(raw);
    this.#lastRaw = raw;
    this.#lastValue = value;
    return value;
  }

  #normalize(raw: unknown): string {
    if (this.#kind === "id") {
      const text = String(raw).trim();
      if (!/^-?\d+$/.test(text)) {
        throw new StateError(
          `cursor_field "${this.#field}" holds ${
            JSON.stringify(raw)
          }, not a whole-number id; set incremental.kind: timestamp or point cursor_field at the id`,
        );
      }
      return BigInt(text).toString();
    }
    if (typeof raw !== "string" && typeof raw !== "number") {
      throw new StateError(
        `cursor_field "${this.#field}" holds ${
          JSON.stringify(raw)
        }, not a timestamp; point cursor_field at a date-time field`,
      );
    }
    return normalizeTimestamp(raw);
  }

  #compare(a: string, b: string): number {
    // Normalized timestamps share one fixed-width format, so text order is time order.
    if (this.#kind === "timestamp") return a < b ? -1 : a > b ? 1 : 0;
    return compareIds(a, b);
  }
}

/** How an asset's watermark values compare. */
export function watermarkKind(asset: AssetConfig): WatermarkKind {
  return asset.incremental?.kind ?? "timestamp";
}
