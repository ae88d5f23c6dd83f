/**
 * One rate budget for every worker: a token bucket per limiter key (origin + credential, as the
 * HTTP layer names it) in PostgreSQL, one row each, taken with one atomic `UPDATE … RETURNING`.
 * Like the in-process bucket it reserves: the row's tokens may go negative and the caller sleeps
 * until its token is due, so requests of all workers go out one after the other at the configured
 * rate — four workers against a 60/min API make at most 60 requests a minute together, where four
 * in-process buckets would make 240. A 429 that still arrives pauses every worker of the key (the
 * row holds the pause). The server's headers are still learned per process, as without a queue.
 * @module
 */
import type pg from "pg";
import { type Clock, systemClock } from "../core/clock.ts";
import {
  type AcquireOptions,
  type Limiter,
  RateLimiter,
  type RateLimitTicket,
  RateLimitWaitTooLong,
} from "../http/rate_limiter.ts";
import type { RateLimitConfig } from "../http/schema.ts";
import { RATE_LIMIT_TABLE } from "./store.ts";

/** Options of {@link SharedRateLimiter}. */
export interface SharedRateLimiterOptions {
  /** Steady rate of the bucket, shared by every worker. */
  requestsPerSecond: number;
  /** Requests that may go out back to back. @default 1 */
  burst?: number;
  /** Also learn the quota from response headers (per process). @default true */
  adaptive?: boolean;
  /** Sleeps, and with `time: "clock"` the bucket's time. @default systemClock */
  clock?: Clock;
  /**
   * Whose time refills the bucket: the database's (`clock_timestamp()`: one time for workers on
   * many machines, whatever their clocks say) or `clock`'s (tests drive it). @default "database"
   */
  time?: "database" | "clock";
}

/**
 * A limiter whose token bucket is a row in PostgreSQL, shared by every process using the same
 * key; header learning and 429 pauses also apply in the process, as with {@link RateLimiter}.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { SharedRateLimiter } from "./shared_limiter.ts";
 * const pool = new pg.Pool({ connectionString: "postgres://etl@db/ops" });
 * const limiter = new SharedRateLimiter(pool, { requestsPerSecond: 1 });
 * const ticket = await limiter.acquire("api.example.org credential bearer:API_TOKEN");
 * ticket.release({ status: 200 });
 * ```
 */
export class SharedRateLimiter implements Limiter {
  readonly #pool: pg.Pool;
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: Clock;
  readonly #useClock: boolean;
  readonly #local: RateLimiter;
  readonly #known = new Set<string>();
  readonly #pending = new Set<Promise<void>>();

  /** Builds a limiter over `pool` (whose database holds {@link RATE_LIMIT_TABLE}). */
  constructor(pool: pg.Pool, options: SharedRateLimiterOptions) {
    if (!(options.requestsPerSecond > 0)) {
      throw new RangeError(
        `invalid requests_per_second ${options.requestsPerSecond}: give a positive number`,
      );
    }
    this.#pool = pool;
    this.#rate = options.requestsPerSecond;
    this.#burst = Math.max(1, options.burst ?? 1);
    this.#clock = options.clock ?? systemClock;
    this.#useClock = options.time === "clock";
    this.#local = new RateLimiter({ adaptive: options.adaptive ?? true, clock: this.#clock });
  }

