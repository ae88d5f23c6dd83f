/**
 * Page numbers: the walk ends at the total number of pages (from a body field such as
 * `total_pages` or a header such as WordPress's `X-WP-TotalPages`), on an empty page, on a short
 * page when the page size is known, or on an "end" status (WordPress answers 400 past the last
 * page).
 * @module
 */
import type { PagePaginationConfig } from "./schema.ts";
export type { PagePaginationConfig };
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
import { firstRequest, limitParams, resumeNumber, resumeRequest, stepRequest } from "./step.ts";

/**
 * The total number of pages a response announces (body path or header), or undefined.
 * Throws {@link PaginationError} when the configured field is there but not a number.
 */
export function totalPages(
  config: PagePaginationConfig,
  response: PageResponse,
  label = "pagination",
): number | undefined {
  let raw: unknown;
  let where = "";
  if (config.total_pages_header !== undefined) {
    raw = response.headers.get(config.total_pages_header) ?? undefined;
    where = `header ${config.total_pages_header}`;
  }
  if (raw === undefined && config.total_pages_path !== undefined) {
    raw = select(response.body, config.total_pages_path);
    where = `"${config.total_pages_path}"`;
  }
  if (raw === undefined || raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new PaginationError(
      `${label}: expected a whole number of pages in ${where}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/**
 * A paginator over page numbers.
 * @example
 * ```ts
 * const wp = pagePaginator({
 *   type: "page", param: "page", start: 1, limit: 100, limit_param: "per_page",
 *   total_pages_header: "X-WP-TotalPages", end_statuses: [400], stop_on_short_page: true,
 * });
 * ```
 */
export function pagePaginator(
  config: PagePaginationConfig,
  options: StrategyOptions = {},
): Paginator {
  const label = options.label ?? "pagination";
  const at = (base: BaseRequest, page: number) =>
    withParams(base.params, {
      [config.param]: page,
      ...limitParams(config),
    });
  return {
    type: "page",
    endStatuses: config.end_statuses,
    first: (base) => firstRequest({ url: base.url, params: at(base, config.start) }),
    next(prev: PageRequest, response: PageResponse) {
      if (config.end_statuses.includes(response.status)) return "done";
      const number = prev.cursor === null ? config.start : Number(prev.cursor);
      const received = response.records.length;
      if (received === 0) return "done";
      const total = totalPages(config, response, label);
      if (total !== undefined) {
        if (number - config.start + 1 >= total) return "done";
      } else if (config.stop_on_short_page && config.limit && received < config.limit) {
        return "done";
      }
      return stepRequest(prev, { param: config.param, cursor: String(number + 1) });
    },
    resume: (base: BaseRequest, from: ResumeFrom) =>
      resumeRequest(from, {
        url: base.url,
        params: at(base, resumeNumber(from, { type: "page", label })),
      }),
  };
}
