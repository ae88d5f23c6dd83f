/**
 * No pagination: one request, then done.
 * @module
 */
import { PaginationError } from "../core/errors.ts";
import type { Paginator, StrategyOptions } from "./paginator.ts";

/**
 * A paginator that makes a single request.
 * @example
 * ```ts
 * const p = nonePaginator();
 * const request = p.first({ url: "http://127.0.0.1:9000/x", params: {} });
 * // after fetching `request`, p.next(request, response) is "done"
 * ```
 */
export function nonePaginator(options: StrategyOptions = {}): Paginator {
  return {
    type: "none",
    endStatuses: [],
    first: (base) => ({ url: base.url, params: { ...base.params }, page: 1, cursor: null }),
    next: () => "done",
    resume() {
      throw new PaginationError(
        `${options.label ?? "pagination"}: a single-request asset has no page to resume from`,
      );
    },
  };
}
