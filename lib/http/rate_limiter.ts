/**
 * The client-side rate limiter of a run, shared by all its concurrent requests and kept per key
 * (the host by default). Two layers:
 *
 * - a token bucket from the config (`requests_per_second`, `burst`), when set;
 * - an adaptive quota learned from the server's `X-RateLimit-*` / `x-rate-limit-*` /
 *   `RateLimit` headers: requests go out while the learned allowance lasts (so a run uses the
 *   whole window), then wait for the window's reset, where a single probe request learns the new
 *   quota before the others follow (so no request is sent into a window that is already full).
 *
 * A 429 that still arrives pauses every request of the key, not only the one that got it.
 * @module
 */
import { type Clock, systemClock } from "../core/clock.ts";
import { readRateLimit } from "./retry_after.ts";
import type { RateLimitConfig } from "./schema.ts";

/** Options of a {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Steady rate of the token bucket; omitted = no fixed rate (adaptive only). */
  requestsPerSecond?: number;
  /** Bucket size: requests that may go out back to back. @default 1 */
  burst?: number;
  /** Learn the quota from rate-limit response headers. @default true */
  adaptive?: boolean;
  /** Time source. @default systemClock */
  clock?: Clock;
}

/** What a finished request tells the limiter. */
export interface RateLimitObservation {
  /** The response status, if a response arrived. */
  status?: number;
  /** The response headers, if a response arrived. */
  headers?: Headers;
}

/** Permission to send one request; release it when the response (or the failure) is in. */
export interface RateLimitTicket {
  /** Milliseconds the request waited for permission. */
  readonly queuedMs: number;
  /** Reports the outcome (teaching the limiter the server's quota) and frees the slot. */
  release(observation?: RateLimitObservation): void;
}

/** Options of {@linkcode RateLimiter.acquire}. */
export interface AcquireOptions {
  /** Cancels the wait (rejects with its reason). */
  signal?: AbortSignal;
  /**
   * Longest wait for a window reset or a 429 pause worth sleeping; a longer one rejects with
   * {@linkcode RateLimitWaitTooLong} at once. @default Infinity
   */
  maxWaitMs?: number;
}

/**
 * What the HTTP layer needs of a limiter: permission per request, and a pause of every request
 * of a key after a 429. {@linkcode RateLimiter} keeps its budget in the process; a queue worker
 * hands in one whose budget is shared by every worker (lib/queue/shared_limiter.ts).
 */
export interface Limiter {
  /** Waits until a request to `key` may go out; see {@linkcode RateLimiter.acquire}. */
  acquire(key: string, options?: AcquireOptions): Promise<RateLimitTicket>;
  /** Holds every request to `key` until `until` (epoch ms). */
  pause(key: string, until: number): void;
}

/**
 * Makes a run's limiter from its parsed `rate_limit:` config (queue workers share one budget
 * across processes through one).
 */
export type LimiterFactory = (config: RateLimitConfig, clock: Clock) => Limiter;

/** The limiter would have to hold a request longer than `maxWaitMs`. */
export class RateLimitWaitTooLong extends Error {
  /** Epoch ms when requests may go again. */
  readonly until: number;
  /** Builds the error. */
  constructor(until: number, waitMs: number) {
    super(`the rate limit holds requests for ${Math.ceil(waitMs / 1000)} s`);
    this.name = "RateLimitWaitTooLong";
    this.until = until;
  }
}

/** The limiter's view of one key, for reports and tests. */
export interface RateLimitSnapshot {
  /** Requests the limiter believes may still go out in this window (undefined = unknown). */
  allowance?: number;
  /** Epoch ms of the learned window reset. */
  resetAt?: number;
  /** The server's stated limit per window. */
  limit?: number;
  /** Requests sent and not yet released. */
  inFlight: number;
  /** Epoch ms until which every request waits (after a 429). */
  pausedUntil: number;
  /** 429 responses observed. */
  rateLimited: number;
}

