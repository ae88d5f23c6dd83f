/**
 * ONE page, from response to commit (docs/design.md §2), in two steps so pages can share a part:
 *
 * - {@link stagePage}: the response bytes start becoming a durable snapshot; the records at
 *   `data_path` lose the rows the previous run already wrote (the watermark boundary) and pass
 *   the contract. Nothing is committed: a staged page is memory plus a snapshot file.
 * - {@link commitPages}: the rows of a run of staged pages (at most `batch_size` rows, so memory
 *   stays bounded) become complete part file(s) named after the pages' partition and numbers;
 *   once every snapshot is durable, the pages' manifest lines are appended in one write; only
 *   then are the pages committed in state (cursor, rows, snapshot, outputs), in one transaction.
 *
 * A crash before the manifest write leaves parts no committed page names (the next run deletes
 * them and fetches those pages again); a crash after it leaves complete lines the next run adopts
 * (every line of the batch, or none). Nothing is lost, nothing is written twice.
 * @module
 */
import type { z } from "zod";
import type { AssetConfig } from "../config/schema.ts";
import { type RejectedRow } from "../contracts/mod.ts";
import { writeRejects } from "../contracts/rejects.ts";
import type { HttpResult } from "../http/request.ts";
import { isSensitiveParam, REDACTED } from "../core/redact.ts";
import {
  attemptHistory,
  type ManifestRecord,
  type ManifestWriter,
} from "../provenance/manifest.ts";
import type { SnapshotStore, SnapshotWritten } from "../provenance/snapshot.ts";
import type { PageRequest } from "../paginate/mod.ts";
import type { StateStore } from "../state/mod.ts";
import { rowsOfPage, type RowTyping } from "../pipeline/page_rows.ts";
import type { PreparedRows, RowWriter } from "../pipeline/record_shape.ts";
import type { WatermarkTracker } from "../pipeline/watermark_tracker.ts";

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

/** Everything a page step needs, shared by the pages of an asset's partition. */
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
  /** The asset's typing (contract, declared and inferred column types); wins over `contract`. */
  typing?: RowTyping;
  /** Allocates the asset's next snapshot/manifest page number in this run (unique per asset and run). */
  nextSeq(): number;
  /** sha256 of the config. */
  configSha256: string;
  /** Versions. */
  env: ManifestRecord["env"];
  /** The auth alias the manifest records (`bearer:API_TOKEN`). */
  authAlias: string;
  /** The watermark the asset started from. */
  watermarkIn: string | null;
  /** Secret values never written anywhere. */
  secrets: readonly string[];
  /** Called with each manifest line once appended (the report counts it). */
  onRecord?(record: ManifestRecord): void;
}

/** What a manifest line takes from a response: all of it but the body. */
export type ResponseMeta = Omit<HttpResult, "body" | "json">;

/** A page read, checked and snapshotted (in flight), waiting for its batch to be committed. */
export interface StagedPage {
  /** The page's number in the manifest and snapshot path (unique per asset and run). */
  seq: number;
  /** The request it answered. */
  request: PageRequest;
  /** The cursor of the next page, or null when it was the last. */
  cursorOut: string | null;
  /**
   * The response for the manifest line, without its body: the snapshot write holds the bytes
   * only until they are on disk, and the rows are all a batch keeps of the parsed body.
   */
  result: ResponseMeta;
  /** Records received. */
  records: number;
  /** Rows to write (deduplicated, contract-checked): none here once `prepared` holds them. */
  rows: Record<string, unknown>[];
  /** The rows as the output readied them when the page was staged (`RowWriter.prepare`). */
  prepared?: PreparedRows;
  /** How many rows it writes. */
  rowCount: number;
  /** Records dropped as already written by the previous run. */
  dropped: number;
  /** Records the contract rejected. */
  rejects: RejectedRow[];
  /** The snapshot write, durable once resolved. */
  snapshot: Promise<SnapshotWritten>;
}

/** What one committed page did. */
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
  /** Parts its batch wrote, relative to the out folder. */
  outputs: string[];
  /** Whether this was the walk's last page. */
  done: boolean;
}

