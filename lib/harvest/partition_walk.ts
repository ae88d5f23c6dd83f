/**
 * Walks one partition of an asset (the whole asset when it has none) page by page, from its last
 * committed cursor when an earlier run was interrupted. The next page is requested while the
 * current one is being persisted (its cursor is known as soon as its body is read), but pages are
 * committed strictly in order, so a resumed walk always continues right after a committed page.
 * @module
 */
import type { HttpClient } from "../http/client.ts";
import { HttpError } from "../http/http_error.ts";
import type { BaseRequest, PageRequest, Paginator } from "../paginate/mod.ts";
import type { StateStore } from "../state/mod.ts";
import { decodeBody, selectRecords } from "./page_rows.ts";
import {
  type FetchedPage,
  type PageOutcome,
  type PageStepContext,
  persistPage,
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
    }, { signal });
  } catch (error) {
    if (
      error instanceof HttpError && error.reason === "status" && error.status !== undefined &&
      paginator.endStatuses.includes(error.status)
    ) return "end";
    throw error;
  }
  const body = result.json !== undefined ? result.json : decodeBody(result.body, spec.label);
  const records = selectRecords(body, spec.dataPath, spec.label);
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
  /** Aborts the walk (its asset failed elsewhere). */
  signal?: AbortSignal;
  /** Called after each committed page. */
  onPage?(outcome: PageOutcome): void;
}

/** What a walk did. */
export interface WalkResult {
  /** Pages committed by this run. */
  pages: number;
  /** Whether it continued an interrupted walk. */
  resumed: boolean;
}

/**
 * Walks one partition to its end, committing every page.
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
  const point = await options.state.resumePoint(ctx.asset.name, ctx.partitionKey);
  if (point && (point.done || point.cursorOut === null)) return { pages: 0, resumed: true };
  const request = point
    ? paginator.resume(options.base, { cursor: point.cursorOut!, page: point.page })
    : options.firstRequest ?? paginator.first(options.base);
  let pending: Promise<FetchedPage | "end"> = !point && options.firstPage
    ? Promise.resolve(options.firstPage)
    : fetchPage(client, paginator, request, spec, signal);
  let pages = 0;
  for (;;) {
    const fetched = await pending;
    if (fetched === "end") break;
    const next = fetched.next;
    if (next !== "done") {
      pending = fetchPage(client, paginator, next, spec, signal);
      // Observed here so a failure of the persist below does not leave it unhandled.
      pending.catch(() => {});
    }
    const outcome = await persistPage(ctx, fetched);
    pages++;
    options.onPage?.(outcome);
    if (next === "done") break;
  }
  return { pages, resumed: point !== undefined };
}
