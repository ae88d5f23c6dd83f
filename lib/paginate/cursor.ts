/**
 * Cursor from a body field: the next token is read at `response_path` (`next`,
 * `meta.next_cursor`) and sent back in `param`. A missing, null or empty token ends the walk
 * (Datasette's `"next": null`).
 * @module
 */
import type { CursorPaginationConfig } from "./schema.ts";
export type { CursorPaginationConfig };
import { select } from "../core/select.ts";
import { cursorText, type Paginator, type StrategyOptions, withParams } from "./paginator.ts";
import { limitParams, tokenWalkPaginator } from "./step.ts";

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
  return tokenWalkPaginator({
    type: "cursor",
    param: config.param,
    firstParams: (base) => withParams(base.params, limitParams(config)),
    nextToken: (response) => cursorText(select(response.body, path), path, label),
  });
}
