/**
 * Conditional requests (MOCK_API.md §5). Every 200 JSON answer to a GET gets a weak `ETag`
 * computed from its **content** — unlike the seed's per-URL tag, it changes when the data does —
 * and a request whose `If-None-Match` matches gets a 304 with no body (which the rate limit
 * refunds).
 * @module
 */
import { createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { MockEnv } from "../context.ts";

/** The weak ETag of a response body: `W/"<first 20 hex digits of its SHA-1>"`. */
export function contentEtag(body: Uint8Array): string {
  // SHA-1 through node:crypto is native and synchronous: the cheapest strong-enough content hash.
  return `W/"${createHash("sha1").update(body).digest("hex").slice(0, 20)}"`;
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
    if ((method !== "GET" && method !== "HEAD") || res.status !== 200 || !res.body) return;
    if (!(res.headers.get("content-type") ?? "").includes("json")) return;
    const body = new Uint8Array(await res.arrayBuffer());
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
