/**
 * A `Clock` whose time moves only when a test moves it: `advance(ms)` fires due timers in
 * order; `run(promise)` lets the code under test run, and whenever everything is waiting on a
 * timer, jumps to that timer — so a retry that "waits 3 s" takes microseconds and the test can
 * see exactly when each attempt went out.
 * @module
 */
import type { Clock } from "../../lib/core/clock.ts";

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

// Captured before any test could install fake timers.
const realSetTimeout = globalThis.setTimeout;

/** Yields one real macrotask, so every pending microtask chain runs to its next wait. */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, 0));
}

/** A clock for tests; see the module doc. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];
  /** Every sleep requested, in order (ms). */
  readonly sleeps: number[] = [];

  /** Starts at `start` epoch ms. */
  constructor(start = Date.UTC(2026, 0, 1, 10, 0, 0)) {
    this.#now = start;
  }

  /** Current fake epoch ms. */
  now(): number {
    return this.#now;
  }

  /** Resolves when the fake time reaches now + ms; rejects at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    if (!(ms > 0)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer: Timer = {
        at: this.#now + ms,
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#timers.push(timer);
    });
  }

  /** Timers waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  #next(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers) {
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }

  #fire(timer: Timer): void {
    this.#timers = this.#timers.filter((t) => t !== timer);
    this.#now = Math.max(this.#now, timer.at);
    timer.resolve();
  }

  /** Moves time forward by `ms`, firing due timers in order and letting their effects run. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await macrotask();
    for (;;) {
      const next = this.#next();
      if (!next || next.at > end) break;
      this.#fire(next);
      await macrotask();
    }
    this.#now = end;
    await macrotask();
  }

  /**
   * Runs until `promise` settles: lets the code run, and when it only waits on timers, jumps to
   * the earliest one. Only for code that waits on nothing but this clock and microtasks.
   */
  async run<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    promise.then(() => settled = true, () => settled = true);
    for (let idle = 0; idle < 200;) {
      await macrotask();
      if (settled) return promise;
      const next = this.#next();
      if (next) {
        idle = 0;
        this.#fire(next);
      } else idle += 1;
    }
    throw new Error("ManualClock.run: the promise waits on something other than the clock");
  }
}