/**
 * The part key of a batch of pages: `00007-00016`, or `p01-00007-00016` in partition 1 (the
 * first and last page numbers of the walk, so the next run can tell a complete batch).
 */
export function partKey(partitionIndex: number | null, first: number, last: number): string {
  const pages = `${String(first).padStart(5, "0")}-${String(last).padStart(5, "0")}`;
  return partitionIndex === null ? pages : `p${String(partitionIndex).padStart(2, "0")}-${pages}`;
}

/** Reads the page range back out of a part file name written with {@link partKey}. */
export function pagesOfPart(path: string, runId: string): { first: number; last: number } | null {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const prefix = `part-${runId}-`;
  if (!name.startsWith(prefix)) return null;
  const m = /^(?:p\d+-)?(\d+)-(\d+)(?:-b\d+)?\.[a-z]+$/.exec(name.slice(prefix.length));
  return m ? { first: Number(m[1]), last: Number(m[2]) } : null;
}

/**
 * Stages one fetched page: its snapshot write starts, its records are deduplicated against the
 * previous boundary and checked against the contract.
 */
export function stagePage(ctx: PageStepContext, fetched: FetchedPage): StagedPage {
  const seq = ctx.nextSeq();
  const snapshot = ctx.snapshots.write(ctx.asset.name, ctx.runId, seq, fetched.result.body);
  // Awaited when the batch commits; observed now so an early failure is not unhandled.
  snapshot.catch(() => {});
  const { rows, rejects, dropped } = rowsOfPage(fetched.records, {
    tracker: ctx.tracker,
    contract: ctx.contract,
    typing: ctx.typing,
    cursorField: ctx.asset.incremental?.cursor_field,
  });
  // Readied now, page by page: a batch waiting for its commit then holds column vectors, not
  // records the garbage collector would copy again and again until then.
  const prepared = rows.length > 0 ? ctx.output.prepare?.(rows) : undefined;
  return {
    seq,
    request: fetched.request,
    cursorOut: fetched.next === "done" ? null : fetched.next.cursor,
    result: responseMeta(fetched.result),
    records: fetched.records.length,
    rows: prepared ? [] : rows,
    prepared,
    rowCount: rows.length,
    dropped,
    rejects,
    snapshot,
  };
}

/** A response without its body and parsed body (a staged page keeps it until its commit). */
function responseMeta(result: HttpResult): ResponseMeta {
  const { body: _body, json: _json, ...meta } = result;
  return meta;
}

/**
 * Commits a run of consecutive staged pages of one walk: part(s), snapshots durable, manifest
 * lines (one write), then the pages in state, in order (one transaction). Throws when any step
 * fails.
 *
 * @example
 * ```ts
 * import { commitPages, stagePage } from "./page_step.ts";
 * const outcomes = await commitPages(context, [stagePage(context, fetched)]);
 * console.log(outcomes[0].rows, outcomes[0].outputs);
 * ```
 */
export async function commitPages(
  ctx: PageStepContext,
  pages: readonly StagedPage[],
): Promise<PageOutcome[]> {
  if (pages.length === 0) return [];
  const key = partKey(
    ctx.partitionIndex,
    pages[0].request.page,
    pages[pages.length - 1].request.page,
  );
  const outputs = await writeRows(ctx.output, pages, key);
  const snapshots = await Promise.all(pages.map((p) => p.snapshot));
  for (const [i, page] of pages.entries()) {
    if (page.rejects.length === 0) continue;
    await writeRejects(ctx.out, page.rejects, {
      asset: ctx.asset.name,
      runId: ctx.runId,
      provenance: { snapshot: snapshots[i].path, page: page.seq, sha256: snapshots[i].sha256 },
    });
  }
  const records = await ctx.manifest.appendAll(
    pages.map((page, i) => manifestRecord(ctx, page, snapshots[i], outputs)),
    { complete: true },
  );
  for (const record of records) ctx.onRecord?.(record);
  await ctx.state.commitPages(pages.map((page, i) => ({
    runId: ctx.runId,
    assetId: ctx.asset.name,
    partition: ctx.partitionKey,
    page: page.request.page,
    cursorIn: page.request.cursor,
    cursorOut: page.cursorOut,
    rows: page.records,
    snapshot: snapshots[i].path,
    outputs,
    sha256: snapshots[i].sha256,
    done: page.cursorOut === null,
  })));
  return pages.map((page) => ({
    seq: page.seq,
    records: page.records,
    rows: page.rowCount,
    dropped: page.dropped,
    rejected: page.rejects.length,
    outputs,
    done: page.cursorOut === null,
  }));
}

