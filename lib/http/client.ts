/**
 * The HTTP session of one run: one rate limiter, one retry budget, one auth provider (with its
 * cached token), one ETag store and one clock, shared by every worker of the run. The harvest
 * engine creates one per run and calls `client.fetch` for every page.
 * @module
 */
import { redactText, redactUrl } from "../core/redact.ts";
import { type AuthProvider, createAuthProvider } from "./auth.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { type EtagStore, MemoryEtagStore } from "./etag_store.ts";
import { type FetchFunction, fetchResilient, type RetryEvent } from "./fetch_resilient.ts";
import { type Limiter, type LimiterFactory, RateLimiter } from "./rate_limiter.ts";
import type { HttpRequest, HttpResult } from "./request.ts";
import { RetryBudget } from "./retry_budget.ts";
import {
  type AuthConfigInput,
  type RateLimitConfig,
  type RateLimitConfigInput,
  rateLimitSchema,
  type RetryConfig,
  type RetryConfigInput,
  retrySchema,
} from "./schema.ts";
import { PARSE_ONCE } from "../core/parse_once.ts";

/** Options of {@linkcode HttpClient}. */
export interface HttpClientOptions {
  /** `retry:` config. @default retrySchema defaults */
  retry?: RetryConfigInput;
  /** `rate_limit:` config. @default rateLimitSchema defaults (adaptive, no fixed rate) */
  rateLimit?: RateLimitConfigInput;
  /** `auth:` config, or a ready provider. @default { type: "none" } */
  auth?: AuthConfigInput | AuthProvider;
  /** Base URL for relative request, token and login URLs. */
  baseUrl?: string | URL;
  /** Validators for conditional requests; `false` turns them off. @default a MemoryEtagStore */
  etagStore?: EtagStore | false;
  /** Time source. @default systemClock */
  clock?: Clock;
  /** Uniform random source for jitter. @default Math.random */
  random?: () => number;
  /** The transport, e.g. `(url, init) => app.request(url, init)`. @default globalThis.fetch */
  fetch?: FetchFunction;
  /**
   * Makes the session's limiter from the parsed `rate_limit:` config (queue workers share one
   * budget across processes). @default a RateLimiter in this process
   */
  limiter?: LimiterFactory;
  /** Headers sent with every request. */
  headers?: HeadersInit;
  /** Told of every retry before its wait (one `http.retry` log line each). */
  onRetry?: (retry: RetryEvent) => void;
}

/** Per-request options of {@linkcode HttpClient.fetch}. */
export interface HttpClientRequestOptions {
  /** Aborts this request (waits included). */
  signal?: AbortSignal;
  /** Rate-limiter key. @default the URL's host */
  rateLimitKey?: string;
}

/** Counters of a client, for the run report. */
export interface HttpClientStats {
  /** Logical requests that returned a response. */
  requests: number;
  /** Attempts sent (retries and auth refreshes included). */
  attempts: number;
  /** Retry sleep taken from the budget, ms. */
  sleptMs: number;
  /** 429 responses received. */
  rateLimited: number;
  /** Logical requests that failed. */
  failures: number;
}

function isProvider(auth: unknown): auth is AuthProvider {
  return typeof auth === "object" && auth !== null && "apply" in auth && "refresh" in auth;
}

/**
 * The HTTP session of a run.
 *
 * @example
 * ```ts
 * import { HttpClient } from "./client.ts";
 * const client = new HttpClient({
 *   baseUrl: "http://127.0.0.1:9000",
 *   auth: { type: "bearer", token: Deno.env.get("API_TOKEN") ?? "", alias: "API_TOKEN" },
 *   retry: { max_attempts: 6, base_ms: 500, cap_ms: 8000, budget_s: 60 },
 *   rateLimit: { max_wait_s: 120 },
 * });
 * const page = await client.fetch({ url: "/northwind/Orders.json", params: { _size: 200 } });
 * console.log(page.status, page.unchanged, page.attempts.length, client.auth.alias);
 * ```
 */