interface KeyState {
  tokens: number;
  refilledAt: number;
  allowance?: number;
  resetAt?: number;
  // Whether resetAt came from response headers (true) or from a pause after a 429 (false).
  resetLearned: boolean;
  limit?: number;
  inFlight: number;
  probing: boolean;
  pausedUntil: number;
  resetSlackMs: number;
  rateLimited: number;
  waiters: Set<() => void>;
}

// When a server says "remaining 0" but gives no reset time, probe again after this long.
const PROBE_INTERVAL_MS = 1000;
// Integer-second reset headers are rounded one way or the other; once a probe sent at the
// learned reset is refused, every later reset estimate is pushed back by this much.
const ROUNDING_SLACK_MS = 1000;

/**
 * A token bucket plus a quota learned from response headers, per key, shared by every
 * concurrent request of a run.
 *
 * @example
 * ```ts
 * import { RateLimiter } from "./rate_limiter.ts";
 * const limiter = new RateLimiter({ requestsPerSecond: 5, burst: 5 });
 * const ticket = await limiter.acquire("127.0.0.1:9000");
 * const response = await fetch("http://127.0.0.1:9000/-/health");
 * await response.body?.cancel();
 * ticket.release({ status: response.status, headers: response.headers });
 * ```
 */
export class RateLimiter implements Limiter {
  readonly #rate?: number;
  readonly #burst: number;
  readonly #adaptive: boolean;
  readonly #clock: Clock;
  readonly #keys = new Map<string, KeyState>();

  /** Builds a limiter; with no options it only learns from headers. */
  constructor(options: RateLimiterOptions = {}) {
    if (options.requestsPerSecond !== undefined && !(options.requestsPerSecond > 0)) {
      throw new RangeError(
        `invalid requests_per_second ${options.requestsPerSecond}: give a positive number`,
      );
    }
    this.#rate = options.requestsPerSecond;
    this.#burst = Math.max(1, options.burst ?? 1);
    this.#adaptive = options.adaptive ?? true;
    this.#clock = options.clock ?? systemClock;
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (!state) {
      state = {
        tokens: this.#burst,
        refilledAt: this.#clock.now(),
        resetLearned: false,
        inFlight: 0,
        probing: false,
        pausedUntil: 0,
        resetSlackMs: 0,
        rateLimited: 0,
        waiters: new Set(),
      };
      this.#keys.set(key, state);
    }
    return state;
  }

  /** The limiter's view of `key`. */
  snapshot(key: string): RateLimitSnapshot {
    const s = this.#state(key);
    return {
      allowance: s.allowance,
      resetAt: s.resetAt,
      limit: s.limit,
      inFlight: s.inFlight,
      pausedUntil: s.pausedUntil,
      rateLimited: s.rateLimited,
    };
  }

  /**
   * Waits until a request to `key` may go out and returns its ticket. Rejects with
   * `signal.reason` if `signal` aborts while waiting, and with {@linkcode RateLimitWaitTooLong}
   * if the server's window or a 429 pause would hold it longer than `maxWaitMs`.
   */
  async acquire(key: string, options: AcquireOptions = {}): Promise<RateLimitTicket> {
    const { signal, maxWaitMs = Infinity } = options;
    const started = this.#clock.now();
    const s = this.#state(key);
    signal?.throwIfAborted();

    if (this.#rate !== undefined) {
      // Reserve a token now (the bucket may go negative) and sleep until it is ours: concurrent
      // callers are served in call order at exactly the configured rate.
      const now = this.#clock.now();
      s.tokens = Math.min(this.#burst, s.tokens + ((now - s.refilledAt) / 1000) * this.#rate);
      s.refilledAt = now;
      s.tokens -= 1;
      if (s.tokens < 0) await this.#clock.sleep((-s.tokens / this.#rate) * 1000, signal);
    }

    let probe = false;
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#clock.now();
      if (s.pausedUntil > now) {
        if (s.pausedUntil - now > maxWaitMs) {
          throw new RateLimitWaitTooLong(s.pausedUntil, s.pausedUntil - now);
        }
        await this.#wait(s, s.pausedUntil - now, signal);
        continue;
      }
      if (!this.#adaptive || s.allowance === undefined || s.allowance > 0) {
        if (s.allowance !== undefined) s.allowance -= 1;
        break;
      }
      if (s.resetAt !== undefined && now < s.resetAt) {
        if (s.resetAt - now > maxWaitMs) throw new RateLimitWaitTooLong(s.resetAt, s.resetAt - now);
        await this.#wait(s, s.resetAt - now, signal);
        continue;
      }
      if (s.probing) {
        await this.#wait(s, undefined, signal);
        continue;
      }
      // The window should have reset: one request learns the new quota, the others wait for it.
      s.probing = true;
      probe = true;
      break;
    }

    s.inFlight += 1;
    let released = false;
    return {
      queuedMs: this.#clock.now() - started,
      release: (observation?: RateLimitObservation) => {
        if (released) return;
        released = true;
        s.inFlight -= 1;
        if (probe) s.probing = false;
        this.#observe(s, observation, probe);
        for (const wake of [...s.waiters]) wake();
        s.waiters.clear();
      },
    };
  }

