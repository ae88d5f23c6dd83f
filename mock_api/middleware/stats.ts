/**
 * `GET /-/stats`: requests by path and final status since the app started, so tests and
 * benchmarks can count what a client really sent. Requests the client abandoned while held
 * count under the status `"aborted"`.
 * @module
 */
import type { Handler, MiddlewareHandler } from "hono";
import type { MockEnv } from "../context.ts";

/** The body of `GET /-/stats`. */
export interface RequestStats {
  /** When counting started (ISO 8601, from the injected clock). */
  started_at: string;
  /** Requests answered (or abandoned) so far. */
  total: number;
  /** Count per final status. */
  by_status: Record<string, number>;
  /** Count per path, then per final status. */
  by_path: Record<string, Record<string, number>>;
}

/** Stats settings. */
export interface StatsOptions {
  /** Epoch-millisecond clock. @default Date.now */
  now?: () => number;
}

/** The counting middleware (mount it first) and the `/-/stats` handler. */
export interface MockStats {
  /** Counts each request by path and final status. */
  middleware: MiddlewareHandler<MockEnv>;
  /** Answers the counts so far. */
  handler: Handler<MockEnv>;
  /** The counts so far (a copy). */
  snapshot(): RequestStats;
}

/**
 * Creates the request counter.
 *
 * @example
 * ```ts
 * const stats = createStats();
 * app.use("*", stats.middleware);
 * app.get("/-/stats", stats.handler);
 * ```
 */
export function createStats(options: StatsOptions = {}): MockStats {
  const stats: RequestStats = {
    started_at: new Date((options.now ?? Date.now)()).toISOString(),
    total: 0,
    by_status: {},
    by_path: {},
  };
  function count(path: string, status: string): void {
    stats.total += 1;
    stats.by_status[status] = (stats.by_status[status] ?? 0) + 1;
    const byPath = stats.by_path[path] ??= {};
    byPath[status] = (byPath[status] ?? 0) + 1;
  }
  function snapshot(): RequestStats {
    return structuredClone(stats);
  }
  return {
    async middleware(c, next) {
      try {
        await next();
      } catch (error) {
        count(c.req.path, "aborted");
        throw error;
      }
      count(c.req.path, String(c.res.status));
    },
    handler: (c) => c.json(snapshot()),
    snapshot,
  };
}
