/**
 * Auth modes with a fixed credential: bearer token, API key in a header or in the query, and
 * HTTP basic. A 401 is final for them (nothing to refresh).
 * @module
 */
import { Buffer } from "node:buffer";
import type { AuthProvider, AuthTarget } from "./auth.ts";

/** Options shared by the fixed-credential providers. */
export interface StaticAuthOptions {
  /** Alias for the manifest (e.g. the env var that held the secret). */
  alias?: string;
}

/**
 * `Authorization: Bearer <token>`.
 *
 * @example
 * ```ts
 * import { BearerAuth } from "./auth_static.ts";
 * const auth = new BearerAuth("t0ken-value", { alias: "API_TOKEN" });
 * auth.alias; // "bearer:API_TOKEN"
 * ```
 */
export class BearerAuth implements AuthProvider {
  /** `bearer:<alias>` or `bearer`. */
  readonly alias: string;
  /** A 401 is final. */
  readonly maxRefreshes = 0;
  readonly #token: string;

  /** Builds a bearer provider. */
  constructor(token: string, options: StaticAuthOptions = {}) {
    this.#token = token;
    this.alias = options.alias ? `bearer:${options.alias}` : "bearer";
  }

  /** Sets the Authorization header. */
  apply(target: AuthTarget): Promise<number> {
    target.headers.set("Authorization", `Bearer ${this.#token}`);
    return Promise.resolve(0);
  }

  /** Nothing to refresh. */
  refresh(): Promise<void> {
    return Promise.resolve();
  }

  /** The token. */
  secrets(): string[] {
    return [this.#token];
  }
}

/** Options of {@linkcode ApiKeyAuth}. */
export interface ApiKeyAuthOptions extends StaticAuthOptions {
  /** Where the key goes. */
  in: "header" | "query";
  /** Header or query parameter name. @default "X-API-Key" (header), "api_key" (query) */
  name?: string;
}

/**
 * An API key in a header (`X-API-Key: K`) or in the query (`?api_key=K`).
 *
 * @example
 * ```ts
 * import { ApiKeyAuth } from "./auth_static.ts";
 * const auth = new ApiKeyAuth("k3y-value", { in: "query" });
 * const target = { url: new URL("http://127.0.0.1:9000/x"), headers: new Headers() };
 * await auth.apply(target);
 * target.url.search; // "?api_key=k3y-value"
 * ```
 */
export class ApiKeyAuth implements AuthProvider {
  /** `header:<alias or name>` or `query:<alias or name>`. */
  readonly alias: string;
  /** A 401 is final. */
  readonly maxRefreshes = 0;
  readonly #key: string;
  readonly #in: "header" | "query";
  readonly #name: string;

  /** Builds an API-key provider. */
  constructor(key: string, options: ApiKeyAuthOptions) {
    this.#key = key;
    this.#in = options.in;
    this.#name = options.name ?? (options.in === "header" ? "X-API-Key" : "api_key");
    this.alias = `${options.in}:${options.alias ?? this.#name}`;
  }

  /** Sets the header or the query parameter. */
  apply(target: AuthTarget): Promise<number> {
    if (this.#in === "header") target.headers.set(this.#name, this.#key);
    else target.url.searchParams.set(this.#name, this.#key);
    return Promise.resolve(0);
  }

  /** Nothing to refresh. */
  refresh(): Promise<void> {
    return Promise.resolve();
  }

  /** The key. */
  secrets(): string[] {
    return [this.#key];
  }
}

/**
 * HTTP basic: `Authorization: Basic base64(user:password)`.
 *
 * @example
 * ```ts
 * import { BasicAuth } from "./auth_static.ts";
 * const auth = new BasicAuth("tidemark", "tidemark-password");
 * auth.alias; // "basic:tidemark"
 * ```
 */
export class BasicAuth implements AuthProvider {
  /** `basic:<alias or user>`. */
  readonly alias: string;
  /** A 401 is final. */
  readonly maxRefreshes = 0;
  readonly #password: string;
  readonly #encoded: string;

  /** Builds a basic-auth provider. */
  constructor(username: string, password: string, options: StaticAuthOptions = {}) {
    this.#password = password;
    this.#encoded = Buffer.from(`${username}:${password}`, "utf8").toString("base64");
    this.alias = `basic:${options.alias ?? username}`;
  }

  /** Sets the Authorization header. */
  apply(target: AuthTarget): Promise<number> {
    target.headers.set("Authorization", `Basic ${this.#encoded}`);
    return Promise.resolve(0);
  }

  /** Nothing to refresh. */
  refresh(): Promise<void> {
    return Promise.resolve();
  }

  /** The password and the encoded header value. */
  secrets(): string[] {
    return [this.#password, this.#encoded];
  }
}
