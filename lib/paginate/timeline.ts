/**
 * Newest-first timelines (X/Twitter API v2 shape): `since_id` fetches newer than the
 * `X` watermark, `until_id` fetches older than `X_oldest` (backfill), `pagination_token` walks
 * the pages between. The paginator reports the newest and oldest ids it saw (BigInt order) so
 * the engine can advance `X` and `X_oldest` once the walk is complete.
 * @module
 */
import type { TimelinePaginationConfig } from "./schema.ts";
export type { TimelinePaginationConfig };
import { select } from "../core/select.ts";
import { compareIds } from "../state/watermark.ts";
import {
  cursorText,
  type IdExtent,
  type Paginator,
  type StrategyOptions,
  withParams,
} from "./paginator.ts";
import { limitParams, tokenWalkPaginator } from "./step.ts";

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
  const walk = tokenWalkPaginator({
    type: "timeline",
    param: config.token_param,
    firstParams: (base) =>
      withParams(base.params, {
        ...limitParams(config),
        [config.since_param]: options.sinceId,
        [config.until_param]: options.untilId,
      }),
    nextToken(response) {
      see(select(response.body, config.newest_path));
      see(select(response.body, config.oldest_path));
      for (const record of response.records) see(select(record, config.id_field));
      if (response.records.length === 0) return undefined;
      const path = config.token_path;
      return cursorText(select(response.body, path), path, label);
    },
  });
  return { ...walk, extent: () => ({ ...extent }) };
}
