/**
 * Cursor from the last record, Stripe style: the next request sends the last record's id
 * (`data.-1.id`) as `starting_after` while the body's `has_more` is true. Chosen for a `cursor`
 * config that names a `has_more_path`.
 * @module
 */
import { PaginationError } from "../core/errors.ts";
import { select } from "../core/select.ts";
import type { CursorPaginationConfig } from "./cursor.ts";
import { cursorText, type Paginator, type StrategyOptions, withParams } from "./paginator.ts";
import { limitParams, tokenWalkPaginator } from "./step.ts";

/**
 * A paginator that sends the last record's key while `has_more` says so.
 * @example
 * ```ts
 * const p = lastRecordPaginator({
 *   type: "cursor", param: "starting_after", response_path: "data.-1.OrderID",
 *   has_more_path: "has_more", limit: 100, limit_param: "limit",
 * });
 * ```
 */
export function lastRecordPaginator(
  config: CursorPaginationConfig,
  options: StrategyOptions = {},
): Paginator {
  const label = options.label ?? "pagination";
  const hasMorePath = config.has_more_path ?? "has_more";
  return tokenWalkPaginator({
    type: "last_record",
    param: config.param,
    firstParams: (base) => withParams(base.params, limitParams(config)),
    nextToken(response) {
      const hasMore = select(response.body, hasMorePath);
      if (typeof hasMore !== "boolean") {
        throw new PaginationError(
          `${label}: expected true or false at "${hasMorePath}" in the response, got ${
            JSON.stringify(hasMore) ?? "nothing"
          }; check pagination.has_more_path`,
        );
      }
      if (!hasMore || response.records.length === 0) return undefined;
      const token = cursorText(
        select(response.body, config.response_path),
        config.response_path,
        label,
      );
      if (token === undefined) {
        throw new PaginationError(
          `${label}: has_more is true but there is no cursor at "${config.response_path}"; check pagination.response_path`,
        );
      }
      return token;
    },
  });
}
