/**
 * Guards around any strategy: a walk that is handed the same cursor twice, or that goes past
 * `max_pages`, stops with a {@link PaginationError} instead of looping forever (an API bug or a
 * misread cursor otherwise turns into an endless harvest).
 * @module
 */
import { PaginationError } from "../core/errors.ts";
import type { PageRequest, Paginator } from "./paginator.ts";

/** Options of {@link guardPaginator}. */
export interface GuardOptions {
  /** Most pages a walk may fetch. @default 10000 */
  maxPages?: number;
  /** Names the walk in errors. @default "pagination" */
  label?: string;
}

/**
 * Wraps a paginator with the repeated-cursor and max-pages guards. The wrapper keeps the cursors
 * of one walk; `first` and `resume` start a new walk.
 */
export function guardPaginator(inner: Paginator, options: GuardOptions = {}): Paginator {
  const maxPages = options.maxPages ?? 10_000;
  const label = options.label ?? "pagination";
  let seen = new Set<string>();
  const check = (request: PageRequest): PageRequest => {
    if (request.page > maxPages) {
      throw new PaginationError(
        `${label}: more than max_pages ${maxPages} pages; raise max_pages, narrow the request (params, incremental, partition), or check that the API ends its pages`,
      );
    }
    if (request.cursor !== null) {
      if (seen.has(request.cursor)) {
        throw new PaginationError(
          `${label}: the API returned cursor ${
            JSON.stringify(
              request.cursor.length > 200 ? `${request.cursor.slice(0, 200)}…` : request.cursor,
            )
          } a second time (page ${request.page}); stopping instead of looping — check pagination.response_path/param`,
        );
      }
      seen.add(request.cursor);
    }
    return request;
  };
  const guarded: Paginator = {
    type: inner.type,
    endStatuses: inner.endStatuses,
    first(base) {
      seen = new Set();
      return check(inner.first(base));
    },
    next(prev, response) {
      const next = inner.next(prev, response);
      return next === "done" ? next : check(next);
    },
    resume(base, from) {
      seen = new Set();
      return check(inner.resume(base, from));
    },
  };
  if (inner.extent) guarded.extent = inner.extent.bind(inner);
  return guarded;
}
