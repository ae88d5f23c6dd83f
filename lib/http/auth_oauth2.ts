/**
 * OAuth2 client credentials (RFC 6749 §4.4): a token fetched from `token_url` with the client
 * id and secret, cached, replaced a little before `expires_in`, and replaced once after a 401.
 * @module
 */
import type { AuthProvider, AuthTarget, RefreshOptions, TokenSender } from "./auth.ts";
import type { Clock } from "../core/clock.ts";
import { requestToken, TokenCache } from "./token_cache.ts";

/** Options of {@linkcode OAuth2ClientCredentialsAuth}. */
export interface OAuth2Options {
  /** Absolute token endpoint URL. */
  tokenUrl: string;
  /** Client id (not a secret: it names the credential). */
  clientId: string;
  /** Client secret. */
  clientSecret: string;
  /** Space-separated scopes to ask for. */
  scope?: string;
  /** Alias for the manifest. @default the client id */
  alias?: string;
  /** Sends the token request. */
  send: TokenSender;
  /** Time source for the token lifetime. */
  clock?: Clock;
}

/**
 * The `oauth2` auth mode.
 *
 * @example
 * ```ts
 * import { OAuth2ClientCredentialsAuth } from "./auth_oauth2.ts";
 * import { fetchResilient } from "./fetch_resilient.ts";
 * const auth = new OAuth2ClientCredentialsAuth({
 *   tokenUrl: "http://127.0.0.1:9000/oauth/token",
 *   clientId: "tidemark-client",
 *   clientSecret: "tidemark-secret",
 *   send: (request, signal) => fetchResilient(request, { signal }),
 * });
 * ```
 */
export class OAuth2ClientCredentialsAuth implements AuthProvider {
  /** `oauth2:<alias or client id>`. */
  readonly alias: string;
  /** One new token after a 401. */
  readonly maxRefreshes = 1;
  readonly #options: OAuth2Options;
  readonly #cache: TokenCache;

  /** Builds the provider; no request is made until the first `apply`. */
  constructor(options: OAuth2Options) {
    this.#options = options;
    this.alias = `oauth2:${options.alias ?? options.clientId}`;
    this.#cache = new TokenCache(() => this.#fetchToken(), { clock: options.clock });
  }

  /** Tokens fetched so far. */
  get tokensFetched(): number {
    return this.#cache.renewals;
  }

  /** Sets `Authorization: Bearer <token>`, fetching the token first when needed. */
  apply(target: AuthTarget): Promise<number> {
    return this.#cache.authorize(target);
  }

  /** Fetches a new token unless another request already did. */
  refresh(options: RefreshOptions): Promise<void> {
    return this.#cache.replace(options.generation, options.step);
  }

  /** The client secret and every token issued. */
  secrets(): string[] {
    return [this.#options.clientSecret, ...this.#cache.secrets()];
  }

  #fetchToken() {
    const body = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: this.#options.clientId,
      client_secret: this.#options.clientSecret,
    });
    if (this.#options.scope) body.set("scope", this.#options.scope);
    return requestToken(this.#options.send, {
      url: this.#options.tokenUrl,
      body,
      endpoint: "the oauth2 token endpoint",
      action: "oauth2 token request",
      check: "auth.client_id and auth.client_secret",
    });
  }
}
