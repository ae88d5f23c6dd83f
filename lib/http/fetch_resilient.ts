/**
 * One resilient request (docs/design.md §5): rate limiter → auth → conditional headers → send with a
 * per-attempt timeout → read and check the whole body → retry policy → sleep or return. Every
 * attempt is counted, timed and returned; every failure is an `HttpError` whose URL and body
 * start have their secrets masked.
 * @module
 */
import { concatBytes } from "../core/bytes.ts";
import { createHash } from "node:crypto";
import type { z } from "zod";
import { PermissionError } from "../core/errors.ts";
import { redactText, redactUrl } from "../core/redact.ts";
import { VERSION } from "../core/version.ts";
import { type AuthProvider, noAuth } from "./auth.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { EtagStore } from "./etag_store.ts";
import { HttpError, type HttpFailure, RateLimitedError } from "./http_error.ts";
import { type Limiter, RateLimiter, RateLimitWaitTooLong } from "./rate_limiter.ts";
import {
  type AttemptKind,
  buildUrl,
  type HttpAttempt,
  type HttpRequest,
  type HttpResult,
  requestKey,
} from "./request.ts";
import { RetryBudget } from "./retry_budget.ts";
import { decideRetry } from "./retry_policy.ts";
import {
  type RateLimitConfigInput,
  rateLimitSchema,
  type RetryConfigInput,
  retrySchema,
} from "./schema.ts";
import { parseJsonExact } from "../core/json_parse.ts";
import { PARSE_ONCE } from "../core/parse_once.ts";

/** The `fetch` to send with: global `fetch`, or e.g. `(url, init) => app.request(url, init)`. */
export type FetchFunction = (input: string, init: RequestInit) => Response | Promise<Response>;

/** Options of {@linkcode fetchResilient}. A run shares them through an `HttpClient`. */
export interface FetchResilientOptions {
  /** `retry:` config (defaults filled in by `retrySchema`). */
  retry?: RetryConfigInput;
  /** `rate_limit:` config (`max_wait_s`; the bucket when no `limiter` is given). */
  rateLimit?: RateLimitConfigInput;
  /** The run's shared limiter. @default a new one from `rateLimit` */
  limiter?: Limiter;
  /** The run's shared retry budget. @default a new one from `retry` */
  budget?: RetryBudget;
  /** Credentials. @default noAuth */
  auth?: AuthProvider;
  /** Validators for conditional requests; none = no `If-None-Match`. */
  etagStore?: EtagStore;
  /** Time source (sleeps, timeouts, timestamps). @default systemClock */
  clock?: Clock;
  /** Uniform random source for jitter. @default Math.random */
  random?: () => number;
  /** The transport. @default globalThis.fetch */
  fetch?: FetchFunction;
  /** Base URL for relative request URLs. */
  baseUrl?: string | URL;
  /** Headers sent with every request (the request's own headers win). */
  headers?: HeadersInit;
  /** Aborts the whole call (waits included) with an `HttpError` of reason `aborted`. */
  signal?: AbortSignal;
  /** Rate-limiter key. @default the URL's host */
  rateLimitKey?: string;
  /** More secrets to mask in errors (the auth provider's are always masked). */
  secrets?: Iterable<string>;
  /** Told of every retry before its wait: for one `http.retry` log line per retry. */
  onRetry?: (retry: RetryEvent) => void;
}

/** One retry about to happen. */
export interface RetryEvent {
  /** The URL, secrets masked. */
  url: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  /** Its HTTP status, when a response came. */
  status?: number;
  /** How it failed: `http` (a retryable status), `timeout`, `reset`, `truncated`, `network`. */
  reason: AttemptKind;
  /** The wait before the next attempt, ms. */
  waitMs: number;
  /** The header the wait came from (`Retry-After`), if any. */
  header?: string;
}

const TIMEOUT = Symbol("attempt timeout");
// The reason an attempt's timer is cancelled with once the attempt is over: without one, every
// abort builds a DOMException (with its stack) that nothing reads.
const ATTEMPT_OVER = Symbol("attempt over");

