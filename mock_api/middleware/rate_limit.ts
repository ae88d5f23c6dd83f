/**
 * Per-credential rate limits (docs/mock_api.md §4): a fixed window (like a typical API gateway) or a token
 * bucket. Every response past auth carries `X-RateLimit-Limit/Remaining/Reset`; a refused request
 * gets 429 `{"error":"rate limit exceeded"}` with `Retry-After` in the chosen style. The
 * timelines (`/2/users/:id/...`) keep their own 15-minute window per user with the
 * lower-case `x-rate-limit-*` headers and an epoch reset, and no `Retry-After`, like the real
 * service. A 304 is refunded: conditional requests do not count against the limit.
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { MockEnv } from "../context.ts";

/** How `Retry-After` is written on a 429. */
export type RetryAfterStyle = "seconds" | "date" | "none";

/** How `X-RateLimit-Reset` is written. */
export type ResetStyle = "seconds" | "epoch";

/** Rate limit settings. */
export interface RateLimitOptions {
  /** Requests per window per credential; 0 = unlimited. */
  limit: number;
  /** Window length (fixed) or time to refill the whole bucket (bucket). @default 60_000 */
  windowMs?: number;
  /** Fixed window or token bucket. @default "fixed" */
  limiter?: "fixed" | "bucket";
  /** `Retry-After` style on a 429. @default "seconds" */
  retryAfter?: RetryAfterStyle;
  /** `X-RateLimit-Reset` as seconds until the reset or as epoch seconds. @default "seconds" */
  resetStyle?: ResetStyle;
  /** Epoch-millisecond clock. @default Date.now */
  now?: () => number;
}

/** The timelines' window, like the real service. */
export const TIMELINE_WINDOW_MS = 15 * 60_000;

const TIMELINE_PATH = /^\/2\/users\/([^/]+)\//;

/** The outcome of taking one request from a limiter. */
interface Take {
  allowed: boolean;
  remaining: number;
  /** Epoch ms when the limit is whole again (fixed: window end; bucket: bucket full). */
  resetAt: number;
  /** Epoch ms when a refused request may be retried. */
  retryAt: number;
  /** Gives the request back (a 304). */
  refund(): void;
}

interface Limiter {
  take(key: string, now: number): Take;
}

/**
 * Windows are aligned on the epoch (`time // 60`), so every credential's window
 * resets at the same predictable instant: the next multiple of `windowMs`.
 */
function fixedWindow(limit: number, windowMs: number): Limiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(key, now) {
      const start = Math.floor(now / windowMs) * windowMs;
      let w = windows.get(key);
      if (!w || w.start !== start) {
        w = { start, count: 0 };
        windows.set(key, w);
      }
      const window = w;
      const allowed = window.count < limit;
      if (allowed) window.count += 1;
      const resetAt = start + windowMs;
      return {
        allowed,
        remaining: limit - window.count,
        resetAt,
        retryAt: resetAt,
        refund() {
          if (window.count > 0) window.count -= 1;
        },
      };
    },
  };
}

/**
 * A token bucket of `limit` tokens refilled evenly over `windowMs`. Tokens are counted in
 * integer units of 1/windowMs token so refills are exact on any clock (no float drift).
 */
function tokenBucket(limit: number, windowMs: number): Limiter {
  const capacity = limit * windowMs;
  const cost = windowMs;
  const buckets = new Map<string, { units: number; at: number }>();
  return {
    take(key, now) {
      let b = buckets.get(key);
      if (!b) {
        b = { units: capacity, at: now };
        buckets.set(key, b);
      }
      const bucket = b;
      bucket.units = Math.min(capacity, bucket.units + Math.max(0, now - bucket.at) * limit);
      bucket.at = Math.max(bucket.at, now);
      const allowed = bucket.units >= cost;
      if (allowed) bucket.units -= cost;
      return {
        allowed,
        remaining: Math.floor(bucket.units / cost),
        resetAt: now + Math.ceil((capacity - bucket.units) / limit),
        retryAt: now + Math.ceil(Math.max(0, cost - bucket.units) / limit),
        refund() {
          bucket.units = Math.min(capacity, bucket.units + cost);
        },
      };
    },
  };
}

function secondsUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Epoch seconds rounded up, so a client that waits until then is past the instant. */
function epochSeconds(at: number): number {
  return Math.ceil(at / 1000);
}

function retryAfterValue(style: RetryAfterStyle, at: number, now: number): string | undefined {
  if (style === "none") return undefined;
  if (style === "date") return new Date(epochSeconds(at) * 1000).toUTCString();
  return String(Math.max(1, secondsUntil(at, now)));
}

/**
 * Creates the rate-limit middleware (it reads `credential`, so it runs after auth).
 *
 * @example
 * ```ts
 * app.use("*", rateLimitMiddleware({ limit: 60, windowMs: 60_000, retryAfter: "date" }));
 * ```
 */
export function rateLimitMiddleware(options: RateLimitOptions): MiddlewareHandler<MockEnv> {
  const limit = options.limit;
  const windowMs = options.windowMs ?? 60_000;
  const retryAfter = options.retryAfter ?? "seconds";
  const resetStyle = options.resetStyle ?? "seconds";
  const now = options.now ?? Date.now;
  const limiter = (options.limiter ?? "fixed") === "bucket"
    ? tokenBucket(limit, windowMs)
    : fixedWindow(limit, windowMs);
  const timelines = fixedWindow(limit, TIMELINE_WINDOW_MS);

  return async (c: Context<MockEnv>, next) => {
    const credential = c.get("credential") ?? "anonymous";
    const user = TIMELINE_PATH.exec(c.req.path)?.[1];
    const at = now();
    const take = user === undefined
      ? limiter.take(credential, at)
      : timelines.take(`${credential}\n${user}`, at);
    const headers = (t: Take): Record<string, string> =>
      user === undefined
        ? {
          "X-RateLimit-Limit": String(limit),
          "X-RateLimit-Remaining": String(t.remaining),
          "X-RateLimit-Reset": String(
            resetStyle === "epoch" ? epochSeconds(t.resetAt) : secondsUntil(t.resetAt, at),
          ),
        }
        : {
          "x-rate-limit-limit": String(limit),
          "x-rate-limit-remaining": String(t.remaining),
          "x-rate-limit-reset": String(epochSeconds(t.resetAt)),
        };
    if (!take.allowed) {
      const retry = user === undefined ? retryAfterValue(retryAfter, take.retryAt, at) : undefined;
      return c.json({ error: "rate limit exceeded" }, 429, {
        ...headers(take),
        ...(retry === undefined ? {} : { "Retry-After": retry }),
      });
    }
    await next();
    if (c.res.status === 304) {
      take.refund();
      take.remaining += 1;
    }
    for (const [name, value] of Object.entries(headers(take))) c.res.headers.set(name, value);
  };
}
