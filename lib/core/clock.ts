/**
 * Time for the HTTP layer: the current time and a cancellable sleep. Everything that waits takes
 * a `Clock`, so tests drive time with an injected clock or with fake timers instead of sleeping.
 * @module
 */

/** The current time and a way to wait. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms` milliseconds; rejects with `signal.reason` as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The real clock, built on `Date.now` and `setTimeout` looked up at each call, so that
 * `@sinonjs/fake-timers` installed on `globalThis` drives it.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * const started = systemClock.now();
 * await systemClock.sleep(1);
 * console.log(systemClock.now() - started >= 0);
 * ```
 */
export const systemClock: Clock = {
  now(): number {
    return Date.now();
  },
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWithTimers(ms, signal);
  },
};

function sleepWithTimers(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