/** A body above the configured limit: never retried (the next attempt gets the same body). */
class BodyTooLarge extends Error {
  constructor(readonly limit: number, readonly seen: number, readonly declared: boolean) {
    super(`body of ${seen} bytes is above the limit`);
  }
}

/**
 * Reads a body, stopping past `limit` bytes: a declared Content-Length above it is refused
 * before reading; a streamed body is counted as it arrives.
 */
async function readBody(response: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get("Content-Length") ?? NaN);
  if (declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new BodyTooLarge(limit, declared, true);
  }
  // A declared length within the limit is read whole (the fast path); Deno's fetch refuses a
  // body longer than its Content-Length.
  if (Number.isFinite(declared) || response.body === null) {
    return new Uint8Array(await response.arrayBuffer());
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge(limit, size, false);
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}
const decoder = new TextDecoder();

interface SendResult {
  kind: AttemptKind;
  status?: number;
  headers?: Headers;
  body?: Uint8Array;
  json?: unknown;
  error?: string;
  aborted?: boolean;
}

interface SendContext {
  fetch: FetchFunction;
  clock: Clock;
  timeoutMs: number;
  maxBodyBytes: number;
  signal?: AbortSignal;
  expectJson?: boolean;
  method: string;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

// Deno's fetch reports a dropped connection as a TypeError whose message names it.
const RESET_MESSAGE = /reset|closed|broken pipe|aborted by|unexpected end|incomplete|EOF/i;

function wantsJson(expectJson: boolean | undefined, headers: Headers): boolean {
  if (expectJson !== undefined) return expectJson;
  return /\bjson\b|\+json/i.test(headers.get("Content-Type") ?? "");
}

/** One attempt: send, read the whole body within the timeout, check it is complete. */
async function sendOnce(url: string, init: RequestInit, ctx: SendContext): Promise<SendResult> {
  const controller = new AbortController();
  const stopTimer = new AbortController();
  ctx.clock.sleep(ctx.timeoutMs, stopTimer.signal).then(
    () => controller.abort(TIMEOUT),
    () => {},
  );
  const onOuterAbort = () => controller.abort(ctx.signal?.reason);
  if (ctx.signal?.aborted) onOuterAbort();
  ctx.signal?.addEventListener("abort", onOuterAbort, { once: true });
  // Raced against the transport: an injected fetch (or a server) may ignore the signal.
  const aborted = new Promise<never>((_, reject) => {
    const fire = () => reject(controller.signal.reason);
    if (controller.signal.aborted) fire();
    else controller.signal.addEventListener("abort", fire, { once: true });
  });
  aborted.catch(() => {});

  let response: Response | undefined;
  try {
    const pending = Promise.resolve().then(() =>
      ctx.fetch(url, { ...init, signal: controller.signal })
    );
    pending.then((late) => {
      if (controller.signal.aborted && late !== response) late.body?.cancel().catch(() => {});
    }, () => {});
    response = await Promise.race([pending, aborted]);
    const body = await Promise.race([readBody(response, ctx.maxBodyBytes), aborted]);
    return completeResult(response, body, ctx);
  } catch (error) {
    return failedResult(error, url, ctx, {
      timedOut: controller.signal.reason === TIMEOUT,
      response,
    });
  } finally {
    stopTimer.abort(ATTEMPT_OVER);
    ctx.signal?.removeEventListener("abort", onOuterAbort);
  }
}

/** A response read whole: complete (and its JSON parsed when expected), or truncated. */
function completeResult(response: Response, body: Uint8Array, ctx: SendContext): SendResult {
  const headers = response.headers;
  const status = response.status;
  const noBody = ctx.method === "HEAD" || status === 204 || status === 304;
  const declared = headers.get("Content-Length");
  const encoding = (headers.get("Content-Encoding") ?? "identity").toLowerCase();
  if (
    !noBody && declared !== null && encoding === "identity" && Number(declared) !== body.length
  ) {
    return {
      kind: "truncated",
      status,
      headers,
      body,
      error: `body has ${body.length} bytes, Content-Length says ${declared}`,
    };
  }
  let json: unknown;
  if (!noBody && status >= 200 && status < 300 && wantsJson(ctx.expectJson, headers)) {
    try {
      json = parseJsonExact(decoder.decode(body));
    } catch (error) {
      return {
        kind: "truncated",
        status,
        headers,
        body,
        error: `unparsable JSON body (${body.length} bytes): ${errorMessage(error)}`,
      };
    }
  }
  return { kind: "http", status, headers, body, json };
}

/** How an attempt that threw ended: timeout, reset, network; permissions and size rethrown. */
function failedResult(
  error: unknown,
  url: string,
  ctx: SendContext,
  at: { timedOut: boolean; response: Response | undefined },
): SendResult {
  if (error instanceof BodyTooLarge) throw error;
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    throw permissionError(url, error);
  }
  if (at.timedOut) {
    return {
      kind: "timeout",
      status: at.response?.status,
      headers: at.response?.headers,
      error: `no complete response within ${ctx.timeoutMs / 1000} s`,
    };
  }
  if (ctx.signal?.aborted) return { kind: "network", aborted: true, error: errorMessage(error) };
  if (at.response) {
    // The headers came, the body did not: the connection dropped mid-body.
    return {
      kind: "reset",
      status: at.response.status,
      headers: at.response.headers,
      error: errorMessage(error),
    };
  }
  const message = errorMessage(error);
  return { kind: RESET_MESSAGE.test(message) ? "reset" : "network", error: message };
}

