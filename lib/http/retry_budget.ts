/**
 * The retry budget of a run: every retry of every request of a run draws
 * on one total of sleep time and one count of retries, so a broken upstream ends the run with
 * a clear error instead of sleeping forever.
 * @module
 */

/** Limits of a {@linkcode RetryBudget}. */
export interface RetryBudgetOptions {
  /** Total milliseconds of retry sleep allowed in the run. @default 600_000 */
  maxSleepMs?: number;
  /** Total retries allowed in the run. @default 10_000 */
  maxRetries?: number;
}

/**
 * Run-wide totals of retry sleep and retries. `tryReserve` is synchronous, so concurrent
 * requests cannot both take the last of the budget.
 *
 * @example
 * ```ts
 * import { RetryBudget } from "./retry_budget.ts";
 * const budget = new RetryBudget({ maxSleepMs: 60_000, maxRetries: 100 });
 * budget.tryReserve(5_000); // true
 * budget.sleepLeftMs; // 55_000
 * ```
 */
export class RetryBudget {
  /** Total retry sleep allowed, ms. */
  readonly maxSleepMs: number;
  /** Total retries allowed. */
  readonly maxRetries: number;
  #sleptMs = 0;
  #retries = 0;

  /** Builds a budget with the given limits. */
  constructor(options: RetryBudgetOptions = {}) {
    this.maxSleepMs = options.maxSleepMs ?? 600_000;
    this.maxRetries = options.maxRetries ?? 10_000;
  }

  /** Retry sleep reserved so far, ms. */
  get sleptMs(): number {
    return this.#sleptMs;
  }

  /** Retries reserved so far. */
  get retries(): number {
    return this.#retries;
  }

  /** Retry sleep still available, ms. */
  get sleepLeftMs(): number {
    return Math.max(0, this.maxSleepMs - this.#sleptMs);
  }

  /** Retries still available. */
  get retriesLeft(): number {
    return Math.max(0, this.maxRetries - this.#retries);
  }

  /** Takes one retry and `waitMs` of sleep if both fit; returns false (taking nothing) if not. */
  tryReserve(waitMs: number): boolean {
    if (this.#retries + 1 > this.maxRetries || this.#sleptMs + waitMs > this.maxSleepMs) {
      return false;
    }
    this.#retries += 1;
    this.#sleptMs += waitMs;
    return true;
  }

  /** A one-line account for errors and reports. */
  describe(): string {
    return `${(this.#sleptMs / 1000).toFixed(1)} s of ${(this.maxSleepMs / 1000).toFixed(1)} s ` +
      `slept, ${this.#retries} of ${this.maxRetries} retries made`;
  }
}
