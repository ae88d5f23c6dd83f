/**
 * The rejects quarantine: rows that fail their contract (or, for a SQL extraction, hold a value
 * that does not fit its column's type) go to `<out>/rejects/<asset>/<run_id>.jsonl`, one JSON
 * line each with the row, every failed field path and message, and its provenance (snapshot
 * path, page, snapshot sha256; for SQL: the chunk number, no snapshot), so a reject can be
 * traced to the exact response or result rows it came from. The reject ratio of an asset is checked against
 * `max_reject_ratio` (default 0.01) to fail the asset loudly when the source went bad.
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { appendLineDurable, writeFileAtomic } from "../core/atomic_file.ts";
import { ContractError } from "../core/errors.ts";
import { jsonText } from "../core/json_text.ts";
import { encodePartitionValue } from "../sinks/partition.ts";
import type { RejectedRow } from "./mod.ts";

/** Where a rejected row came from. */
export const rejectProvenanceSchema = z.object({
  /** Snapshot path relative to the output folder, e.g. `raw/Orders/<run>/00007.json`. */
  snapshot: z.string().nullable(),
  /** Page number within the asset's run. */
  page: z.number().int().nullable(),
  /** SHA-256 of the snapshot (as in the manifest). */
  sha256: z.string().nullable(),
});

/** Provenance of a reject. */
export type RejectProvenance = z.infer<typeof rejectProvenanceSchema>;

/** One line of a rejects file. */
export const rejectLineSchema = z.object({
  asset: z.string(),
  run_id: z.string(),
  /** Index of the row within its page (SQL extraction: its row of the query's result, from 0). */
  index: z.number().int(),
  /**
   * `contract`, `cursor_unparseable` for a cursor value that cannot be read, or `column_type`
   * for a SQL row whose value does not fit its column's type (absent in older files).
   */
  reason: z.enum(["contract", "cursor_unparseable", "column_type"]).optional(),
  row: z.record(z.string(), z.unknown()),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
  provenance: rejectProvenanceSchema,
});

/** One line of a rejects file. */
export type RejectLine = z.infer<typeof rejectLineSchema>;

/** The rejects file of an asset's run. */
export function rejectsPath(out: string, asset: string, runId: string): string {
  return join(out, "rejects", encodePartitionValue(asset), `${runId}.jsonl`);
}

/** Options of {@link writeRejects}. */
export interface WriteRejectsOptions {
  /** Asset name. */
  asset: string;
  /** Run id. */
  runId: string;
  /** Provenance shared by the rows (the page they came from). */
  provenance: RejectProvenance;
}

/**
 * Appends rejected rows to the run's rejects file (flushed before returning) and returns its
 * path; writes nothing for an empty list.
 *
 * @example
 * ```ts
 * import { writeRejects } from "./rejects.ts";
 * await writeRejects("out", [{ row: { OrderID: 0 }, index: 3, issues: [{ path: "OrderID", message: "Too small" }] }], {
 *   asset: "Orders",
 *   runId: "r1",
 *   provenance: { snapshot: "raw/Orders/r1/00007.json", page: 7, sha256: "b6f2…" },
 * });
 * // → out/rejects/Orders/r1.jsonl
 * ```
 */
export async function writeRejects(
  out: string,
  rejects: readonly RejectedRow[],
  options: WriteRejectsOptions,
): Promise<string> {
  const path = rejectsPath(out, options.asset, options.runId);
  if (rejects.length === 0) return path;
  const lines = rejects.map((r) =>
    jsonText({
      asset: options.asset,
      run_id: options.runId,
      index: r.index,
      reason: r.reason ?? "contract",
      row: r.row,
      issues: r.issues,
      provenance: options.provenance,
    })
  );
  await appendLineDurable(path, lines.join("\n"));
  return path;
}

/**
 * Reads a rejects file back (a torn last line from a crash is skipped).
 *
 * @example
 * ```ts
 * import { readRejects } from "./rejects.ts";
 * const lines = await readRejects("out/rejects/Orders/r1.jsonl");
 * ```
 */
export async function readRejects(path: string): Promise<RejectLine[]> {
  const text = await Deno.readTextFile(path);
  const out: RejectLine[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      out.push(rejectLineSchema.parse(JSON.parse(line)));
    } catch {
      // Only a torn last line can be unreadable: appends are whole lines, flushed.
    }
  }
  return out;
}

/**
 * Rewrites the rejects files of run `runId` (every asset's) keeping only the lines `keep`
 * accepts, atomically, and returns how many lines were dropped. A resumed harvest drops the
 * rejects of pages a killed run never committed: it fetches those pages again and writes their
 * rejects anew, so each rejected row is kept once.
 *
 * @example
 * ```ts
 * import { pruneRejects } from "./rejects.ts";
 * const live = new Set(["raw/Orders/r1/00001.json"]);
 * await pruneRejects("out", "r1", (line) => live.has(line.provenance.snapshot ?? ""));
 * ```
 */
export async function pruneRejects(
  out: string,
  runId: string,
  keep: (line: RejectLine) => boolean,
): Promise<number> {
  let dropped = 0;
  let assets: Deno.DirEntry[];
  try {
    assets = await Array.fromAsync(Deno.readDir(join(out, "rejects")));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
  for (const asset of assets) {
    if (!asset.isDirectory) continue;
    const path = join(out, "rejects", asset.name, `${runId}.jsonl`);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    const kept: string[] = [];
    let lines = 0;
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      lines++;
      let parsed: RejectLine;
      try {
        parsed = rejectLineSchema.parse(JSON.parse(line));
      } catch {
        continue; // a torn last line
      }
      if (keep(parsed)) kept.push(line);
    }
    if (kept.length === lines) continue;
    dropped += lines - kept.length;
    await writeFileAtomic(path, kept.length === 0 ? "" : `${kept.join("\n")}\n`);
  }
  return dropped;
}

/** Options of {@link checkRejectRatio}. */
export interface RejectRatioOptions {
  /** Asset name, for the message. */
  asset: string;
  /** Largest accepted share of rejected rows. @default 0.01 */
  maxRejectRatio?: number;
  /**
   * Fewer rejected rows than this never fail the asset, whatever their share: one malformed row
   * in a small incremental page goes to rejects and the run goes on, while a broken contract
   * rejects many. @default 10
   */
  minRejectsToFail?: number;
}

/**
 * Throws {@link ContractError} naming the asset, the count and the ratio when more than
 * `maxRejectRatio` of the asset's rows, and at least `minRejectsToFail` rows, were rejected;
 * returns the ratio otherwise.
 *
 * @example
 * ```ts
 * import { checkRejectRatio } from "./rejects.ts";
 * checkRejectRatio({ rejected: 1, total: 1000 }, { asset: "Orders" }); // 0.001
 * ```
 */
export function checkRejectRatio(
  counts: { rejected: number; total: number },
  options: RejectRatioOptions,
): number {
  const max = options.maxRejectRatio ?? 0.01;
  const ratio = counts.total === 0 ? 0 : counts.rejected / counts.total;
  if (ratio > max && counts.rejected >= (options.minRejectsToFail ?? 10)) {
    throw new ContractError(
      `asset "${options.asset}" rejected ${counts.rejected} of ${counts.total} rows ` +
        `(ratio ${ratio.toFixed(4)}), above max_reject_ratio ${max}; see its rejects file, ` +
        `fix the source or the contract, or raise max_reject_ratio (or min_rejects_to_fail)`,
    );
  }
  return ratio;
}