/**
 * The limiter a request counts against: the origin, plus its credential — the auth provider's
 * alias (stable across token refreshes, unlike the token) and a fingerprint of the request's own
 * header values (an asset may carry its own key), so two credentials of one API get two quotas —
 * plus the asset when the API limits per resource. Header values are hashed: the key shows up in
 * errors and reports, a secret never does.
 *
 * @example
 * ```ts
 * import { limiterKeyOf } from "./fetch_resilient.ts";
 * limiterKeyOf(new URL("http://127.0.0.1:9000/x"), "origin", "bearer:API_TOKEN"); // "127.0.0.1:9000"
 * ```
 */
export function limiterKeyOf(
  url: URL,
  key: "credential" | "origin" | "asset",
  authAlias: string,
  headers?: HeadersInit,
  scope?: string,
): string {
  if (key === "origin") return url.host;
  const parts: string[] = [];
  if (headers) { for (const [, value] of new Headers(headers)) parts.push(value); }
  const credential = parts.length === 0
    ? authAlias
    : `${authAlias}+${
      createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 12)
    }`;
  const base = `${url.host} credential ${credential}`;
  return key === "asset" && scope ? `${base} ${scope}` : base;
}

/** A refused permission, as the error that names what to grant (never retried). */
function permissionError(url: string, error: Error): PermissionError {
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  return new PermissionError(
    `network access to ${host} is not granted (${error.message.split(",")[0]}); ` +
      "run the harvest through `deno task harvest --config FILE`, which grants the hosts its " +
      `config names, or add --allow-net=${host} to the deno command`,
  );
}

function encodeBody(body: HttpRequest["body"], headers: Headers): BodyInit | undefined {
  if (body === undefined) return undefined;
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return body as Uint8Array<ArrayBuffer>;
  if (body instanceof URLSearchParams) {
    if (!headers.has("Content-Type")) {
      headers.set("Content-Type", "application/x-www-form-urlencoded");
    }
    return body.toString();
  }
  if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  return JSON.stringify(body);
}

// Configs parsed so far, by identity: a client passes the same objects with every request.
const parsedConfigs = new WeakMap<object, unknown>();

/** `schema.parse(value)`, once per config object (configs are not mutated once passed). */
function parsedOnce<T>(schema: z.ZodType<T>, value: object | undefined): T {
  if (value === undefined) return schema.parse({}, PARSE_ONCE);
  let parsed = parsedConfigs.get(value) as T | undefined;
  if (parsed === undefined) {
    parsed = schema.parse(value, PARSE_ONCE);
    parsedConfigs.set(value, parsed);
  }
  return parsed;
}

function describe(attempt: HttpAttempt): string {
  return attempt.kind === "http" ? String(attempt.status) : attempt.kind;
}

