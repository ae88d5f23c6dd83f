/**
 * The run's bounded workers: at most `size` tasks run at once, over every asset and every
 * partition, started in the order they were submitted. Assets and partitions submit tasks as
 * they become known (a key-range probe submits its ranges), so one pool bounds the whole run.
 * @module
 */

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Tasks running at once. @default 4 */
  size?: number;
}

/**
 * A FIFO pool of async tasks.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "./worker_pool.ts";
 * const pool = new WorkerPool({ size: 2 });
 * const results = await Promise.all([1, 2, 3].map((n) => pool.run(async () => n * 2)));
 * // [2, 4, 6], never more than two at a time
 * ```
 */
export class WorkerPool {
  /** Tasks allowed to run at once. */
  readonly size: number;
  #running = 0;
  #queue: (() => void)[] = [];
  #peak = 0;

  /** A pool of `size` workers. */
  constructor(options: WorkerPoolOptions = {}) {
    const size = options.size ?? 4;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`workers must be a whole number of at least 1, got ${size}`);
    }
    this.size = size;
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Most tasks that ran at once so far. */
  get peak(): number {
    return this.#peak;
  }

  #release(): void {
    this.#running--;
    this.#queue.shift()?.();
  }

  /** Runs `task` when a worker is free; resolves or rejects with it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.#running++;
        this.#peak = Math.max(this.#peak, this.#running);
        let result: Promise<T>;
        try {
          result = task();
        } catch (error) {
          result = Promise.reject(error);
        }
        // The worker is free before the caller hears back, so its next task may start at once.
        result.then((value) => {
          this.#release();
          resolve(value);
        }, (error) => {
          this.#release();
          reject(error);
        });
      };
      if (this.#running < this.size) start();
      else this.#queue.push(start);
    });
  }
}
