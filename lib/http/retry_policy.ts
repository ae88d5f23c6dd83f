/**
 * The retry policy of docs/design.md §5 as one pure function: given the attempt that just ended, the
 * time, the limits and a random source, it says whether to return, retry after a wait, refresh
 * the credentials, skip for a rate limit, or give up. No I/O, no clock reads.
 * @module
 */
import { fullJitterBackoff } from "./backoff.ts";
import { waitHint } from "./retry_after.ts";
import type { AttemptKind } from "./request.ts";

/** What the attempt that just ended produced. */
export interface AttemptOutcome {
  /** `http` when a response arrived, else the failure kind. */
  kind: AttemptKind;
  /** Status, when a response arrived. */
  status?: number;
  /** Response headers, when a response arrived. */
  headers?: Headers;
}

/** Limits and context of {@linkcode decideRetry}. */
export interface RetryContext {
  /** 1-based number of the attempt that just ended. */
  attempt: number;
  /** Epoch ms now (for HTTP-date and epoch reset headers). */
  now: number;
  /** Attempts allowed, the first included. */
  maxAttempts: number;
  /** Backoff base, ms. */
  baseMs: number;
  /** Backoff cap, ms. */
  capMs: number;
  /** Longest server-requested wait worth sleeping, ms; above it the call is a skip. */
  maxWaitMs: number;
  /** Uniform random source in [0, 1). */
  random: () => number;
  /** Auth refreshes this request may still make after a 401. @default 0 */
  refreshesLeft?: number;
  /** Sleep left in the run's retry budget, ms. @default Infinity */
  budgetSleepLeftMs?: number;
  /** Retries left in the run's retry budget. @default Infinity */
  budgetRetriesLeft?: number;
}

/** What to do after an attempt. */
export type RetryDecision =
  | { action: "return" }
  | { action: "refresh_auth" }
  | {
    action: "retry";
    /** Milliseconds to sleep before the next attempt. */
    waitMs: number;
    /** The header that decided the wait; absent for backoff. */
    header?: string;
    /** That header's value. */
    headerValue?: string;
  }
  | {
    action: "rate_limited";
    /** The wait the server asked for, ms (above `maxWaitMs`). */
    waitMs: number;
    /** The header that asked for it. */
    header: string;
    /** That header's value. */
    headerValue: string;
  }
  | {
    action: "fail";
    /** `status`: not retryable; `attempts`: max_attempts used; `budget`: the run's budget. */
    reason: "status" | "attempts" | "budget";
    /** The wait that did not fit in the budget, when reason is `budget`. */
    waitMs?: number;
  };

/** Statuses worth another attempt: the server may answer differently later. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Decides what follows an attempt:
 * - 2xx/3xx → return; 401 with refreshes left → refresh the credentials and retry at once;
 * - 408/429/500/502/503/504, timeouts, resets, truncated bodies, network errors → retry after
 *   `Retry-After` (or, for a 429, the reset headers), else full-jitter backoff (a 429 without
 *   a usable hint waits at least `baseMs`, so an exhausted quota is never hammered);
 * - a server-requested wait above `maxWaitMs` → `rate_limited` (not slept);
 * - other 4xx (and 401 without refreshes) → fail fast; attempts or budget spent → fail.
 *
 * @example
 * ```ts
 * import { decideRetry } from "./retry_policy.ts";
 * decideRetry(
 *   { kind: "http", status: 429, headers: new Headers({ "Retry-After": "3" }) },
 *   { attempt: 1, now: Date.now(), maxAttempts: 6, baseMs: 500, capMs: 8000, maxWaitMs: 120_000, random: Math.random },
 * ); // { action: "retry", waitMs: 3000, header: "Retry-After", headerValue: "3" }
 * ```
 */
export function decideRetry(outcome: AttemptOutcome, context: RetryContext): RetryDecision {
  const status = outcome.kind === "http" ? outcome.status ?? 0 : undefined;
  if (status !== undefined && status < 400) return { action: "return" };
  if (status === 401) {
    return (context.refreshesLeft ?? 0) > 0 && context.attempt < context.maxAttempts
      ? { action: "refresh_auth" }
      : { action: "fail", reason: "status" };
  }
  if (status !== undefined && !RETRYABLE_STATUSES.has(status)) {
    return { action: "fail", reason: "status" };
  }

  const hint = outcome.headers
    ? waitHint(outcome.headers, context.now, { rateLimited: status === 429 })
    : undefined;
  if (hint && hint.waitMs > context.maxWaitMs) {
    return {
      action: "rate_limited",
      waitMs: hint.waitMs,
      header: hint.header,
      headerValue: hint.value,
    };
  }
  if (context.attempt >= context.maxAttempts) return { action: "fail", reason: "attempts" };

  const waitMs = hint?.waitMs ?? fullJitterBackoff(context.attempt - 1, {
    baseMs: context.baseMs,
    capMs: context.capMs,
    random: context.random,
    floorMs: status === 429 ? Math.min(context.baseMs, context.capMs) : 0,
  });
  if (
    (context.budgetRetriesLeft ?? Infinity) < 1 || waitMs > (context.budgetSleepLeftMs ?? Infinity)
  ) {
    return { action: "fail", reason: "budget", waitMs };
  }
  return hint
    ? { action: "retry", waitMs, header: hint.header, headerValue: hint.value }
    : { action: "retry", waitMs };
}
