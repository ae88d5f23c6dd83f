/**
 * ONE page, from response to commit (DESIGN.md §2): the response bytes become a durable snapshot;
 * the records at `data_path` lose the rows the previous run already wrote (the watermark
 * boundary) and pass the contract; the rows become complete part file(s) named by partition and
 * page; then the page's manifest line is appended, and only then is the page committed in state
 * (cursor, rows, snapshot, outputs — one transaction). A crash before the commit leaves parts no
 * committed page names (the next run deletes them) or, after the manifest line, a page the next
 * run adopts from the manifest: either way nothing is lost and nothing is written twice.
 * @module
 */
import type { z } from "zod";
import type { AssetConfig } from "../config/schema.ts";
import { writeRejects } from "../contracts/rejects.ts";
import type { HttpResult } from "../http/request.ts";
import { isSensitiveParam, REDACTED } from "../redact.ts";
import {
  attemptHistory,
  type ManifestRecord,
  type ManifestWriter,
} from "../provenance/manifest.ts";
import { snapshotPath, type SnapshotStore } from "../provenance/snapshot.ts";
import type { PageRequest } from "../paginate/mod.ts";
import type { StateStore } from "../state/mod.ts";
import { validateRows } from "./page_rows.ts";
import type { WatermarkTracker } from "./watermark_tracker.ts";

/** A page received and read, not yet persisted. */
export interface FetchedPage {
  /** The request as sent (page number in the walk, cursor in). */
  request: PageRequest;
  /** The final response with its attempts. */
  result: HttpResult;
  /** The parsed body. */
  body: unknown;
  /** The records at `data_path`. */
  records: Record<string, unknown>[];
  /** The next request, or `"done"`. */
  next: PageRequest | "done";
}

/** Where a page's rows go: `write(rows, key)` resolves to part paths relative to the out folder. */
export interface RowWriter {
  /** Writes complete part(s) for one page. */
  write(rows: readonly Record<string, unknown>[], key: string): Promise<string[]>;
}

/** Everything one page step needs, shared by the pages of an asset's partition. */
export interface PageStepContext {
  /** The out folder. */
  out: string;
  /** This run. */
  runId: string;
  /** The asset. */
  asset: AssetConfig;
  /** The partition key (`""` when not partitioned). */
  partitionKey: string;
  /** The partition's index, or null when the asset is not partitioned. */
  partitionIndex: number | null;
  /** Raw snapshot store. */
  snapshots: SnapshotStore;
  /** The run's manifest writer. */
  manifest: ManifestWriter;
  /** The state store. */
  state: StateStore;
  /** The asset's row writer. */
  output: RowWriter;
  /** The asset's watermark tracker (incremental assets). */
  tracker: WatermarkTracker | null;
  /** The asset's contract. */
  contract?: z.ZodType;
  /** Allocates the asset's next snapshot/manifest page number in this run (unique per asset and run). */
  nextSeq(): number;
  /** sha256 of the config. */
  configSha256: string;
  /** Versions. */
  env: ManifestRecord["env"];
  /** The watermark the asset started from. */
  watermarkIn: string | null;
  /** Secret values never written anywhere. */
  secrets: readonly string[];
  /** Called with each manifest line once appended (the report counts it). */
  onRecord?(record: ManifestRecord): void;
}

/** What one persisted page did. */
export interface PageOutcome {
  /** The page's number in the manifest (unique per asset and run). */
  seq: number;
  /** Records received. */
  records: number;
  /** Rows written. */
  rows: number;
  /** Records dropped as already written by the previous run. */
  dropped: number;
  /** Records the contract rejected. */
  rejected: number;
  /** Parts written, relative to the out folder. */
  outputs: string[];
  /** Whether this was the walk's last page. */
  done: boolean;
}

/** The part key of a page: `00007`, or `p01-00007` in partition 1. */
export function partKey(partitionIndex: number | null, page: number): string {
  const number = String(page).padStart(5, "0");
  return partitionIndex === null ? number : `p${String(partitionIndex).padStart(2, "0")}-${number}`;
}

