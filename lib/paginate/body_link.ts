/**
 * A next-page URL in the body (`links.next` in HAL/JSON:API style, Datasette's `next_url`):
 * followed until it is null or absent. Relative URLs resolve against the request; another origin
 * is refused unless allowed.
 * @module
 */
import type { PaginationConfig } from "../config/schema.ts";
import { select } from "../select.ts";
import { followLink } from "./link_header.ts";
import {
  type BaseRequest,
  cursorText,
  type PageRequest,
  type PageResponse,
  type Paginator,
  requestUrl,
  type ResumeFrom,
  splitLink,
  type StrategyOptions,
  withParams,
} from "./paginator.ts";

/** The `body_link` pagination config. */
export type BodyLinkPaginationConfig = Extract<PaginationConfig, { type: "body_link" }>;

/**
 * A paginator that follows a URL read from the body.
 * @example
 * ```ts
 * const p = bodyLinkPaginator({ type: "body_link", response_path: "links.next", limit: 100, limit_param: "size", allow_cross_origin: false });
 * ```
 */
export function bodyLinkPaginator(
  config: BodyLinkPaginationConfig,
  options: StrategyOptions = {},
): Paginator {
  const label = options.label ?? "pagination";
  let origin = "";
  const firstParams = (base: BaseRequest) =>
    withParams(base.params, config.limit ? { [config.limit_param]: config.limit } : {});
  return {
    type: "body_link",
    endStatuses: [],
    first(base) {
      origin = new URL(base.url).origin;
      return { url: base.url, params: firstParams(base), page: 1, cursor: null };
    },
    next(prev: PageRequest, response: PageResponse) {
      const path = config.response_path;
      const href = cursorText(select(response.body, path), path, label);
      if (href === undefined) return "done";
      const target = followLink(href, prev, origin || new URL(prev.url).origin, {
        allowCrossOrigin: config.allow_cross_origin,
        label,
        stripParams: options.stripParams,
      });
      return { ...target, page: prev.page + 1, cursor: requestUrl(target) };
    },
    resume(base: BaseRequest, from: ResumeFrom) {
      origin = new URL(base.url).origin;
      return {
        ...splitLink(from.cursor, options.stripParams),
        page: from.page + 1,
        cursor: from.cursor,
      };
    },
  };
}
