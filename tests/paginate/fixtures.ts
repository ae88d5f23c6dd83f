/**
 * Small builders for paginator tests: responses as the engine hands them to a strategy.
 * @module
 */
import type { PageResponse } from "../../lib/paginate/mod.ts";
import { select } from "../../lib/core/select.ts";

/** Options of {@link response}. */
export interface ResponseOptions {
  /** @default 200 */
  status?: number;
  /** Response headers. */
  headers?: Record<string, string>;
  /** Where the records are. @default "" when the body is an array, else "data" */
  dataPath?: string;
}

/** A response with `body`, its records selected like the engine does. */
export function response(body: unknown, options: ResponseOptions = {}): PageResponse {
  const path = options.dataPath ?? (Array.isArray(body) ? "" : "data");
  const records = select(body, path);
  return {
    status: options.status ?? 200,
    headers: new Headers(options.headers ?? {}),
    body,
    records: Array.isArray(records) ? records : [],
  };
}

/** A timeline's pagination as X API v2 names it (`since_id`, `pagination_token`, `meta.*`). */
export const TIMELINE = {
  type: "timeline" as const,
  since_param: "since_id",
  until_param: "until_id",
  token_param: "pagination_token",
  token_path: "meta.next_token",
  newest_path: "meta.newest_id",
  oldest_path: "meta.oldest_id",
  id_field: "id",
  limit_param: "max_results",
};

/** The base request the tests start from. */
export const BASE = { url: "http://127.0.0.1:9000/northwind/Orders.json", params: { _size: "2" } };
