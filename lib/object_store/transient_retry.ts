/**
 * Retrying an object-storage call that failed for a passing reason (a 503 SlowDown, a reset
 * connection) a few times with capped, jittered exponential backoff. Waiting goes through the
 * injected clock, so tests never sleep; the AWS SDK's own retries are turned off so this is the
 * only place that waits.
 * @module
 */
import { fullJitterBackoff } from "../http/backoff.ts";
import { type Clock, systemClock } from "../core/clock.ts";

/** Options of {@link retryTransient}. */
export interface RetryTransientOptions {
  /** Whether an error is worth another attempt. */
  isTransient: (error: unknown) => boolean;
  /** Attempts in all, the first included. @default 4 */
  attempts?: number;
  /** Backoff base, in milliseconds. @default 250 */
  baseMs?: number;
  /** Longest single wait, in milliseconds. @default 4000 */
  capMs?: number;
  /** Waits between attempts. @default systemClock */
  clock?: Clock;
  /** Uniform random source in `[0, 1)` for the jitter. @default Math.random */
  random?: () => number;
}

/** The error of the last attempt, with how many attempts were made. */
export class RetriesExhausted extends Error {
  /** Attempts made. */
  readonly attempts: number;
  /** The last attempt's error. */
  readonly last: unknown;
  /** Wraps the last error. */
  constructor(last: unknown, attempts: number) {
    super(`failed after ${attempts} attempt${attempts === 1 ? "" : "s"}`);
    this.name = "RetriesExhausted";
    this.attempts = attempts;
    this.last = last;
  }
}

/**
 * Runs `operation` until it succeeds, fails with a non-transient error (thrown as is), or runs
 * out of attempts on transient errors ({@link RetriesExhausted}, holding the last error).
 *
 * @example
 * ```ts
 * import { retryTransient } from "./transient_retry.ts";
 * let calls = 0;
 * const value = await retryTransient(async () => {
 *   calls += 1;
 *   if (calls < 3) throw new Error("busy");
 *   return "ok";
 * }, { isTransient: () => true, clock: { now: () => 0, sleep: () => Promise.resolve() } });
 * // value === "ok", calls === 3
 * ```
 */
export async function retryTransient<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryTransientOptions,
): Promise<T> {
  const { attempts = 4, baseMs = 250, capMs = 4000, clock = systemClock, random } = options;
  if (!Number.isSafeInteger(attempts) || attempts < 1) {
    throw new RangeError(`attempts ${attempts} is not a positive integer`);
  }
  for (let attempt = 1;; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!options.isTransient(error)) throw error;
      if (attempt >= attempts) throw new RetriesExhausted(error, attempt);
      await clock.sleep(fullJitterBackoff(attempt - 1, { baseMs, capMs, random }));
    }
  }
}