  /**
   * Holds every request to `key` until `until` (epoch ms): after a 429, all workers back off —
   * for exactly that long. The server said when to come back; the window learned from earlier
   * headers (often a minute away) is no reason to wait longer, so after the pause one probe goes
   * out and its headers teach the quota again before the others follow.
   */
  pause(key: string, until: number): void {
    const s = this.#state(key);
    s.pausedUntil = Math.max(s.pausedUntil, until);
    if (this.#adaptive) {
      s.allowance = 0;
      s.resetAt = s.pausedUntil;
      s.resetLearned = false;
    }
  }

  #observe(s: KeyState, observation: RateLimitObservation | undefined, probe: boolean): void {
    if (observation?.status === 429) {
      s.rateLimited += 1;
      const now = this.#clock.now();
      // A probe sent at the learned reset was refused: our reset estimates are early (the
      // server rounds its integer seconds down). Allow for it from now on.
      if (probe && s.resetLearned && s.resetAt !== undefined && now >= s.resetAt) {
        s.resetSlackMs = ROUNDING_SLACK_MS;
      }
      if (this.#adaptive) s.allowance = 0;
    }
    if (!this.#adaptive || !observation?.headers) return;
    const now = this.#clock.now();
    const info = readRateLimit(observation.headers, now);
    if (!info) return;
    if (info.limit !== undefined) s.limit = info.limit;
    if (info.remaining !== undefined && observation.status !== 429) {
      // Requests still in flight may not be counted by the server yet: assume they are not.
      // Both this and the running allowance are lower bounds of what is really left, so keep
      // the larger (a new window shows up as a larger remaining).
      const lowerBound = info.remaining - s.inFlight;
      s.allowance = s.allowance === undefined ? lowerBound : Math.max(s.allowance, lowerBound);
    }
    if (info.resetMs !== undefined) {
      const candidate = now + info.resetMs + s.resetSlackMs;
      // Every response of a window gives an upper bound of its end (reset seconds are rounded
      // up); keep the tightest. A candidate after a passed estimate belongs to a new window.
      if (s.resetAt === undefined || s.resetAt <= now || candidate < s.resetAt) {
        s.resetAt = candidate;
        s.resetLearned = true;
      }
    } else if (info.remaining === 0 && (s.resetAt === undefined || s.resetAt <= now)) {
      s.resetAt = now + PROBE_INTERVAL_MS;
      s.resetLearned = false;
    }
  }

  // Sleeps until `ms` passes (forever when undefined) or any ticket of the key is released.
  async #wait(s: KeyState, ms: number | undefined, signal?: AbortSignal): Promise<void> {
    const wake = new AbortController();
    const onWake = () => wake.abort();
    s.waiters.add(onWake);
    const both = signal ? AbortSignal.any([signal, wake.signal]) : wake.signal;
    try {
      if (ms === undefined) {
        await new Promise<void>((_, reject) => {
          both.addEventListener("abort", () => reject(both.reason), { once: true });
        });
      } else {
        await this.#clock.sleep(ms, both);
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!wake.signal.aborted) throw error;
    } finally {
      s.waiters.delete(onWake);
    }
  }
}
