/**
 * Cursor from a body field: the next token is read at `response_path` (`next`,
 * `meta.next_cursor`) and sent back in `param`. A missing, null or empty token ends the walk
 * (Datasette's `"next": null`).
 * @module
 */
import type { PaginationConfig } from "../config/schema.ts";
import { select } from "../select.ts";
import {
  type BaseRequest,
  cursorText,
  type PageRequest,
  type PageResponse,
  type Paginator,
  type ResumeFrom,
  type StrategyOptions,
  withParams,
} from "./paginator.ts";

/** The `cursor` pagination config. */
export type CursorPaginationConfig = Extract<PaginationConfig, { type: "cursor" }>;

/**
 * A paginator that follows a token from a body field.
 * @example
 * ```ts
 * const p = cursorPaginator({ type: "cursor", param: "_next", response_path: "next", limit_param: "limit" });
 * const first = p.first({ url: "http://127.0.0.1:9000/northwind/Orders.json", params: { _size: "200" } });
 * ```
 */
export function cursorPaginator(
  config: CursorPaginationConfig,
  options: StrategyOptions = {},
): Paginator {
  const label = options.label ?? "pagination";
  const path = config.response_path;
  const firstParams = (base: BaseRequest) =>
    withParams(base.params, config.limit ? { [config.limit_param]: config.limit } : {});
  return {
    type: "cursor",
    endStatuses: [],
    first: (base) => ({ url: base.url, params: firstParams(base), page: 1, cursor: null }),
    next(prev: PageRequest, response: PageResponse) {
      const token = cursorText(select(response.body, path), path, label);
      if (token === undefined) return "done";
      return {
        url: prev.url,
        params: { ...prev.params, [config.param]: token },
        page: prev.page + 1,
        cursor: token,
      };
    },
    resume: (base: BaseRequest, from: ResumeFrom) => ({
      url: base.url,
      params: { ...firstParams(base), [config.param]: from.cursor },
      page: from.page + 1,
      cursor: from.cursor,
    }),
  };
}