/** Writes a batch's rows: with `writePrepared` when its pages were prepared. */
async function writeRows(
  output: RowWriter,
  pages: readonly StagedPage[],
  key: string,
): Promise<string[]> {
  const prepared = pages.flatMap((p) => p.prepared ? [p.prepared] : []);
  const rows = pages.length === 1 ? pages[0].rows : pages.flatMap((p) => p.rows);
  if (prepared.length === 0) return await output.write(rows, key);
  // An output prepares every page of an asset or none (one batch is one part).
  if (rows.length > 0 || !output.writePrepared) {
    throw new Error("a batch mixes prepared pages and pages of rows: its output cannot write it");
  }
  return await output.writePrepared(prepared, key);
}

/** A page's manifest line, every field set (it is appended without a schema parse). */
function manifestRecord(
  ctx: PageStepContext,
  page: StagedPage,
  snapshot: SnapshotWritten,
  outputs: string[],
): ManifestRecord {
  const { result, request } = page;
  return {
    kind: "http",
    run_id: ctx.runId,
    asset: ctx.asset.name,
    page: page.seq,
    ...responseFields(result, request.params, ctx.secrets, Date.now()),
    sha256: snapshot.sha256,
    bytes: snapshot.bytes,
    rows: page.records,
    cursor_in: request.cursor,
    cursor_out: page.cursorOut,
    watermark_in: ctx.watermarkIn,
    snapshot: snapshot.path,
    output: outputs.length === 0 ? null : outputs.length === 1 ? outputs[0] : outputs,
    object_url: ctx.output.objectUrls?.(outputs),
    auth: ctx.authAlias,
    config_sha256: ctx.configSha256,
    env: ctx.env,
    partition: ctx.partitionKey === "" ? null : ctx.partitionKey,
  };
}

/**
 * The manifest fields of any line that describes an HTTP response (a page, a 304, a probe): the
 * request as sent (method, source without query string, params with secrets masked) and how it
 * went (status, attempts and their history, waits, time). `nowMs` dates a result without
 * attempts.
 */
export function responseFields(
  result: ResponseMeta,
  params: Record<string, string>,
  secrets: readonly string[],
  nowMs: number,
): Pick<
  ManifestRecord,
  | "attempt"
  | "timestamp"
  | "method"
  | "source"
  | "params"
  | "status"
  | "attempts"
  | "retry_after"
  | "slept_ms"
  | "elapsed_ms"
  | "attempt_history"
> {
  const attempts = result.attempts;
  const last = attempts[attempts.length - 1];
  return {
    attempt: Math.max(1, attempts.length),
    timestamp: new Date(last?.startedAt ?? nowMs).toISOString(),
    method: result.method,
    source: sourceOf(result.url),
    params: manifestParams(params, secrets),
    status: result.status,
    attempts: Math.max(1, attempts.length),
    retry_after: retryAfterOf(result),
    slept_ms: result.sleptMs + attempts.reduce((n, a) => n + a.queuedMs, 0),
    elapsed_ms: Math.max(0, last?.elapsedMs ?? result.elapsedMs),
    attempt_history: attemptHistory(attempts),
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
function retryAfterOf(result: ResponseMeta): number | null {
  for (let i = result.attempts.length - 1; i >= 0; i--) {
    const a = result.attempts[i];
    if (a.waitHeader !== undefined) return Math.round(a.sleptMs) / 1000;
  }
  return null;
}
