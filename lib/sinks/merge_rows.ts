/**
 * The decision of a merge by key, shared by both engines (polars and the no-FFI one): which rows
 * survive — one per primary key, the newest by the order column (null oldest), ties going to the
 * run's row and then to the later row — and in which order they are written (by key). It works on
 * plain cell values, so `merge_polars.ts` and `merge_js.ts` only read, gather and write.
 * @module
 */
import { ContractError } from "../core/errors.ts";
import type { CellValue } from "./column_types.ts";

/** The columns a merge decides on, as plain values of one frame's rows. */
export interface DecisionColumns {
  /** Values of each primary key column, in `primaryKey` order. */
  keys: readonly (readonly CellValue[])[];
  /** Values of the order column, if the merge has one. */
  order?: readonly CellValue[];
  /** 0 for a row of the asset, 1 for a row the run brought. */
  sources: Uint8Array;
}

/**
 * The rows that survive, sorted by key (each key once): for each key the greatest
 * (order value, source, position).
 *
 * @example
 * ```ts
 * import { chooseRows } from "./merge_rows.ts";
 * chooseRows({ keys: [[1, 2, 1]], sources: Uint8Array.of(0, 0, 1) }); // [2, 1]
 * ```
 */
export function chooseRows(columns: DecisionColumns): number[] {
  const { keys, order, sources } = columns;
  const best = new Map<unknown, number>();
  for (let i = 0; i < sources.length; i++) {
    const id = keyId(keys, i);
    const held = best.get(id);
    if (held === undefined || newer(i, held, order, sources)) best.set(id, i);
  }
  return [...best.values()].sort((a, b) => compareKeys(keys, a, b) || a - b);
}

/**
 * The rows of an existing part once the run's rows of its keys are applied: the first `held`
 * rows are the part's (source 0), the others the run's. Each of the part's rows stays in its
 * place (the part's row order is kept) unless a run's row of its key is
 * newer (see {@link chooseRows}: greater order value, or equal and from the run), which then
 * takes that place. A run's row whose key the part does not hold is left out. Linear: no sort,
 * no map of the part's keys.
 *
 * @example
 * ```ts
 * import { applyToPart } from "./merge_rows.ts";
 * applyToPart({ keys: [[1, 2, 3, 2]], sources: Uint8Array.of(0, 0, 0, 1) }, 3); // [0, 3, 2]
 * ```
 */
export function applyToPart(columns: DecisionColumns, held: number): number[] {
  const { keys, order, sources } = columns;
  const winners = new Map<unknown, number>();
  for (let i = held; i < sources.length; i++) {
    const id = keyId(keys, i);
    const best = winners.get(id);
    if (best === undefined || newer(i, best, order, sources)) winners.set(id, i);
  }
  const out = new Array<number>(held);
  for (let r = 0; r < held; r++) {
    const best = winners.size === 0 ? undefined : winners.get(keyId(keys, r));
    out[r] = best !== undefined && newer(best, r, order, sources) ? best : r;
  }
  return out;
}

/**
 * A value identifying row `i`'s key, equal for equal keys (a Map key): the cell itself for a
 * one-column key, else text.
 */
export function keyId(keys: readonly (readonly CellValue[])[], i: number): unknown {
  if (keys.length === 1) return normalCell(keys[0][i]);
  return JSON.stringify(keys.map((column) => keyText(column[i])));
}

/**
 * A cell as decisions compare it: an instant as epoch milliseconds, an integer within 2^53 as a
 * number (engines return either).
 */
export function normalCell(value: unknown): CellValue {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "bigint" && value <= MAX_SAFE && value >= -MAX_SAFE) return Number(value);
  return value as CellValue;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Throws {@link ContractError} when a key column is missing or holds a null, or the order column
 * is missing; `names` are the data's columns.
 */
export function checkDecisionColumns(
  names: readonly string[],
  values: (name: string) => readonly CellValue[],
  options: { primaryKey: readonly string[]; orderBy?: string },
): void {
  for (const key of options.primaryKey) {
    if (!names.includes(key)) {
      throw new ContractError(
        `merge key column "${key}" is not in the data (columns: ${
          names.join(", ")
        }); fix primary_key`,
      );
    }
    let nulls = 0;
    for (const v of values(key)) if (v === null || v === undefined) nulls++;
    if (nulls > 0) {
      throw new ContractError(
        `merge needs a value in every key column but ${nulls} row(s) have null "${key}"; ` +
          `fix the source or the asset's primary_key`,
      );
    }
  }
  if (options.orderBy && !names.includes(options.orderBy)) {
    throw new ContractError(
      `merge order column "${options.orderBy}" is not in the data; fix the incremental field`,
    );
  }
}

function newer(
  i: number,
  held: number,
  order: readonly CellValue[] | undefined,
  sources: Uint8Array,
): boolean {
  if (order) {
    const c = compareCells(normalCell(order[i]), normalCell(order[held]));
    if (c !== 0) return c > 0;
  }
  if (sources[i] !== sources[held]) return sources[i] > sources[held];
  return i > held;
}

function compareKeys(keys: readonly (readonly CellValue[])[], a: number, b: number): number {
  for (const column of keys) {
    const c = compareCells(normalCell(column[a]), normalCell(column[b]));
    if (c !== 0) return c;
  }
  return 0;
}

function keyText(value: CellValue): string {
  const v = normalCell(value);
  return typeof v === "bigint" ? `${v}` : JSON.stringify(v);
}

/** Orders cells of one column: null first, numbers and bigints numerically, text by code unit. */
export function compareCells(a: CellValue, b: CellValue): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "bigint" || typeof b === "bigint") {
    const x = BigInt(a as number | bigint), y = BigInt(b as number | bigint);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return a ? 1 : -1;
  const x = String(a), y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
