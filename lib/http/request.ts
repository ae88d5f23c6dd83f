/**
 * The shapes of one logical request, its attempts and its result, and how a request becomes a
 * URL. Shared by the resilient fetch, the auth providers and the harvest engine.
 * @module
 */

/** Query parameter values; `undefined` and `null` are left out. */
export type ParamValue = string | number | boolean | bigint | null | undefined;

/** One logical request (any number of attempts). */
export interface HttpRequest {
  /** Absolute URL, or a path resolved against the client's `baseUrl`. */
  url: string | URL;
  /** The HTTP method. @default "GET" */
  method?: string;
  /** Query parameters appended to the URL (sorted keys are not required). */
  params?: Record<string, ParamValue | ParamValue[]>;
  /** Extra request headers. */
  headers?: HeadersInit;
  /** Request body (for POST); a plain object is sent as JSON. */
  body?: string | Uint8Array | URLSearchParams | Record<string, unknown>;
  /**
   * Whether the body must be JSON: an unparsable body then counts as truncated and is retried.
   * @default true when the response's Content-Type says JSON
   */
  expectJson?: boolean;
  /** Send `If-None-Match` from the ETag store and report a 304 as unchanged. @default true for GET */
  conditional?: boolean;
  /** What the request is for (the asset), for limiters keyed per asset (`rate_limit.key: asset`). */
  scope?: string;
}

/** How one attempt ended. `http` = a response with a status was received. */
export type AttemptKind = "http" | "timeout" | "reset" | "truncated" | "network";

/** One attempt of a request, as written to the manifest. */
export interface HttpAttempt {
  /** 1-based attempt number. */
  attempt: number;
  /** Epoch ms when the request was sent (after the rate limiter let it go). */
  startedAt: number;
  /** How the attempt ended. */
  kind: AttemptKind;
  /** HTTP status, when a response arrived (also for `truncated`). */
  status?: number;
  /** The error, redacted, for kinds other than `http`. */
  error?: string;
  /** Milliseconds from sending to the end of the body (or the failure). */
  elapsedMs: number;
  /** Milliseconds the client rate limiter held the request before it was sent. */
  queuedMs: number;
  /** Milliseconds slept after this attempt, before the next one. */
  sleptMs: number;
  /** The header that decided that wait (`Retry-After`, `X-RateLimit-Reset`, ...); absent for backoff. */
  waitHeader?: string;
  /** That header's value. */
  waitHeaderValue?: string;
}

/** The final response of a request, with its history. */
export interface HttpResult {
  /** Final HTTP status (200, or 304 when unchanged). */
  status: number;
  /** Final response headers. */
  headers: Headers;
  /** Response body bytes, exactly as received (empty for a 304). */
  body: Uint8Array;
  /** The parsed body when it is JSON (parsed once, to check it is whole). */
  json?: unknown;
  /** True when the server answered 304 to our `If-None-Match`. */
  unchanged: boolean;
  /** The validator: the response's ETag, or on a 304 the stored one that matched. */
  etag?: string;
  /** The request URL with secrets redacted. */
  url: string;
  /** The method sent. */
  method: string;
  /** Every attempt, in order. */
  attempts: HttpAttempt[];
  /** Total milliseconds slept between attempts. */
  sleptMs: number;
  /** Milliseconds from the first send to the final body, sleeps included. */
  elapsedMs: number;
  /** The auth alias used (`bearer:API_TOKEN`, `none`) — never the secret. */
  auth: string;
}

function appendParam(url: URL, name: string, value: ParamValue): void {
  if (value === undefined || value === null) return;
  url.searchParams.append(name, String(value));
}

/**
 * The URL a request goes to: `url` resolved against `baseUrl`, plus `params`.
 *
 * @example
 * ```ts
 * import { buildUrl } from "./request.ts";
 * buildUrl({ url: "/northwind/Orders.json", params: { _size: 10 } }, "http://127.0.0.1:9000");
 * // URL "http://127.0.0.1:9000/northwind/Orders.json?_size=10"
 * ```
 */
export function buildUrl(request: HttpRequest, baseUrl?: string | URL): URL {
  let url: URL;
  try {
    url = baseUrl === undefined ? new URL(request.url) : new URL(request.url, baseUrl);
  } catch {
    throw new TypeError(
      `invalid request url ${JSON.stringify(String(request.url))}: give an absolute http(s) URL ` +
        `or set base_url`,
    );
  }
  for (const [name, value] of Object.entries(request.params ?? {})) {
    if (Array.isArray(value)) { for (const v of value) appendParam(url, name, v); }
    else appendParam(url, name, value);
  }
  return url;
}

/**
 * The ETag-store key of a request: method and URL with the query sorted, so the same request
 * with parameters in another order shares its validator. Computed before auth is applied, so
 * it never holds a credential.
 */
export function requestKey(method: string, url: URL): string {
  const sorted = new URL(url);
  sorted.searchParams.sort();
  sorted.hash = "";
  return `${method.toUpperCase()} ${sorted.href}`;
}
