/**
 * Conditional requests (docs/mock_api.md §5). Every 200 JSON answer to a GET gets a weak `ETag`
 * computed from its **content** — unlike a per-URL tag, it changes when the data does —
 * and a request whose `If-None-Match` matches gets a 304 with no body (which the rate limit
 * refunds).
 * @module
 */
import { hash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { MockEnv } from "../context.ts";

/** The weak ETag of a response body: `W/"<first 20 hex digits of its SHA-1>"`. */
export function contentEtag(body: string | Uint8Array): string {
  // One-shot SHA-1 through node:crypto is native and synchronous: the cheapest strong-enough
  // content hash (a string is hashed as its UTF-8 bytes, so both forms give the same tag).
  return `W/"${hash("sha1", body, "hex").slice(0, 20)}"`;
}

/** Weak comparison (RFC 9110 §13.1.2): `W/` is ignored and `*` matches anything. */
function matches(ifNoneMatch: string, etag: string): boolean {
  const opaque = etag.replace(/^W\//, "");
  return ifNoneMatch.split(",").some((candidate) => {
    const c = candidate.trim();
    return c === "*" || c.replace(/^W\//, "") === opaque;
  });
}

/**
 * Creates the ETag middleware.
 *
 * @example
 * ```ts
 * app.use("*", etagMiddleware());
 * ```
 */
export function etagMiddleware(): MiddlewareHandler<MockEnv> {
  return async (c, next) => {
    await next();
    const method = c.req.method;
    const res = c.res;
    // Not `res.body`: touching it turns Hono's string body into a stream, and text() slow.
    if ((method !== "GET" && method !== "HEAD") || res.status !== 200) return;
    if (!(res.headers.get("content-type") ?? "").includes("json")) return;
    // text() keeps the string Hono built (no stream, no copy); it is sent as is below.
    const body = await res.text();
    const etag = contentEtag(body);
    const headers = new Headers(res.headers);
    headers.set("ETag", etag);
    const ifNoneMatch = c.req.header("if-none-match");
    // Clear first: Hono's `res` setter otherwise merges the old headers into the new response.
    c.res = undefined;
    if (ifNoneMatch !== undefined && matches(ifNoneMatch, etag)) {
      headers.delete("content-type");
      headers.delete("content-length");
      c.res = new Response(null, { status: 304, headers });
    } else {
      c.res = new Response(body, { status: 200, headers });
    }
  };
}