  /** The time parameter of a query: the clock's reading, or null for the database's. */
  #now(): number | null {
    return this.#useClock ? this.#clock.now() : null;
  }

  /**
   * Reserves the next token of `key` in the shared bucket, sleeps until it is due (and past a
   * shared 429 pause), then passes the in-process limiter. A wait longer than `maxWaitMs` gives
   * the token back and rejects with {@link RateLimitWaitTooLong}.
   */
  async acquire(key: string, options: AcquireOptions = {}): Promise<RateLimitTicket> {
    const { signal, maxWaitMs = Infinity } = options;
    signal?.throwIfAborted();
    const started = this.#clock.now();
    if (!this.#known.has(key)) {
      await this.#pool.query(
        `INSERT INTO ${RATE_LIMIT_TABLE} (key, tokens, refilled_at)
         VALUES ($1, $2, COALESCE($3::float8, (extract(epoch FROM clock_timestamp()) * 1000)::float8))
         ON CONFLICT (key) DO NOTHING`,
        [key, this.#burst, this.#now()],
      );
      this.#known.add(key);
    }
    const { rows } = await this.#pool.query<{ tokens: number; paused_until: number; now: number }>(
      `UPDATE ${RATE_LIMIT_TABLE} AS b SET
         tokens = LEAST($2::float8, b.tokens + GREATEST(0, t.now - b.refilled_at) * $3::float8 / 1000) - 1,
         refilled_at = GREATEST(b.refilled_at, t.now)
       FROM (SELECT COALESCE($4::float8, (extract(epoch FROM clock_timestamp()) * 1000)::float8) AS now) AS t
       WHERE b.key = $1
       RETURNING b.tokens, b.paused_until, t.now`,
      [key, this.#burst, this.#rate, this.#now()],
    );
    const row = rows[0];
    const waitMs = Math.max(0, (-row.tokens / this.#rate) * 1000, row.paused_until - row.now);
    if (waitMs > maxWaitMs) {
      await this.#giveBack(key);
      throw new RateLimitWaitTooLong(this.#clock.now() + waitMs, waitMs);
    }
    if (waitMs > 0) await this.#clock.sleep(waitMs, signal);
    const ticket = await this.#local.acquire(key, {
      signal,
      maxWaitMs: Math.max(0, maxWaitMs - (this.#clock.now() - started)),
    });
    return { queuedMs: this.#clock.now() - started, release: (o) => ticket.release(o) };
  }

  /**
   * Holds every request to `key` until `until`, in this process at once and in every other
   * worker from its next request on (the pause is written to the bucket's row).
   */
  pause(key: string, until: number): void {
    this.#local.pause(key, until);
    const dbNow = "(extract(epoch FROM clock_timestamp()) * 1000)::float8";
    const write = this.#pool.query(
      `INSERT INTO ${RATE_LIMIT_TABLE} AS b (key, tokens, refilled_at, paused_until)
       VALUES ($1, $2, COALESCE($3::float8, ${dbNow}), COALESCE($4::float8, ${dbNow} + $5::float8))
       ON CONFLICT (key) DO UPDATE SET paused_until = GREATEST(b.paused_until, EXCLUDED.paused_until)`,
      [
        key,
        this.#burst,
        this.#now(),
        this.#useClock ? until : null,
        this.#useClock ? 0 : until - this.#clock.now(),
      ],
    ).then(() => {}, () => {}); // a lost pause only costs one more 429, which pauses again
    this.#pending.add(write);
    write.finally(() => this.#pending.delete(write));
  }

  /** Resolves once every pause this limiter was told of is written for the other workers. */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  async #giveBack(key: string): Promise<void> {
    await this.#pool.query(
      `UPDATE ${RATE_LIMIT_TABLE} SET tokens = tokens + 1 WHERE key = $1`,
      [key],
    ).catch(() => {});
  }
}

/**
 * The limiter factory a queue worker gives its harvests: a {@link SharedRateLimiter} when the
 * config sets `requests_per_second` (the budget every worker shares), else the in-process
 * limiter (there is no fixed budget to share; the server's headers are learned per process).
 */
export function sharedLimiterFactory(
  pool: pg.Pool,
  options: { time?: "database" | "clock" } = {},
): (config: RateLimitConfig, clock: Clock) => Limiter {
  return (config, clock) =>
    config.requests_per_second === undefined
      ? new RateLimiter({ burst: config.burst, adaptive: config.adaptive, clock })
      : new SharedRateLimiter(pool, {
        requestsPerSecond: config.requests_per_second,
        burst: config.burst,
        adaptive: config.adaptive,
        clock,
        time: options.time,
      });
}
