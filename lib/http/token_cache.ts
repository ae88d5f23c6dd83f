/**
 * The cached access token of the `oauth2` and `login` modes: fetched on first use, replaced a
 * little before it expires, replaced after a 401 — once, however many requests saw the 401.
 * @module
 */
import type { AuthTarget, TokenSender } from "./auth.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { HttpError } from "./http_error.ts";
import type { HttpRequest, HttpResult } from "./request.ts";
import { SingleFlight } from "./single_flight.ts";

/** A token as a token endpoint gives it. */
export interface IssuedToken {
  /** The access token. */
  accessToken: string;
  /** The refresh token, if the endpoint gave one. */
  refreshToken?: string;
  /** Lifetime from `expires_in`, ms; undefined = until a 401 says otherwise. */
  expiresInMs?: number;
}

/** Why a token is (re)fetched: none yet, about to expire, or refused (step 0, 1, ...). */
export type RenewReason = { kind: "missing" } | { kind: "expiring" } | {
  kind: "refused";
  step: number;
};

/** Fetches a token; gets the current one (to refresh from) and the reason. */
export type RenewToken = (
  current: IssuedToken | undefined,
  reason: RenewReason,
) => Promise<IssuedToken>;

/**
 * One cached token with a generation number and single-flight renewal.
 *
 * @example
 * ```ts
 * import { TokenCache } from "./token_cache.ts";
 * const cache = new TokenCache(async () => ({ accessToken: "abc", expiresInMs: 3_600_000 }));
 * const { accessToken, generation } = await cache.ensure(); // "abc", 1
 * ```
 */
export class TokenCache {
  readonly #renew: RenewToken;
  readonly #clock: Clock;
  readonly #flight = new SingleFlight<void>();
  #token?: IssuedToken;
  #renewAt = 0;
  #generation = 0;
  #renewals = 0;
  readonly #secrets = new Set<string>();

  /** Builds an empty cache that fetches tokens with `renew`. */
  constructor(renew: RenewToken, options: { clock?: Clock } = {}) {
    this.#renew = renew;
    this.#clock = options.clock ?? systemClock;
  }

  /** Tokens fetched so far (the first included). */
  get renewals(): number {
    return this.#renewals;
  }

  /** The current token, fetching or renewing it first when missing or about to expire. */
  async ensure(): Promise<{ accessToken: string; generation: number }> {
    if (!this.#token) await this.#flight.run(() => this.#run({ kind: "missing" }));
    else if (this.#clock.now() >= this.#renewAt) {
      await this.#flight.run(() => this.#run({ kind: "expiring" }));
    }
    return { accessToken: this.#token!.accessToken, generation: this.#generation };
  }

  /** Sets `Authorization: Bearer <token>` on `target` (see {@link ensure}); the generation. */
  async authorize(target: AuthTarget): Promise<number> {
    const { accessToken, generation } = await this.ensure();
    target.headers.set("Authorization", `Bearer ${accessToken}`);
    return generation;
  }

  /**
   * Replaces the token of generation `stale` after a refusal. A no-op when that generation was
   * already replaced; joins a renewal already in progress.
   */
  async replace(stale: number, step: number): Promise<void> {
    if (stale !== this.#generation) return;
    await this.#flight.run(() => this.#run({ kind: "refused", step }));
  }

  /** Every token seen (access and refresh), for redaction. */
  secrets(): string[] {
    return [...this.#secrets];
  }

  async #run(reason: RenewReason): Promise<void> {
    const token = await this.#renew(this.#token, reason);
    this.#renewals += 1;
    this.#token = token;
    this.#generation += 1;
    this.#secrets.add(token.accessToken);
    if (token.refreshToken) this.#secrets.add(token.refreshToken);
    this.#renewAt = token.expiresInMs === undefined
      ? Infinity
      : this.#clock.now() + token.expiresInMs - refreshMarginMs(token.expiresInMs);
  }
}

/**
 * How long before its stated expiry a cached token is replaced: a tenth of its lifetime, at
 * most a minute, so a request never leaves with a token that dies on the way.
 */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs / 10);
}

/** Reads a token endpoint's JSON answer: access token, optional refresh token and lifetime. */
export function readTokenResponse(
  result: HttpResult,
  what: string,
): IssuedToken {
  const json = result.json as Record<string, unknown> | undefined;
  const access = json?.access_token;
  if (typeof access !== "string" || access === "") {
    throw new HttpError(
      `${what} answered ${result.status} without an access_token at ${result.url}; check the ` +
        `token URL`,
      {
        url: result.url,
        method: result.method,
        reason: "auth",
        status: result.status,
        attempts: result.attempts,
      },
    );
  }
  const expires = Number(json?.expires_in);
  return {
    accessToken: access,
    refreshToken: typeof json?.refresh_token === "string" ? json.refresh_token : undefined,
    expiresInMs: Number.isFinite(expires) && expires > 0 ? expires * 1000 : undefined,
  };
}

/** A POST to a token endpoint, and the words its errors use. */
export interface TokenRequest {
  /** Absolute endpoint URL. */
  url: string;
  /** The credentials: a plain object goes as JSON, `URLSearchParams` as a form. */
  body: HttpRequest["body"];
  /** Names the endpoint when its answer has no token (`"the login endpoint"`). */
  endpoint: string;
  /** Names the step when it fails (`"login"`). */
  action: string;
  /** What the user should check after a failure (`"auth.username and auth.password"`). */
  check: string;
}

/**
 * Posts `request` with `send` and reads the token from the answer; a failure becomes an `auth`
 * {@link HttpError} that names the step and what to check.
 */
export async function requestToken(send: TokenSender, request: TokenRequest): Promise<IssuedToken> {
  try {
    const result = await send({
      url: request.url,
      method: "POST",
      body: request.body,
      expectJson: true,
      conditional: false,
    });
    return readTokenResponse(result, request.endpoint);
  } catch (error) {
    throw authFailure(error, request.action, request.check);
  }
}

/** Rewraps a token-endpoint failure as an `auth` HttpError that says what to check. */
export function authFailure(error: unknown, what: string, check: string): unknown {
  if (!(error instanceof HttpError) || error.reason === "aborted") return error;
  if (error.reason === "auth" || error.reason === "rate_limited") return error;
  return new HttpError(`${what} failed: ${error.message}; check ${check}`, {
    url: error.url,
    method: error.method,
    reason: "auth",
    status: error.status,
    attempts: error.attempts,
    bodyStart: error.bodyStart,
  }, { cause: error });
}
