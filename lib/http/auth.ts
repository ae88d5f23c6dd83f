/**
 * Auth providers behind one interface (docs/mock_api.md §3): each puts its credential on a request,
 * may refresh it after a 401, names itself by an alias (never by its secret) and lists its
 * secrets so that errors and logs can mask them.
 * @module
 */
import { type AuthConfig, type AuthConfigInput, authSchema, builtinAuthSchemas } from "./schema.ts";
import type { Clock } from "../core/clock.ts";
import type { HttpRequest, HttpResult } from "./request.ts";
import { ApiKeyAuth, BasicAuth, BearerAuth } from "./auth_static.ts";
import { OAuth2ClientCredentialsAuth } from "./auth_oauth2.ts";
import { LoginAuth } from "./auth_login.ts";
import { type AuthContext, authKind, registerAuth } from "./auth_registry.ts";
import { PARSE_ONCE } from "../core/parse_once.ts";

/** The parts of a request a provider may change. */
export interface AuthTarget {
  /** The URL (query-key auth adds a parameter). */
  url: URL;
  /** The headers (most modes set `Authorization` or a key header). */
  headers: Headers;
}

/** What `refresh` is told about the failure that asked for it. */
export interface RefreshOptions {
  /** The credential generation the refused request used (from `apply`). */
  generation: number;
  /** 0 for the first refresh of this request, 1 for the second, ... */
  step: number;
  /** Cancels the refresh. */
  signal?: AbortSignal;
}

/** An auth mode. */
export interface AuthProvider {
  /** How the manifest names this credential: `bearer:API_TOKEN`, `oauth2:client-id`, `none`. */
  readonly alias: string;
  /** Refreshes one request may ask for after 401s (0 = a 401 is final). */
  readonly maxRefreshes: number;
  /**
   * Puts the credential on the request (fetching a token first if none is cached or it is
   * about to expire) and returns the credential's generation, to hand back to `refresh`.
   */
  apply(target: AuthTarget, signal?: AbortSignal): Promise<number>;
  /**
   * Gets a new credential after a 401. Does nothing if another request already replaced the
   * generation that failed; concurrent callers share one refresh.
   */
  refresh(options: RefreshOptions): Promise<void>;
  /** Every secret this provider knows now (keys, passwords, tokens), for redaction. */
  secrets(): string[];
}

/** Sends a token-endpoint request (no auth of its own) with the run's retry policy. */
export type TokenSender = (request: HttpRequest, signal?: AbortSignal) => Promise<HttpResult>;

/** Options of {@linkcode createAuthProvider}. */
export interface AuthProviderOptions {
  /** Sends token and login requests; required for `oauth2` and `login`. */
  send?: TokenSender;
  /** Time source for token lifetimes. */
  clock?: Clock;
  /** Base URL that relative `token_url` / `login_url` are resolved against. */
  baseUrl?: string | URL;
}

/** No credential. */
export const noAuth: AuthProvider = {
  alias: "none",
  maxRefreshes: 0,
  apply: () => Promise.resolve(0),
  refresh: () => Promise.resolve(),
  secrets: () => [],
};

/**
 * The provider for an `auth:` config block (`none`, `bearer`, `header`, `query`, `basic`,
 * `oauth2`, `login`). The config is validated with `authSchema` first.
 *
 * @example
 * ```ts
 * import { createAuthProvider } from "./auth.ts";
 * const auth = createAuthProvider({ type: "bearer", token: "super-secret-token", alias: "API_TOKEN" });
 * const target = { url: new URL("http://127.0.0.1:9000/northwind/Orders.json"), headers: new Headers() };
 * await auth.apply(target);
 * target.headers.get("Authorization"); // "Bearer super-secret-token"
 * auth.alias; // "bearer:API_TOKEN"
 * ```
 */
export function createAuthProvider(
  config: AuthConfigInput | AuthConfig,
  options: AuthProviderOptions = {},
): AuthProvider {
  const auth = authSchema.parse(config, PARSE_ONCE);
  const name = auth.type === "custom" ? auth.kind : auth.type;
  const context: AuthContext = {
    send: () => {
      if (!options.send) {
        throw new TypeError(`auth type ${name} needs a sender for its token requests`);
      }
      return options.send;
    },
    clock: options.clock,
    resolve: (url) => {
      try {
        return (options.baseUrl === undefined ? new URL(url) : new URL(url, options.baseUrl)).href;
      } catch {
        throw new TypeError(
          `invalid auth url ${JSON.stringify(url)}: give an absolute URL or set base_url`,
        );
      }
    },
  };
  const kind = authKind(name);
  if (kind === undefined) {
    throw new TypeError(`auth kind "${name}" is not registered; call registerAuth`);
  }
  return kind.create(auth.type === "custom" ? { ...auth.options, type: auth.kind } : auth, context);
}

// The built-in kinds, registered through the same call a user's kind uses.
const authOptions = builtinAuthSchemas;
registerAuth("none", { schema: authOptions.none, create: () => noAuth });
registerAuth("bearer", {
  schema: authOptions.bearer,
  create: (auth) => new BearerAuth(auth.token, { alias: auth.alias }),
});
registerAuth("header", {
  schema: authOptions.header,
  create: (auth) => new ApiKeyAuth(auth.key, { in: "header", name: auth.name, alias: auth.alias }),
});
registerAuth("query", {
  schema: authOptions.query,
  create: (auth) => new ApiKeyAuth(auth.key, { in: "query", name: auth.name, alias: auth.alias }),
});
registerAuth("basic", {
  schema: authOptions.basic,
  create: (auth) => new BasicAuth(auth.username, auth.password, { alias: auth.alias }),
});
registerAuth("oauth2", {
  schema: authOptions.oauth2,
  create: (auth, context) =>
    new OAuth2ClientCredentialsAuth({
      tokenUrl: context.resolve(auth.token_url),
      clientId: auth.client_id,
      clientSecret: auth.client_secret,
      scope: auth.scope,
      alias: auth.alias,
      send: context.send(),
      clock: context.clock,
    }),
});
registerAuth("login", {
  schema: authOptions.login,
  create: (auth, context) =>
    new LoginAuth({
      loginUrl: context.resolve(auth.login_url),
      refreshUrl: auth.refresh_url === undefined ? undefined : context.resolve(auth.refresh_url),
      username: auth.username,
      password: auth.password,
      alias: auth.alias,
      send: context.send(),
      clock: context.clock,
    }),
});
