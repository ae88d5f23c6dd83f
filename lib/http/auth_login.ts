/**
 * The `login` auth mode (JWT APIs, docs/mock_api.md §3 `jwt`): `POST login_url {username, password}`
 * gives an access and a refresh token. The access token is replaced a little before it expires;
 * after a 401 the request refreshes it once with the refresh token, then logs in again, then
 * fails. Concurrent requests share each of these steps.
 * @module
 */
import type { AuthProvider, AuthTarget, RefreshOptions, TokenSender } from "./auth.ts";
import type { Clock } from "../core/clock.ts";
import { HttpError } from "./http_error.ts";
import { type IssuedToken, type RenewReason, requestToken, TokenCache } from "./token_cache.ts";

/** Options of {@linkcode LoginAuth}. */
export interface LoginAuthOptions {
  /** Absolute login endpoint URL (`/auth/login`). */
  loginUrl: string;
  /** Absolute refresh endpoint URL. @default login_url with its last segment `login` → `refresh` */
  refreshUrl?: string;
  /** User name. */
  username: string;
  /** Password. */
  password: string;
  /** Alias for the manifest. @default the user name */
  alias?: string;
  /** Sends login and refresh requests. */
  send: TokenSender;
  /** Time source for token lifetimes. */
  clock?: Clock;
}

/**
 * The `login` auth mode.
 *
 * @example
 * ```ts
 * import { LoginAuth } from "./auth_login.ts";
 * import { fetchResilient } from "./fetch_resilient.ts";
 * const auth = new LoginAuth({
 *   loginUrl: "http://127.0.0.1:9000/auth/login",
 *   username: "tidemark",
 *   password: "tidemark-password",
 *   send: (request, signal) => fetchResilient(request, { signal }),
 * });
 * ```
 */
export class LoginAuth implements AuthProvider {
  /** `login:<alias or user>`. */
  readonly alias: string;
  /** First a refresh with the refresh token, then a new login. */
  readonly maxRefreshes = 2;
  readonly #options: LoginAuthOptions;
  readonly #refreshUrl?: string;
  readonly #cache: TokenCache;
  #logins = 0;
  #refreshes = 0;

  /** Builds the provider; no request is made until the first `apply`. */
  constructor(options: LoginAuthOptions) {
    this.#options = options;
    this.alias = `login:${options.alias ?? options.username}`;
    this.#refreshUrl = options.refreshUrl ?? defaultRefreshUrl(options.loginUrl);
    this.#cache = new TokenCache((current, reason) => this.#renew(current, reason), {
      clock: options.clock,
    });
  }

  /** Logins made so far. */
  get logins(): number {
    return this.#logins;
  }

  /** Refresh-token exchanges made so far. */
  get refreshes(): number {
    return this.#refreshes;
  }

  /** Sets `Authorization: Bearer <access token>`, logging in or refreshing first when needed. */
  apply(target: AuthTarget): Promise<number> {
    return this.#cache.authorize(target);
  }

  /** Step 0: refresh with the refresh token; step 1 and later: log in again. */
  refresh(options: RefreshOptions): Promise<void> {
    return this.#cache.replace(options.generation, options.step);
  }

  /** The password and every token issued. */
  secrets(): string[] {
    return [this.#options.password, ...this.#cache.secrets()];
  }

  async #renew(current: IssuedToken | undefined, reason: RenewReason): Promise<IssuedToken> {
    const canRefresh = current?.refreshToken !== undefined && this.#refreshUrl !== undefined;
    const wantRefresh = reason.kind === "expiring" ||
      (reason.kind === "refused" && reason.step === 0);
    if (canRefresh && wantRefresh) {
      try {
        return await this.#exchange(current!.refreshToken!);
      } catch (error) {
        // A refused refresh token (expired, revoked) is not the end: log in again below.
        if (!(error instanceof HttpError) || error.reason !== "auth" || !isRefusal(error.status)) {
          throw error;
        }
      }
    }
    return await this.#login();
  }

  async #exchange(refreshToken: string): Promise<IssuedToken> {
    this.#refreshes += 1;
    const token = await requestToken(this.#options.send, {
      url: this.#refreshUrl!,
      body: { refresh_token: refreshToken },
      endpoint: "the refresh endpoint",
      action: "token refresh",
      check: "auth.refresh_url",
    });
    // Some APIs rotate refresh tokens, others keep the old one valid.
    return { ...token, refreshToken: token.refreshToken ?? refreshToken };
  }

  #login(): Promise<IssuedToken> {
    this.#logins += 1;
    return requestToken(this.#options.send, {
      url: this.#options.loginUrl,
      body: { username: this.#options.username, password: this.#options.password },
      endpoint: "the login endpoint",
      action: "login",
      check: "auth.username and auth.password",
    });
  }
}

function isRefusal(status: number | undefined): boolean {
  return status === 400 || status === 401 || status === 403;
}

function defaultRefreshUrl(loginUrl: string): string | undefined {
  const url = new URL(loginUrl);
  if (!/\/login\/?$/.test(url.pathname)) return undefined;
  url.pathname = url.pathname.replace(/\/login(\/?)$/, "/refresh$1");
  return url.href;
}