/**
 * Sends one logical request with retries, rate limiting, auth and conditional requests, and
 * returns the final response with every attempt. Failures are `HttpError`s (never a bare
 * `TypeError`): a 4xx other than 401/408/429 at once; 5xx, 408, 429, timeouts, resets and
 * truncated bodies after `retry.max_attempts`; a server-requested wait above
 * `rate_limit.max_wait_s` as a `RateLimitedError` (not slept); a spent run budget at once.
 *
 * @example
 * ```ts
 * import { fetchResilient } from "./fetch_resilient.ts";
 * const result = await fetchResilient(
 *   { url: "/northwind/Orders.json", params: { _size: 100 } },
 *   { baseUrl: "http://127.0.0.1:9000", retry: { max_attempts: 5, timeout_s: 10 } },
 * );
 * console.log(result.status, result.attempts.length, result.json);
 * ```
 */
export async function fetchResilient(
  request: HttpRequest | string | URL,
  options: FetchResilientOptions = {},
): Promise<HttpResult> {
  const req: HttpRequest = typeof request === "string" || request instanceof URL
    ? { url: request }
    : request;
  const retry = parsedOnce(retrySchema, options.retry);
  const rateLimit = parsedOnce(rateLimitSchema, options.rateLimit);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const transport: FetchFunction = options.fetch ?? ((input, init) => fetch(input, init));
  const auth = options.auth ?? noAuth;
  const limiter = options.limiter ?? new RateLimiter({
    requestsPerSecond: rateLimit.requests_per_second,
    burst: rateLimit.burst,
    adaptive: rateLimit.adaptive,
    clock,
  });
  const budget = options.budget ??
    new RetryBudget({ maxSleepMs: retry.budget_s * 1000, maxRetries: retry.budget_retries });
  const maxWaitMs = rateLimit.max_wait_s * 1000;
  const method = (req.method ?? "GET").toUpperCase();
  const signal = options.signal;
  const secrets = () => [...auth.secrets(), ...(options.secrets ?? [])];

  let url: URL;
  try {
    url = buildUrl(req, options.baseUrl);
  } catch (error) {
    throw new HttpError(redactText(errorMessage(error).replace(/^TypeError: /, ""), secrets()), {
      url: redactUrl(String(req.url), secrets()),
      method,
      reason: "request",
      attempts: [],
    }, { cause: error });
  }
  const conditional = options.etagStore !== undefined && (req.conditional ?? method === "GET");
  const key = requestKey(method, url);
  const storedEtag = conditional ? options.etagStore!.get(key) : undefined;
  const limiterKey = options.rateLimitKey ??
    limiterKeyOf(url, rateLimit.key, auth.alias, req.headers, req.scope);
  const attempts: HttpAttempt[] = [];
  const firstStart = clock.now();
  let refreshesUsed = 0;
  let sleptMs = 0;
  let last: SendResult | undefined;
  // The URL as last sent (auth may add a query key): errors and results show it, redacted.
  let sentUrl = url;

  const fail = (
    reason: HttpFailure,
    message: (shownUrl: string) => string,
    cause?: unknown,
  ): HttpError => {
    const shownUrl = redactUrl(sentUrl, secrets());
    return new HttpError(redactText(message(shownUrl), secrets()), {
      url: shownUrl,
      method,
      reason,
      status: last?.status,
      attempts,
      bodyStart: bodyStart(last, secrets()),
    }, cause === undefined ? undefined : { cause });
  };
  const abortedError = (cause: unknown) =>
    fail("aborted", (u) => `request aborted: ${method} ${u} (the run was cancelled)`, cause);
  const rateLimited = (waitMs: number, header: string, value: string, cause?: unknown) => {
    const shownUrl = redactUrl(sentUrl, secrets());
    const retryAt = new Date(clock.now() + waitMs);
    return new RateLimitedError(
      redactText(
        `rate limited: ${method} ${shownUrl} may be retried at ${retryAt.toISOString()} ` +
          `(${header}: ${value} asks for ${Math.ceil(waitMs / 1000)} s, above ` +
          `rate_limit.max_wait_s ${rateLimit.max_wait_s} s); the asset is skipped, run again ` +
          `later or raise rate_limit.max_wait_s`,
        secrets(),
      ),
      {
        url: shownUrl,
        method,
        reason: "rate_limited",
        status: last?.status,
        attempts,
        bodyStart: bodyStart(last, secrets()),
        retryAt,
        waitMs,
        header,
      },
      cause === undefined ? undefined : { cause },
    );
  };

  for (let n = 1;; n++) {
    if (signal?.aborted) throw abortedError(signal.reason);
    const target = { url: new URL(url), headers: new Headers(options.headers) };
    if (!target.headers.has("User-Agent")) target.headers.set("User-Agent", `tidemark/${VERSION}`);
    new Headers(req.headers).forEach((value, name) => target.headers.set(name, value));
    if (storedEtag !== undefined) target.headers.set("If-None-Match", storedEtag);
    const body = encodeBody(req.body, target.headers);
    let generation: number;
    try {
      generation = await auth.apply(target, signal);
    } catch (error) {
      if (signal?.aborted) throw abortedError(error);
      if (error instanceof HttpError) throw error;
      throw fail(
        "auth",
        (u) => `${auth.alias} could not authenticate ${method} ${u}: ${errorMessage(error)}`,
        error,
      );
    }

    // The limiter is entered only once the credential is ready: a token request made while
    // holding a limiter slot could wait on that very slot (the probe after a window reset).
    let ticket;
    try {
      ticket = await limiter.acquire(limiterKey, { signal, maxWaitMs });
    } catch (error) {
      if (signal?.aborted) throw abortedError(error);
      if (error instanceof RateLimitWaitTooLong) {
        const waitMs = error.until - clock.now();
        throw rateLimited(waitMs, "client rate limiter", `paused for ${limiterKey}`, error);
      }
      throw error;
    }

    sentUrl = target.url;
    const startedAt = clock.now();
    let outcome: SendResult;
    try {
      outcome = await sendOnce(target.url.href, {
        method,
        headers: target.headers,
        body,
        redirect: "follow",
      }, {
        fetch: transport,
        clock,
        timeoutMs: retry.timeout_s * 1000,
        maxBodyBytes: retry.max_body_mb * 1024 * 1024,
        signal,
        expectJson: req.expectJson,
        method,
      });
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      ticket.release({});
      throw fail(
        "too_large",
        (u) =>
          `the response to ${method} ${u} is larger than retry.max_body_mb ` +
          `(${retry.max_body_mb} MB; ${
            error.declared ? `Content-Length ${error.seen}` : `over ${error.seen} bytes read`
          }); ask for smaller pages (the page size parameter) or raise retry.max_body_mb`,
        error,
      );
    }
    ticket.release({ status: outcome.status, headers: outcome.headers });
    if (outcome.aborted) throw abortedError(signal?.reason);
    last = outcome;
    const record: HttpAttempt = {
      attempt: n,
      startedAt,
      kind: outcome.kind,
      ...(outcome.status === undefined ? {} : { status: outcome.status }),
      ...(outcome.error === undefined ? {} : { error: redactText(outcome.error, secrets()) }),
      elapsedMs: clock.now() - startedAt,
      queuedMs: ticket.queuedMs,
      sleptMs: 0,
    };
    attempts.push(record);

    const decision = decideRetry(outcome, {
      attempt: n,
      now: clock.now(),
      maxAttempts: retry.max_attempts,
      baseMs: retry.base_ms,
      capMs: retry.cap_ms,
      maxWaitMs,
      random,
      refreshesLeft: auth.maxRefreshes - refreshesUsed,
      budgetSleepLeftMs: budget.sleepLeftMs,
      budgetRetriesLeft: budget.retriesLeft,
    });

    switch (decision.action) {
      case "return": {
        const status = outcome.status!;
        const headers = outcome.headers!;
        const etag = headers.get("ETag") ?? undefined;
        if (conditional && etag !== undefined && status >= 200 && status < 300) {
          options.etagStore!.set(key, etag);
        }
        return {
          status,
          headers,
          body: outcome.body ?? new Uint8Array(),
          ...(outcome.json === undefined ? {} : { json: outcome.json }),
          unchanged: status === 304,
          ...(status === 304 ? { etag: etag ?? storedEtag } : etag === undefined ? {} : { etag }),
          url: redactUrl(sentUrl, secrets()),
          method,
          attempts,
          sleptMs,
          elapsedMs: clock.now() - firstStart,
          auth: auth.alias,
        };
      }
      case "refresh_auth": {
        refreshesUsed += 1;
        try {
          await auth.refresh({ generation, step: refreshesUsed - 1, signal });
        } catch (error) {
          if (signal?.aborted) throw abortedError(error);
          if (error instanceof HttpError) throw error;
          throw fail(
            "auth",
            (u) =>
              `${auth.alias} could not refresh its credentials for ${method} ${u}: ${
                errorMessage(error)
              }`,
            error,
          );
        }
        continue;
      }
      case "retry": {
        const waitMs = decision.waitMs;
        if (!budget.tryReserve(waitMs)) {
          throw fail("budget", (u) => budgetMessage(method, u, waitMs, budget));
        }
        record.sleptMs = waitMs;
        if (decision.header !== undefined) {
          record.waitHeader = decision.header;
          record.waitHeaderValue = decision.headerValue;
        }
        options.onRetry?.({
          url: redactUrl(sentUrl, secrets()),
          attempt: n,
          ...(outcome.status === undefined ? {} : { status: outcome.status }),
          reason: outcome.kind,
          waitMs,
          ...(decision.header === undefined ? {} : { header: decision.header }),
        });
        // A 429 speaks for the whole quota: every request of this key waits, not only ours.
        if (outcome.status === 429) limiter.pause(limiterKey, clock.now() + waitMs);
        try {
          await clock.sleep(waitMs, signal);
        } catch (error) {
          throw abortedError(error);
        }
        sleptMs += waitMs;
        continue;
      }
      case "rate_limited": {
        limiter.pause(limiterKey, clock.now() + decision.waitMs);
        record.waitHeader = decision.header;
        record.waitHeaderValue = decision.headerValue;
        throw rateLimited(decision.waitMs, decision.header, decision.headerValue);
      }
      case "fail": {
        if (decision.reason === "budget") {
          throw fail("budget", (u) => budgetMessage(method, u, decision.waitMs ?? 0, budget));
        }
        if (decision.reason === "attempts") {
          throw fail(
            "attempts",
            (u) =>
              `request failed: ${method} ${u} failed ${n} times (last: ${describe(record)}${
                record.error ? `, ${record.error}` : ""
              }); raise retry.max_attempts or check ` +
              `the server${bodyHint(last, secrets())}`,
          );
        }
        throw fail(
          "status",
          (u) => statusMessage(method, u, record.status!, auth, refreshesUsed, last, secrets()),
        );
      }
    }
  }
}