export class HttpClient {
  /** Parsed `retry:` config. */
  readonly retry: RetryConfig;
  /** Parsed `rate_limit:` config. */
  readonly rateLimit: RateLimitConfig;
  /** The run's limiter, shared by every request. */
  readonly limiter: Limiter;
  /** The run's retry budget, shared by every request. */
  readonly budget: RetryBudget;
  /** The credentials. */
  readonly auth: AuthProvider;
  /** The validators, or undefined when conditional requests are off. */
  readonly etagStore?: EtagStore;
  /** The clock. */
  readonly clock: Clock;
  readonly #options: HttpClientOptions;
  readonly #random: () => number;
  readonly #stats: HttpClientStats = {
    requests: 0,
    attempts: 0,
    sleptMs: 0,
    rateLimited: 0,
    failures: 0,
  };

  /** Builds a session; validates the configs (throws zod errors on bad ones). */
  constructor(options: HttpClientOptions = {}) {
    this.#options = options;
    this.retry = retrySchema.parse(options.retry ?? {}, PARSE_ONCE);
    this.rateLimit = rateLimitSchema.parse(options.rateLimit ?? {}, PARSE_ONCE);
    this.clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.limiter = options.limiter?.(this.rateLimit, this.clock) ?? new RateLimiter({
      requestsPerSecond: this.rateLimit.requests_per_second,
      burst: this.rateLimit.burst,
      adaptive: this.rateLimit.adaptive,
      clock: this.clock,
    });
    this.budget = new RetryBudget({
      maxSleepMs: this.retry.budget_s * 1000,
      maxRetries: this.retry.budget_retries,
    });
    this.etagStore = options.etagStore === false
      ? undefined
      : options.etagStore ?? new MemoryEtagStore();
    this.auth = isProvider(options.auth)
      ? options.auth
      : createAuthProvider(options.auth ?? { type: "none" }, {
        send: (request, signal) => this.fetchAnonymous(request, { signal }),
        clock: this.clock,
        baseUrl: options.baseUrl,
      });
  }

  /** Counters so far. */
  get stats(): HttpClientStats {
    return { ...this.#stats };
  }

  /**
   * Sends one logical request through the session's limiter, budget, auth and ETag store.
   * Throws `HttpError` / `RateLimitedError` as {@linkcode fetchResilient} does.
   */
  fetch(
    request: HttpRequest | string | URL,
    options: HttpClientRequestOptions = {},
  ): Promise<HttpResult> {
    return this.#send(request, options, true);
  }

  /**
   * Sends a request through the session's limiter and budget but without its credentials and
   * ETag store: the sender for token and login requests of a hand-built auth provider.
   */
  fetchAnonymous(
    request: HttpRequest | string | URL,
    options: HttpClientRequestOptions = {},
  ): Promise<HttpResult> {
    return this.#send(request, options, false);
  }

  /** A URL with this session's secrets (and credential-like parameters) masked. */
  redactUrl(url: string | URL): string {
    return redactUrl(url, this.auth.secrets());
  }

  /** Text with this session's secrets masked. */
  redactText(text: string): string {
    return redactText(text, this.auth.secrets());
  }

  async #send(
    request: HttpRequest | string | URL,
    options: HttpClientRequestOptions,
    withAuth: boolean,
  ): Promise<HttpResult> {
    try {
      const result = await fetchResilient(request, {
        retry: this.retry,
        rateLimit: this.rateLimit,
        limiter: this.limiter,
        budget: this.budget,
        auth: withAuth ? this.auth : undefined,
        etagStore: withAuth ? this.etagStore : undefined,
        clock: this.clock,
        random: this.#random,
        fetch: this.#options.fetch,
        baseUrl: this.#options.baseUrl,
        headers: this.#options.headers,
        signal: options.signal,
        rateLimitKey: options.rateLimitKey,
        onRetry: this.#options.onRetry,
        // Token requests carry the secrets of the provider that sends them.
        secrets: withAuth ? undefined : this.auth.secrets(),
      });
      this.#count(result.attempts, true);
      return result;
    } catch (error) {
      const attempts = (error as { attempts?: HttpResult["attempts"] }).attempts;
      this.#count(attempts ?? [], false);
      throw error;
    }
  }

  #count(attempts: HttpResult["attempts"], ok: boolean): void {
    if (ok) this.#stats.requests += 1;
    else this.#stats.failures += 1;
    this.#stats.attempts += attempts.length;
    for (const a of attempts) {
      this.#stats.sleptMs += a.sleptMs;
      if (a.status === 429) this.#stats.rateLimited += 1;
    }
  }
}
