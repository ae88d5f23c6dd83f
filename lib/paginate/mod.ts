/**
 * Pagination strategies behind one interface ({@link Paginator}), chosen from an asset's
 * `pagination:` config and wrapped in the repeated-cursor and `max_pages` guards.
 * @module
 */
import "./builtins.ts";
import { guardPaginator } from "./guard.ts";
import type { Paginator } from "./paginator.ts";
import { type PaginatorContext, paginatorKind } from "./registry.ts";
import type { PaginationConfig } from "./schema.ts";

/** Options of {@link createPaginator}. */
export interface CreatePaginatorOptions {
  /** The asset's `max_pages`. @default 10000 */
  maxPages?: number;
  /** Names the walk in errors (asset, partition). @default "pagination" */
  label?: string;
  /** Query parameters dropped from followed links (a query-auth key). @default [] */
  stripParams?: readonly string[];
  /** Timelines: fetch newer than this id (the `X` watermark). */
  sinceId?: string | null;
  /** Timelines: fetch older than this id (`X_oldest`, backfill). */
  untilId?: string | null;
}

/**
 * The guarded paginator for a `pagination:` config. A `cursor` config with `has_more_path`
 * reads its cursor from the last record (Stripe style).
 * @example
 * ```ts
 * const p = createPaginator(asset.pagination, { maxPages: asset.max_pages, label: asset.name });
 * let request = p.first({ url, params });
 * // fetch request → response; then request = p.next(request, response) until "done"
 * ```
 */
export function createPaginator(
  config: PaginationConfig,
  options: CreatePaginatorOptions = {},
): Paginator {
  const context: PaginatorContext = {
    label: options.label ?? "pagination",
    stripParams: options.stripParams ?? [],
    sinceId: options.sinceId,
    untilId: options.untilId,
  };
  const name = config.type === "custom" ? config.kind : config.type;
  const kind = paginatorKind(name);
  if (kind === undefined) {
    throw new TypeError(`pagination kind "${name}" is not registered; call registerPaginator`);
  }
  const inner = kind.create(
    config.type === "custom" ? { ...config.options, type: config.kind } : config,
    context,
  );
  return guardPaginator(inner, { maxPages: options.maxPages, label: options.label });
}

export { bodyLinkPaginator } from "./body_link.ts";
export { cursorPaginator } from "./cursor.ts";
export { type GuardOptions, guardPaginator } from "./guard.ts";
export { lastRecordPaginator } from "./last_record.ts";
export { findLink, linkPaginator, type LinkValue, parseLinkHeader } from "./link_header.ts";
export { nonePaginator } from "./none.ts";
export { offsetPaginator } from "./offset.ts";
export { pagePaginator, totalPages } from "./page.ts";
export {
  type BaseRequest,
  type IdExtent,
  type PageRequest,
  type PageResponse,
  type Paginator,
  requestUrl,
  type ResumeFrom,
  splitLink,
  type StrategyOptions,
} from "./paginator.ts";
export { type TimelineOptions, timelinePaginator } from "./timeline.ts";
export {
  type PaginatorContext,
  type PaginatorKind,
  paginatorKind,
  paginatorKinds,
  registerPaginator,
} from "./registry.ts";
export {
  type BodyLinkPaginationConfig,
  type CursorPaginationConfig,
  type LinkPaginationConfig,
  type OffsetPaginationConfig,
  type PagePaginationConfig,
  PAGINATION_TYPES,
  type PaginationConfig,
  type PaginationConfigInput,
  type TimelinePaginationConfig,
} from "./schema.ts";