function bodyStart(result: SendResult | undefined, secrets: string[]): string {
  if (!result?.body || result.body.length === 0) return "";
  return redactText(decoder.decode(result.body.subarray(0, 200)), secrets);
}

function bodyHint(result: SendResult | undefined, secrets: string[]): string {
  const start = bodyStart(result, secrets);
  return start ? `; body starts: ${start}` : "";
}

function statusMessage(
  method: string,
  url: string,
  status: number,
  auth: AuthProvider,
  refreshes: number,
  result: SendResult | undefined,
  secrets: string[],
): string {
  const body = bodyHint(result, secrets);
  if (status === 401 || status === 403) {
    const after = refreshes > 0 ? ` after ${refreshes} credential refresh(es)` : "";
    return `request failed: ${method} ${url} answered ${status}${after} with auth ${auth.alias}` +
      `${body}; check the credentials and their permissions`;
  }
  return `request failed: ${method} ${url} answered ${status}, which is not retried (the ` +
    `request itself is wrong)${body}; check the URL and its parameters`;
}

function budgetMessage(method: string, url: string, waitMs: number, budget: RetryBudget): string {
  return `retry budget spent: ${method} ${url} needs another retry (${
    (waitMs / 1000).toFixed(1)
  } s wait) but the run has ${budget.describe()}; raise retry.budget_s or ` +
    `retry.budget_retries, or fix what keeps failing upstream`;
}
