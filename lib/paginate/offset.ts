/**
 * Offset/limit: `offset` advances by the records actually received (a server that caps the
 * page size below `limit` loses nothing), and the walk ends at the total from `total_path`, or
 * without a total on an empty page (on a short one too with `stop_on_short_page`).
 * @module
 */
import type { OffsetPaginationConfig } from "./schema.ts";
export type { OffsetPaginationConfig };
import { PaginationError } from "../core/errors.ts";
import { select } from "../core/select.ts";
import {
  type BaseRequest,
  type PageRequest,
  type PageResponse,
  type Paginator,
  type ResumeFrom,
  type StrategyOptions,
  withParams,
} from "./paginator.ts";
import { firstRequest, resumeNumber, resumeRequest, stepRequest } from "./step.ts";

/**
 * A paginator over `offset` and `limit` parameters.
 * @example
 * ```ts
 * const p = offsetPaginator({
 *   type: "offset", param: "offset", limit: 100, limit_param: "limit",
 *   total_path: "count", stop_on_short_page: true, start: 0,
 * });
 * ```
 */
export function offsetPaginator(
  config: OffsetPaginationConfig,
  options: StrategyOptions = {},
): Paginator {
  const label = options.label ?? "pagination";
  const at = (base: BaseRequest, offset: number) =>
    withParams(base.params, { [config.param]: offset, [config.limit_param]: config.limit });
  return {
    type: "offset",
    endStatuses: [],
    first: (base) => firstRequest({ url: base.url, params: at(base, config.start) }),
    next(prev: PageRequest, response: PageResponse) {
      const received = response.records.length;
      if (received === 0) return "done";
      const offset = (prev.cursor === null ? config.start : Number(prev.cursor)) + received;
      if (config.total_path !== undefined) {
        const total = Number(select(response.body, config.total_path));
        if (!Number.isFinite(total)) {
          throw new PaginationError(
            `${label}: expected a number at "${config.total_path}" in the response; check pagination.total_path`,
          );
        }
        if (offset >= total) return "done";
      } else if (config.stop_on_short_page && received < config.limit) {
        return "done";
      }
      return stepRequest(prev, { param: config.param, cursor: String(offset) });
    },
    resume: (base: BaseRequest, from: ResumeFrom) =>
      resumeRequest(from, {
        url: base.url,
        params: at(base, resumeNumber(from, { type: "offset", label })),
      }),
  };
}
