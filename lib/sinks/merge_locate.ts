/**
 * What a merge learns about the asset's parts before it reads any row: which parts hold the keys
 * the run brings — ruled out by the min/max statistics of the first key column where they can,
 * else by reading the key columns alone — and how the run's columns compare with the asset's.
 * Shared by both engines through `merge_parts.ts`.
 * @module
 */
import type { CellValue } from "./column_types.ts";
import type { MergeEngine, MergeFrame } from "./merge_engine.ts";
import { compareCells, keyId, normalCell } from "./merge_rows.ts";
import { footerColumns, type ParquetFooter, parquetFooter } from "./parquet_js.ts";

/** An existing part of the asset. */
export interface Part {
  /** Its path. */
  file: string;
  /** Path relative to the asset folder. */
  relative: string;
  /** Its Parquet footer (schema, row groups, statistics). */
  footer: ParquetFooter;
}

/**
 * Which part holds each key the run brings (key id → part index): a part is ruled out by the
 * min/max statistics of the first key column where it has them, else its key columns are read.
 */
export async function locateKeys<F extends MergeFrame>(
  engine: MergeEngine<F>,
  primaryKey: readonly string[],
  parts: readonly Part[],
  incoming: F,
): Promise<Map<unknown, number>> {
  const incomingKeys = primaryKey.map((k) => engine.values(incoming, k));
  const wanted = new Set<unknown>();
  for (let r = 0; r < incoming.length; r++) wanted.add(keyId(incomingKeys, r));
  const first = primaryKey[0];
  const firstType = footerColumns(parts[0].footer).find((c) => c.name === first)?.type;
  // Statistics compare like the keys only for numbers and text (instants come back in other
  // units than the engines give).
  const sorted = firstType === "int64" || firstType === "float64" || firstType === "string"
    ? engine.values(incoming, first).map(normalCell).sort(compareStat)
    : null;
  const home = new Map<unknown, number>();
  for (let i = 0; i < parts.length; i++) {
    if (sorted && ruledOut(parts[i].footer, first, sorted)) continue;
    const frame = await engine.read(parts[i].file, primaryKey);
    const keys = primaryKey.map((k) => engine.values(frame, k));
    for (let r = 0; r < frame.length; r++) {
      const id = keyId(keys, r);
      if (wanted.has(id)) home.set(id, i);
    }
  }
  return home;
}

/**
 * True when the part's statistics of `column` show it holds none of the `sorted` values; false
 * when a row group has no statistics for it.
 */
function ruledOut(footer: ParquetFooter, column: string, sorted: readonly CellValue[]): boolean {
  let min: CellValue | undefined, max: CellValue | undefined;
  for (const group of footer.row_groups) {
    const chunk = group.columns.find((c) => c.meta_data?.path_in_schema.join(".") === column);
    // Only min_value/max_value: the deprecated min/max of text were compared as signed bytes.
    const stats = chunk?.meta_data?.statistics;
    const lo = statValue(stats?.min_value);
    const hi = statValue(stats?.max_value);
    if (lo === undefined || hi === undefined) return false;
    if (min === undefined || compareStat(lo, min) < 0) min = lo;
    if (max === undefined || compareStat(hi, max) > 0) max = hi;
  }
  if (min === undefined || max === undefined) return true; // no row group: no row
  let low = 0, high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (compareStat(sorted[mid], min) < 0) low = mid + 1;
    else high = mid;
  }
  return !(low < sorted.length && compareStat(sorted[low], max) <= 0);
}

function statValue(value: unknown): CellValue | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  const v = normalCell(value);
  return typeof v === "number" || typeof v === "bigint" || typeof v === "string" ? v : undefined;
}

/**
 * Orders values as Parquet statistics do: numbers numerically, text by code point (UTF-8 byte
 * order — code-unit order differs above U+FFFF and would rule out a part wrongly).
 */
function compareStat(a: CellValue, b: CellValue): number {
  if (typeof a !== "string" || typeof b !== "string") return compareCells(a, b);
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * How the run's columns compare with the asset's: `same` names and types; `narrower` (a subset:
 * parts stay, new parts take the asset's columns); `wider` (a new column: every part is
 * rewritten to have it); `mixed` when a column changes type or the parts themselves differ —
 * the asset is then merged whole, so keys of the old and new type meet after widening (`1` and
 * `"1"` are one key), as they always did.
 */
export async function columnsShape(
  parts: readonly Part[],
  incomingFiles: readonly string[],
): Promise<"same" | "narrower" | "wider" | "mixed"> {
  const columnsOf = (footer: ParquetFooter) =>
    new Map(footerColumns(footer).map((c) => [c.name, c.type]));
  const asset = columnsOf(parts[0].footer);
  const signature = (columns: Map<string, string>) =>
    [...columns].map(([n, t]) => `${n}:${t}`).sort().join(",");
  const key = signature(asset);
  if (parts.some((p) => signature(columnsOf(p.footer)) !== key)) return "mixed";
  let shape: "same" | "narrower" | "wider" = "same";
  for (const file of incomingFiles) {
    const run = columnsOf(await parquetFooter(file));
    for (const [name, type] of run) {
      const held = asset.get(name);
      if (held === undefined) shape = "wider";
      else if (held !== type) return "mixed";
    }
    if (shape === "same" && run.size < asset.size) shape = "narrower";
  }
  return shape;
}
