/**
 * A next-page URL in the body (`links.next` in HAL/JSON:API style, Datasette's `next_url`):
 * followed until it is null or absent. Relative URLs resolve against the request; another origin
 * is refused unless allowed.
 * @module
 */
import type { BodyLinkPaginationConfig } from "./schema.ts";
export type { BodyLinkPaginationConfig };
import { select } from "../core/select.ts";
import { cursorText, type Paginator, type StrategyOptions } from "./paginator.ts";
import { linkWalkPaginator } from "./step.ts";

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
  const path = config.response_path;
  return linkWalkPaginator(config, {
    ...options,
    type: "body_link",
    nextHref: (response) => cursorText(select(response.body, path), path, label),
  });
}
