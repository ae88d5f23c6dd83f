/**
 * Walks one partition of an asset (the whole asset when it has none) page by page, from its last
 * committed cursor when an earlier run was interrupted. The next page is requested while the
 * current one is staged (its cursor is known as soon as its body is read); staged pages are
 * committed in order, in batches bounded by `batch_size` rows, so memory stays bounded and a
 * resumed walk always continues right after a committed page.
 * @module
 */
import { dirname } from "node:path";
import { yieldToEventLoop } from "../core/event_loop.ts";
import type { HttpClient } from "../http/client.ts";
import { resolveOutPath } from "../provenance/snapshot.ts";
import { HttpError } from "../http/http_error.ts";
import type { BaseRequest, PageRequest, Paginator } from "../paginate/mod.ts";
import type { StateStore } from "../state/mod.ts";
import { responseBody, selectRecords } from "../pipeline/page_rows.ts";
import {
  commitPages,
  type FetchedPage,
  type PageOutcome,
  type PageStepContext,
  type StagedPage,
  stagePage,
} from "./page_step.ts";

/** How to request the pages of an asset. */
export interface FetchSpec {
  /** HTTP method. */
  method: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** JSON body of POST requests. */
  body?: Record<string, unknown>;
  /** Where the records are. */
  dataPath: string;
  /** Names the walk in errors. */
  label: string;
  /** The asset, for limiters keyed per asset. */
  scope?: string;
  /** A response without `dataPath` holds no records (else it is an error). @default false */
  dataOptional?: boolean;
}

/** Fetches and reads one page; `"end"` when the server answered an end status (past the last page). */
export async function fetchPage(
  client: HttpClient,
  paginator: Paginator,
  request: PageRequest,
  spec: FetchSpec,
  signal?: AbortSignal,
): Promise<FetchedPage | "end"> {
  let result;
  try {
    result = await client.fetch({
      url: request.url,
      params: request.params,
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
      conditional: false,
      scope: spec.scope,
    }, { signal });
  } catch (error) {
    if (
      error instanceof HttpError && error.reason === "status" && error.status !== undefined &&
      paginator.endStatuses.includes(error.status)
    ) return "end";
    throw error;
  }
  const body = responseBody(result, spec.label);
  const records = selectRecords(body, spec.dataPath, spec.label, { optional: spec.dataOptional });
  const next = paginator.next(request, {
    status: result.status,
    headers: result.headers,
    body,
    records,
  });
  return { request, result, body, records, next };
}

/** Options of {@link walkPartition}. */
export interface WalkOptions {
  /** The HTTP session. */
  client: HttpClient;
  /** The state store (resume point). */
  state: StateStore;
  /** The paginator of this walk. */
  paginator: Paginator;
  /** Where the walk starts. */
  base: BaseRequest;
  /** The walk's first request, when it does not start at `paginator.first(base)` (a page group). */
  firstRequest?: PageRequest;
  /** A first page already fetched (the page that gave a page-parallel asset its total). */
  firstPage?: FetchedPage;
  /** How to request pages. */
  spec: FetchSpec;
  /** Rows staged before a batch of pages is committed (the asset's `batch_size`). @default 10000 */
  batchRows?: number;
  /** Pages staged at most before a commit. @default 100 */
  batchPages?: number;
  /** Longest a staged page waits for its commit, in ms (slow or throttled APIs). @default 10000 */
  batchMs?: number;
  /** Clock of `batchMs`. @default Date.now */
  now?: () => number;
  /** Aborts the walk (its asset failed elsewhere). */
  signal?: AbortSignal;
  /** Whether the pages staged when `error` ended the walk are committed (else dropped). */
  keepStaged?(error: unknown): boolean;
  /** Awaited before each batch is committed: the asset's plan is recorded with its first. */
  beforeCommit?(): Promise<void>;
  /** Called after each committed page. */
  onPage?(outcome: PageOutcome): void;
  /** Called when a page's request fails for good (not when the walk is aborted). */
  onPageFailed?(request: PageRequest, error: unknown): void;
}

/** What a walk did. */
export interface WalkResult {
  /** Pages committed by this run. */
  pages: number;
  /** Whether it continued an interrupted walk. */
  resumed: boolean;
}

