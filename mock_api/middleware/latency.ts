/**
 * Added latency per request (`--latency-ms N`), through `setTimeout` so fake timers drive it.
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { MockEnv } from "../context.ts";

/** Latency settings. */
export interface LatencyOptions {
  /** Delay added before each data request is handled. @default 0 */
  latencyMs?: number;
}

/**
 * Creates the latency middleware.
 *
 * @example
 * ```ts
 * app.use("*", latencyMiddleware({ latencyMs: 50 }));
 * ```
 */
export function latencyMiddleware(options: LatencyOptions = {}): MiddlewareHandler<MockEnv> {
  const ms = options.latencyMs ?? 0;
  return async (_c, next) => {
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    await next();
  };
}
