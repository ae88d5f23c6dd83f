/**
 * Single-flight: concurrent callers of the same job share one run of it. Token refreshes use it
 * so that eight requests that see an expired token cause one refresh, not a stampede.
 * @module
 */

/**
 * Runs at most one job at a time; callers that arrive while it runs get the same promise.
 *
 * @example
 * ```ts
 * import { SingleFlight } from "./single_flight.ts";
 * const flight = new SingleFlight<string>();
 * let calls = 0;
 * const job = async () => `token-${++calls}`;
 * await Promise.all([flight.run(job), flight.run(job)]); // ["token-1", "token-1"]
 * ```
 */
export class SingleFlight<T> {
  #current?: Promise<T>;

  /** Whether a job is running. */
  get running(): boolean {
    return this.#current !== undefined;
  }

  /** Runs `job`, or joins the run already in progress. */
  run(job: () => Promise<T>): Promise<T> {
    if (this.#current) return this.#current;
    const current = (async () => {
      try {
        return await job();
      } finally {
        this.#current = undefined;
      }
    })();
    this.#current = current;
    return current;
  }
}