/**
 * Persists and commits one fetched page. Throws when any step fails; nothing is committed then.
 *
 * @example
 * ```ts
 * import { persistPage } from "./page_step.ts";
 * const outcome = await persistPage(context, fetched);
 * console.log(outcome.rows, outcome.outputs);
 * ```
 */
export async function persistPage(
  ctx: PageStepContext,
  fetched: FetchedPage,
): Promise<PageOutcome> {
  const { asset, request, result } = { asset: ctx.asset, ...fetched };
  const seq = ctx.nextSeq();
  const snapshot = snapshotPath(asset.name, ctx.runId, seq);
  // The snapshot's fsync runs while the rows are validated and their parts written.
  const snapshotWrite = ctx.snapshots.write(asset.name, ctx.runId, seq, result.body);
  snapshotWrite.catch(() => {});
  const droppedBefore = ctx.tracker?.dropped ?? 0;
  const kept = ctx.tracker ? ctx.tracker.visit(fetched.records) : fetched.records;
  const dropped = (ctx.tracker?.dropped ?? 0) - droppedBefore;
  const { rows, rejects } = validateRows(kept, { contract: ctx.contract });
  const outputs = await ctx.output.write(rows, partKey(ctx.partitionIndex, request.page));
  const written = await snapshotWrite;
  if (rejects.length > 0) {
    await writeRejects(ctx.out, rejects, {
      asset: asset.name,
      runId: ctx.runId,
      provenance: { snapshot, page: seq, sha256: written.sha256 },
    });
  }
  const cursorOut = fetched.next === "done" ? null : fetched.next.cursor;
  const attempts = result.attempts;
  const last = attempts[attempts.length - 1];
  const record = await ctx.manifest.append({
    kind: "http",
    run_id: ctx.runId,
    asset: asset.name,
    page: seq,
    attempt: Math.max(1, attempts.length),
    timestamp: new Date(last?.startedAt ?? Date.now()).toISOString(),
    method: result.method,
    source: sourceOf(result.url),
    params: manifestParams(request.params, ctx.secrets),
    status: result.status,
    attempts: Math.max(1, attempts.length),
    retry_after: retryAfterOf(result),
    slept_ms: result.sleptMs + attempts.reduce((n, a) => n + a.queuedMs, 0),
    elapsed_ms: Math.max(0, last?.elapsedMs ?? result.elapsedMs),
    sha256: written.sha256,
    bytes: written.bytes,
    rows: fetched.records.length,
    cursor_in: request.cursor,
    cursor_out: cursorOut,
    watermark_in: ctx.watermarkIn,
    snapshot: written.path,
    output: outputs.length === 0 ? null : outputs.length === 1 ? outputs[0] : outputs,
    auth: result.auth,
    config_sha256: ctx.configSha256,
    env: ctx.env,
    partition: ctx.partitionKey === "" ? null : ctx.partitionKey,
    attempt_history: attemptHistory(attempts),
  });
  ctx.onRecord?.(record);
  await ctx.state.commitPage({
    runId: ctx.runId,
    assetId: asset.name,
    partition: ctx.partitionKey,
    page: request.page,
    cursorIn: request.cursor,
    cursorOut,
    rows: fetched.records.length,
    snapshot: written.path,
    outputs,
    sha256: written.sha256,
    done: cursorOut === null,
  });
  return {
    seq,
    records: fetched.records.length,
    rows: rows.length,
    dropped,
    rejected: rejects.length,
    outputs,
    done: cursorOut === null,
  };
}

/** The URL without query string (already redacted by the HTTP layer). */
function sourceOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return url.split("?")[0];
  }
}

/** Request parameters for the manifest: credential-like names and secret values masked. */
export function manifestParams(
  params: Record<string, string>,
  secrets: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    const secret = isSensitiveParam(name) ||
      secrets.some((s) => s.length >= 4 && value.includes(s));
    out[name] = secret ? REDACTED : value;
  }
  return out;
}

/** The server's last requested wait in seconds (a `Retry-After` or reset header), or null. */
function retryAfterOf(result: HttpResult): number | null {
  for (let i = result.attempts.length - 1; i >= 0; i--) {
    const a = result.attempts[i];
    if (a.waitHeader !== undefined) return Math.round(a.sleptMs) / 1000;
  }
  return null;
}
