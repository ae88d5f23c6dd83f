/**
 * The one interface every pagination strategy implements, and the request/response shapes it
 * reads and writes. Strategies are pure (no I/O): given the request that was made and what came
 * back, they say which request comes next, or `"done"`.
 *
 * Every position is a string cursor (`cursor_in`/`cursor_out` in the manifest and the `pages`
 * table), so a walk killed after a committed page resumes with {@link Paginator.resume}.
 * @module
 */
import { PaginationError } from "../core/errors.ts";

/** Where a walk starts: the endpoint and its query parameters (templated, auth not included). */
export interface BaseRequest {
  /** Absolute URL; may carry its own query string (a next link). */
  url: string;
  /** Query parameters added to `url`. */
  params: Record<string, string>;
}

/** One request of a walk, with what the manifest records about it. */
export interface PageRequest extends BaseRequest {
  /** 1-based page number in this walk (continues across a resume). */
  page: number;
  /** The position this request starts from (`cursor_in`); null for the first page. */
  cursor: string | null;
}

/** What a strategy reads from a response. */
export interface PageResponse {
  /** HTTP status. */
  status: number;
  /** Response headers (only `get` is used). */
  headers: { get(name: string): string | null };
  /** The parsed JSON body (undefined for an empty body). */
  body: unknown;
  /** The records selected from the body with `data_path`. */
  records: readonly unknown[];
}

/** Newest and oldest ids a walk has seen (timelines: the `X` / `X_oldest` watermarks). */
export interface IdExtent {
  /** Highest id seen (BigInt order), or null. */
  newest: string | null;
  /** Lowest id seen, or null. */
  oldest: string | null;
}

/** A pagination strategy, one walk at a time. */
export interface Paginator {
  /** The config's pagination type (`cursor`, `offset`, …) or strategy name. */
  readonly type: string;
  /** Statuses that mean "past the last page" (the engine records them, then stops) rather than failure. */
  readonly endStatuses: readonly number[];
  /** The first request of a walk. */
  first(base: BaseRequest): PageRequest;
  /** The request after `prev`, or `"done"`. Throws {@link PaginationError} on a malformed response. */
  next(prev: PageRequest, response: PageResponse): PageRequest | "done";
  /** The request after a committed page whose `cursor_out` was `cursor` (resume after a crash). */
  resume(base: BaseRequest, from: ResumeFrom): PageRequest;
  /** Ids seen so far (timelines only). */
  extent?(): IdExtent;
}

/** The committed position a walk resumes from. */
export interface ResumeFrom {
  /** The `cursor_out` of the last committed page. */
  cursor: string;
  /** That page's number; the resumed request is `page + 1`. */
  page: number;
}

/** Options every strategy accepts. */
export interface StrategyOptions {
  /** Names the walk (asset and partition) in error messages. @default "pagination" */
  label?: string;
  /** Query parameters dropped from followed links (e.g. a query-auth key the server echoes). @default [] */
  stripParams?: readonly string[];
}

/** `base.params` plus `extra`, dropping entries whose value is undefined. */
export function withParams(
  params: Record<string, string>,
  extra: Record<string, string | number | undefined | null>,
): Record<string, string> {
  const out = { ...params };
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined && value !== null) out[key] = String(value);
  }
  return out;
}

/**
 * Reads a cursor value out of a body: strings and numbers become text, null/undefined/"" mean
 * "no next page"; anything else is a {@link PaginationError} naming the path.
 */
export function cursorText(value: unknown, path: string, label: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  throw new PaginationError(
    `${label}: the value at "${path}" is ${
      Array.isArray(value) ? "a list" : typeof value
    }, not a cursor; point the path at the token (e.g. "meta.next_cursor")`,
  );
}

/**
 * Splits a link into `url` + `params` so the manifest records its parameters; a link with a
 * repeated parameter stays whole (params cannot hold both values). `strip` names are removed.
 */
export function splitLink(href: string, strip: readonly string[] = []): BaseRequest {
  const url = new URL(href);
  for (const name of strip) url.searchParams.delete(name);
  const keys = [...url.searchParams.keys()];
  if (new Set(keys).size !== keys.length) return { url: url.href, params: {} };
  const params = Object.fromEntries(url.searchParams);
  url.search = "";
  return { url: url.href, params };
}

/** The full URL of a request (`url` with `params` merged), as it goes on the wire. */
export function requestUrl(request: BaseRequest): string {
  const url = new URL(request.url);
  for (const [key, value] of Object.entries(request.params)) url.searchParams.set(key, value);
  return url.href;
}
