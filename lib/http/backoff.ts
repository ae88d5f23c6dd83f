/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * retry n waits a uniformly random time in `[0, min(cap, base·2^n))`, so clients that failed
 * together do not retry together.
 * @module
 */

/** Options of {@linkcode fullJitterBackoff}. */
export interface BackoffOptions {
  /** Base of the exponential, in milliseconds. @default 500 */
  baseMs?: number;
  /** Largest wait, in milliseconds. @default 8000 */
  capMs?: number;
  /** Uniform random source in `[0, 1)`. @default Math.random */
  random?: () => number;
  /**
   * Smallest wait, in milliseconds: used after a 429 with no usable hint, where retrying at once
   * would only spend another request of an exhausted quota. @default 0
   */
  floorMs?: number;
}

/** The upper end of the jitter range for retry `retry` (0-based): `min(cap, base·2^retry)`. */
export function backoffCeiling(retry: number, baseMs: number, capMs: number): number {
  // 2^retry overflows to Infinity for large retry counts; min() with the cap keeps it finite.
  return Math.min(capMs, baseMs * 2 ** Math.max(0, retry));
}

/**
 * The wait before retry `retry` (0-based: the first retry is 0): uniform in
 * `[floor, max(floor, min(cap, base·2^retry)))`.
 *
 * @example
 * ```ts
 * import { fullJitterBackoff } from "./backoff.ts";
 * fullJitterBackoff(3, { baseMs: 500, capMs: 8000, random: () => 0.5 }); // 2000
 * ```
 */
export function fullJitterBackoff(retry: number, options: BackoffOptions = {}): number {
  const { baseMs = 500, capMs = 8000, random = Math.random, floorMs = 0 } = options;
  const ceiling = Math.max(floorMs, backoffCeiling(retry, baseMs, capMs));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(floorMs + r * (ceiling - floorMs));
}
