/**
 * Newest-first timelines (seed 004, X/Twitter API v2 shape): `since_id` fetches newer than the
 * `X` watermark, `until_id` fetches older than `X_oldest` (backfill), `pagination_token` walks
 * the pages between. The paginator reports the newest and oldest ids it saw (BigInt order) so
 * the engine can advance `X` and `X_oldest` once the walk is complete.
 * @module
 */
import type { PaginationConfig } from "../config/schema.ts";
import { select } from "../select.ts";
import { compareIds } from "../state/watermark.ts";
import {
  type BaseRequest,
  cursorText,
  type IdExtent,
  type PageRequest,
  type PageResponse,
  type Paginator,
  type ResumeFrom,
  type StrategyOptions,
  withParams,
} from "./paginator.ts";

/** The `timeline` pagination config. */
export type TimelinePaginationConfig = Extract<PaginationConfig, { type: "timeline" }>;

/** Options of {@link timelinePaginator}. */
export interface TimelineOptions extends StrategyOptions {
  /** Fetch only ids newer than this (forward: the `X` watermark). */
  sinceId?: string | null;
  /** Fetch only ids older than this (backfill: the `X_oldest` watermark). */
  untilId?: string | null;
}

/**
 * A paginator over a newest-first timeline.
 * @example
 * ```ts
 * const p = timelinePaginator(config, { sinceId: "1861234567890123456" });
 * // … walk …
 * p.extent?.(); // { newest: "…", oldest: "…" }
 * ```
 */
export function timelinePaginator(
  config: TimelinePaginationConfig,
  options: TimelineOptions = {},
): Paginator {
  const label = options.label ?? "pagination";
  const extent: IdExtent = { newest: null, oldest: null };
  const see = (id: unknown) => {
    const text = cursorText(id, config.id_field, label);
    if (text === undefined) return;
    if (extent.newest === null || compareIds(text, extent.newest) > 0) extent.newest = text;
    if (extent.oldest === null || compareIds(text, extent.oldest) < 0) extent.oldest = text;
  };
  const firstParams = (base: BaseRequest) =>
    withParams(base.params, {
      ...(config.limit ? { [config.limit_param]: config.limit } : {}),
      [config.since_param]: options.sinceId,
      [config.until_param]: options.untilId,
    });
  return {
    type: "timeline",
    endStatuses: [],
    first: (base) => ({ url: base.url, params: firstParams(base), page: 1, cursor: null }),
    next(prev: PageRequest, response: PageResponse) {
      see(select(response.body, config.newest_path));
      see(select(response.body, config.oldest_path));
      for (const record of response.records) see(select(record, config.id_field));
      if (response.records.length === 0) return "done";
      const path = config.token_path;
      const token = cursorText(select(response.body, path), path, label);
      if (token === undefined) return "done";
      return {
        url: prev.url,
        params: { ...prev.params, [config.token_param]: token },
        page: prev.page + 1,
        cursor: token,
      };
    },
    resume: (base: BaseRequest, from: ResumeFrom) => ({
      url: base.url,
      params: { ...firstParams(base), [config.token_param]: from.cursor },
      page: from.page + 1,
      cursor: from.cursor,
    }),
    extent: () => ({ ...extent }),
  };
}
