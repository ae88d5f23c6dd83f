/**
 * Which manifest lines still describe files on disk. Lines are append-only, so a line never
 * changes when its output is replaced; later `event` lines say so instead:
 *
 * - a `complete` event of a `replace` or `merge` asset lists the files the asset now holds: every
 *   earlier line of that asset (its pages' staged parts, older generations) is superseded;
 * - a `derive` event rebuilds its dataset whole: earlier `derive` lines of it are superseded;
 * - a `discard` event names snapshots whose pages were never committed (a crash between the
 *   manifest line and the commit): their parts were deleted and the pages fetched again.
 *
 * `tidemark verify` does not ask superseded outputs to exist, and `tidemark replay` skips
 * discarded pages. Pure.
 * @module
 */
import { type ManifestRecord, outputsOf } from "./manifest.ts";

/** A manifest line with its 1-based number. */
export interface ManifestEntry {
  /** 1-based line number. */
  line: number;
  /** The record. */
  record: ManifestRecord;
}

/** Snapshots named by `discard` events: their lines' rows never reached the outputs. */
export function discardedSnapshots(entries: readonly ManifestEntry[]): Set<string> {
  const out = new Set<string>();
  for (const { record } of entries) {
    if (record.kind === "event" && record.event === "discard") {
      for (const path of record.discarded ?? []) out.add(path);
    }
  }
  return out;
}

/**
 * The lines whose outputs are no longer expected on disk: superseded by a later `complete`
 * (replace/merge) or `derive` event of the same dataset, or discarded.
 *
 * @example
 * ```ts
 * import { loadManifest } from "./manifest.ts";
 * import { supersededLines } from "./live_outputs.ts";
 * const { entries } = await loadManifest("demo-out/manifest.jsonl");
 * const superseded = supersededLines(entries); // line numbers
 * ```
 */
export function supersededLines(entries: readonly ManifestEntry[]): Set<number> {
  const lastSwitch = new Map<string, number>();
  const lastDerive = new Map<string, number>();
  for (const { line, record } of entries) {
    if (record.kind !== "event") continue;
    if (record.event === "complete" && (record.mode === "replace" || record.mode === "merge")) {
      lastSwitch.set(record.asset, line);
    } else if (record.event === "derive") {
      lastDerive.set(record.asset, line);
    }
  }
  const discarded = discardedSnapshots(entries);
  const out = new Set<number>();
  for (const { line, record } of entries) {
    if (outputsOf(record).length === 0) continue;
    const isDerive = record.kind === "event" && record.event === "derive";
    const last = isDerive ? lastDerive.get(record.asset) : lastSwitch.get(record.asset);
    if (
      (last !== undefined && line < last) ||
      (record.snapshot !== null && discarded.has(record.snapshot))
    ) {
      out.add(line);
    }
  }
  return out;
}