/**
 * Walks one partition to its end. Pages are staged as they arrive and committed in batches of at
 * most `batchRows` rows; a failure commits what is staged before it is thrown, so the next run
 * continues right after the last good page.
 *
 * @example
 * ```ts
 * import { walkPartition } from "./partition_walk.ts";
 * const { pages } = await walkPartition(pageContext, { client, state, paginator, base, spec });
 * ```
 */
export async function walkPartition(
  ctx: PageStepContext,
  options: WalkOptions,
): Promise<WalkResult> {
  const { client, paginator, spec, signal } = options;
  const now = options.now ?? Date.now;
  const batchRows = options.batchRows ?? 10_000;
  const batchPages = options.batchPages ?? 100;
  const batchMs = options.batchMs ?? 10_000;
  const point = await options.state.resumePoint(ctx.asset.name, ctx.partitionKey);
  if (point && (point.done || point.cursorOut === null)) return { pages: 0, resumed: true };
  const request = point
    ? paginator.resume(options.base, { cursor: point.cursorOut!, page: point.page })
    : options.firstRequest ?? paginator.first(options.base);
  // The request `pending` answers: named in the report when it fails for good.
  let inFlight = request;
  let pending: Promise<FetchedPage | "end"> = !point && options.firstPage
    ? Promise.resolve(options.firstPage)
    : fetchPage(client, paginator, request, spec, signal);
  let staged: StagedPage[] = [];
  let stagedRows = 0;
  let stagedSince = 0;
  let pages = 0;
  // One batch is committed while the next one is fetched and staged: commits stay in order,
  // and at most two batches are in memory.
  let committing: Promise<void> = Promise.resolve();
  const commit = () => {
    const batch = staged;
    staged = [];
    stagedRows = 0;
    committing = committing.then(async () => {
      await options.beforeCommit?.();
      for (const outcome of await commitPages(ctx, batch)) {
        pages++;
        options.onPage?.(outcome);
      }
    });
    committing.catch(() => {});
  };
  for (;;) {
    let fetched: FetchedPage | "end";
    try {
      fetched = await pending;
    } catch (error) {
      if (!signal?.aborted) options.onPageFailed?.(inFlight, error);
      // A stop or a rate-limit skip keeps the staged pages (the next run resumes after them). A
      // failure drops them, as a kill would: it leaves what it found plus whole committed
      // batches, and a run failing within its first batch (a cursor that repeats, a 401 on
      // page 3) changes nothing at all.
      if (staged.length > 0 && options.keepStaged?.(error)) commit();
      else await discardStaged(ctx.out, staged);
      await committing.catch(() => {});
      throw error;
    }
    if (fetched === "end") break;
    const next = fetched.next;
    if (next !== "done") {
      inFlight = next;
      pending = fetchPage(client, paginator, next, spec, signal);
      // Observed here so a failure of a commit does not leave it unhandled.
      pending.catch(() => {});
      // The request goes out before this page is staged: the server works on the next page
      // while this one is (without the turn, staging delayed every request by its own time).
      await yieldToEventLoop();
    }
    let page: StagedPage;
    try {
      page = stagePage(ctx, fetched);
    } catch (error) {
      // Rows that do not fit the asset's types fail the walk as a failed request does: the
      // pages staged before are dropped, and the batch being committed ends first.
      await discardStaged(ctx.out, staged);
      await committing.catch(() => {});
      throw error;
    }
    if (staged.length === 0) stagedSince = now();
    staged.push(page);
    stagedRows += page.rowCount;
    if (
      next === "done" || stagedRows >= batchRows || staged.length >= batchPages ||
      now() - stagedSince >= batchMs
    ) {
      await committing;
      commit();
    }
    if (next === "done") break;
  }
  if (staged.length > 0) commit();
  await committing;
  return { pages, resumed: point !== undefined };
}

/** Removes the snapshots of staged pages that will not be committed, and their run's folder if empty. */
async function discardStaged(out: string, staged: readonly StagedPage[]): Promise<void> {
  const folders = new Set<string>();
  for (const page of staged) {
    const written = await page.snapshot.catch(() => null);
    if (written === null) continue;
    await Deno.remove(resolveOutPath(out, written.path)).catch(() => {});
    folders.add(dirname(written.path));
  }
  for (const folder of folders) {
    // Not recursive: a folder still holding committed snapshots stays.
    await Deno.remove(resolveOutPath(out, folder)).catch(() => {});
    await Deno.remove(resolveOutPath(out, dirname(folder))).catch(() => {});
  }
}
