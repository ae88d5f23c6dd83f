/**
 * The mock's seven auth modes (docs/mock_api.md §3): the middleware that checks every data request
 * and sets the `credential` (rate limits are kept per credential) and `canWrite` variables, and
 * the token endpoints of the `jwt` (`/auth/login`, `/auth/refresh`) and `oauth2`
 * (`/oauth/token`) modes. Failure bodies and codes copy the services the seeds harvest, so a
 * client that handles them here handles them there.
 * @module
 */
import { Buffer } from "node:buffer";
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import type { MockEnv } from "../context.ts";
import { createJwtSigner, type JwtSigner } from "./jwt.ts";

/** The auth modes the mock can require, one per app. */
export const AUTH_MODES = ["bearer", "header", "query", "basic", "jwt", "oauth2", "none"] as const;

/** One auth mode. */
export type AuthMode = "bearer" | "header" | "query" | "basic" | "jwt" | "oauth2" | "none";

/** How the mock authenticates requests. */
export interface AuthOptions {
  /** The auth mode. @default "bearer" */
  mode?: AuthMode;
  /** Bearer token, or API key in the `header` and `query` modes. @default "super-secret-token" */
  token?: string;
  /** User name for `basic` and `jwt` login. @default "tidemark" */
  username?: string;
  /** Password for `basic` and `jwt` login. @default "tidemark-password" */
  password?: string;
  /** OAuth2 client id. @default "tidemark-client" */
  clientId?: string;
  /** OAuth2 client secret. @default "tidemark-secret" */
  clientSecret?: string;
  /** HS256 key of `jwt` and `oauth2` tokens. @default "tidemark-mock-jwt" */
  jwtSecret?: string;
  /**
   * When set, only this token may use the write API. It is sent where the mode's token goes
   * (bearer, `X-API-Key`, `?api_key=`) or, in the other modes, as `Authorization: Bearer T`.
   * When unset, every authenticated request may write.
   */
  writeToken?: string;
  /** Lifetime of `jwt` and `oauth2` access tokens. @default 3_600_000 */
  tokenTtlMs?: number;
  /** Epoch-millisecond clock for token lifetimes. @default Date.now */
  now?: () => number;
}

/** The auth middleware and the token endpoints of the chosen mode. */
export interface MockAuth {
  /** Checks each data request; answers 401/403 itself, else sets `credential` and `canWrite`. */
  middleware: MiddlewareHandler<MockEnv>;
  /** `/auth/login` and `/auth/refresh` (jwt) or `/oauth/token` (oauth2); empty otherwise. */
  routes: Hono<MockEnv>;
}

/** Refresh tokens outlive access tokens so a client can always recover from an expiry. */
const MIN_REFRESH_TTL_MS = 86_400_000;

type Verdict =
  | { credential: string; canWrite: boolean }
  | { status: 401 | 403; error: string; headers?: Record<string, string> };

interface ResolvedAuth {
  mode: AuthMode;
  token: string;
  username: string;
  password: string;
  clientId: string;
  clientSecret: string;
  writeToken: string | undefined;
  tokenTtlMs: number;
  now: () => number;
  signer: JwtSigner;
}

/**
 * Creates the auth middleware and token endpoints for one mode.
 *
 * @example
 * ```ts
 * const auth = createAuth({ mode: "bearer", token: "t" });
 * const app = new Hono<MockEnv>().route("/", auth.routes).use("*", auth.middleware);
 * app.get("/x", (c) => c.json({ who: c.get("credential") }));
 * ```
 */
export function createAuth(options: AuthOptions = {}): MockAuth {
  const auth: ResolvedAuth = {
    mode: options.mode ?? "bearer",
    token: options.token ?? "super-secret-token",
    username: options.username ?? "tidemark",
    password: options.password ?? "tidemark-password",
    clientId: options.clientId ?? "tidemark-client",
    clientSecret: options.clientSecret ?? "tidemark-secret",
    writeToken: options.writeToken,
    tokenTtlMs: options.tokenTtlMs ?? 3_600_000,
    now: options.now ?? Date.now,
    signer: createJwtSigner(options.jwtSecret ?? "tidemark-mock-jwt"),
  };
  if (!(AUTH_MODES as readonly string[]).includes(auth.mode)) {
    throw new RangeError(`unknown auth mode "${auth.mode}"; accepted: ${AUTH_MODES.join(", ")}`);
  }
  const middleware: MiddlewareHandler<MockEnv> = async (c, next) => {
    const verdict = await authenticate(c, auth);
    if ("error" in verdict) {
      return c.json({ error: verdict.error }, verdict.status, verdict.headers);
    }
    c.set("credential", verdict.credential);
    c.set("canWrite", verdict.canWrite);
    await next();
  };
  return { middleware, routes: tokenRoutes(auth) };
}

function bearerToken(c: Context): string | undefined {
  const header = c.req.header("authorization");
  const match = header === undefined ? null : /^bearer +(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

function canWrite(auth: ResolvedAuth, presented: string | undefined): boolean {
  return auth.writeToken === undefined || presented === auth.writeToken;
}

function writer(auth: ResolvedAuth, presented: string | undefined): Verdict | undefined {
  return auth.writeToken !== undefined && presented === auth.writeToken
    ? { credential: "write-token", canWrite: true }
    : undefined;
}

async function authenticate(c: Context<MockEnv>, auth: ResolvedAuth): Promise<Verdict> {
  switch (auth.mode) {
    case "bearer": {
      const token = bearerToken(c);
      if (token === undefined) return { status: 401, error: "missing bearer token" };
      if (token !== auth.token && token !== auth.writeToken) {
        return { status: 403, error: "invalid token" };
      }
      return { credential: `bearer:${token}`, canWrite: canWrite(auth, token) };
    }
    case "header": {
      const key = c.req.header("x-api-key");
      if (key === undefined) return { status: 401, error: "missing api key" };
      if (key !== auth.token && key !== auth.writeToken) {
        return { status: 401, error: "invalid api key" };
      }
      return { credential: `key:${key}`, canWrite: canWrite(auth, key) };
    }
    case "query":
      return queryKey(c, auth);
    case "basic": {
      const asWriter = writer(auth, bearerToken(c));
      if (asWriter) return asWriter;
      const user = basicUser(c.req.header("authorization"), auth.username, auth.password);
      if (user === undefined) {
        return {
          status: 401,
          error: "invalid credentials",
          headers: { "WWW-Authenticate": 'Basic realm="tidemark-mock", charset="UTF-8"' },
        };
      }
      return { credential: `basic:${user}`, canWrite: auth.writeToken === undefined };
    }
    case "jwt":
    case "oauth2": {
      const token = bearerToken(c);
      if (token === undefined) return { status: 401, error: "missing bearer token" };
      const asWriter = writer(auth, token);
      if (asWriter) return asWriter;
      const check = await auth.signer.verify(token);
      if (!check.ok || check.claims.typ !== "access") {
        return { status: 401, error: "invalid token" };
      }
      if (auth.now() >= Math.round(check.claims.exp * 1000)) {
        return { status: 401, error: "token expired" };
      }
      return {
        credential: `${auth.mode}:${check.claims.sub}`,
        canWrite: auth.writeToken === undefined,
      };
    }
    case "none":
      return writer(auth, bearerToken(c)) ??
        { credential: "anonymous", canWrite: auth.writeToken === undefined };
  }
}

/**
 * `?api_key=` mode. The key is removed from the URL before the routes see it, so the Datasette
 * routes do not take it for a column filter (a real API gateway strips it the same way).
 */
function queryKey(c: Context<MockEnv>, auth: ResolvedAuth): Verdict {
  const raw = c.req.raw;
  const url = raw.url;
  const q = url.indexOf("?");
  const kept: string[] = [];
  let key: string | undefined;
  if (q >= 0) {
    for (const part of url.slice(q + 1).split("&")) {
      const eq = part.indexOf("=");
      const name = decodeFormComponent(eq < 0 ? part : part.slice(0, eq));
      if (name === "api_key") key ??= decodeFormComponent(eq < 0 ? "" : part.slice(eq + 1));
      else kept.push(part);
    }
  }
  if (key === undefined) return { status: 401, error: "missing api_key" };
  if (key !== auth.token && key !== auth.writeToken) {
    return { status: 401, error: "invalid api_key" };
  }
  const stripped = q < 0 ? url : `${url.slice(0, q)}${kept.length ? `?${kept.join("&")}` : ""}`;
  // A fresh init rather than `new Request(url, raw)`: copying the request would read
  // `raw.signal`, which makes Deno.serve print its legacy-abort warning.
  c.req.raw = new Request(stripped, {
    method: raw.method,
    headers: raw.headers,
    body: raw.body,
    ...(raw.body ? { duplex: "half" } : {}),
  } as RequestInit);
  return { credential: `key:${key}`, canWrite: canWrite(auth, key) };
}

function decodeFormComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}

function basicUser(
  header: string | undefined,
  username: string,
  password: string,
): string | undefined {
  const match = header === undefined ? null : /^basic +(\S+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  return user === username && decoded.slice(colon + 1) === password ? user : undefined;
}

async function issueTokens(
  auth: ResolvedAuth,
  sub: string,
): Promise<{ access_token: string; refresh_token: string; expires_in: number }> {
  const now = auth.now();
  const refreshTtl = Math.max(MIN_REFRESH_TTL_MS, auth.tokenTtlMs * 2);
  return {
    access_token: await auth.signer.sign({
      sub,
      typ: "access",
      iat: now / 1000,
      exp: (now + auth.tokenTtlMs) / 1000,
    }),
    refresh_token: await auth.signer.sign({
      sub,
      typ: "refresh",
      iat: now / 1000,
      exp: (now + refreshTtl) / 1000,
    }),
    expires_in: auth.tokenTtlMs / 1000,
  };
}

async function jsonBody(c: Context): Promise<Record<string, unknown> | undefined> {
  if (!(c.req.header("content-type") ?? "").toLowerCase().includes("application/json")) {
    return undefined;
  }
  try {
    const body: unknown = await c.req.json();
    return typeof body === "object" && body !== null && !Array.isArray(body)
      ? body as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

function tokenRoutes(auth: ResolvedAuth): Hono<MockEnv> {
  const routes = new Hono<MockEnv>();
  if (auth.mode === "jwt") {
    routes.post("/auth/login", async (c) => {
      const body = await jsonBody(c);
      if (!body) {
        return c.json(
          { error: 'expected a JSON body {"username": "...", "password": "..."}' },
          400,
        );
      }
      if (body.username !== auth.username || body.password !== auth.password) {
        return c.json({ error: "invalid credentials" }, 401);
      }
      return c.json(await issueTokens(auth, auth.username));
    });
    routes.post("/auth/refresh", async (c) => {
      const body = await jsonBody(c);
      if (!body || typeof body.refresh_token !== "string") {
        return c.json({ error: 'expected a JSON body {"refresh_token": "..."}' }, 400);
      }
      const check = await auth.signer.verify(body.refresh_token);
      if (!check.ok || check.claims.typ !== "refresh") {
        return c.json({ error: "invalid refresh token" }, 401);
      }
      if (auth.now() >= Math.round(check.claims.exp * 1000)) {
        return c.json({ error: "refresh token expired" }, 401);
      }
      return c.json(await issueTokens(auth, check.claims.sub));
    });
  }
  if (auth.mode === "oauth2") {
    routes.post("/oauth/token", async (c) => {
      // RFC 6749 §4.4: a form body; the client may authenticate in it or with HTTP Basic.
      const type = (c.req.header("content-type") ?? "").toLowerCase();
      if (!type.includes("application/x-www-form-urlencoded")) {
        return c.json({
          error: "invalid_request",
          error_description: "send an application/x-www-form-urlencoded body",
        }, 400);
      }
      const form = new URLSearchParams(await c.req.text());
      const grant = form.get("grant_type");
      if (grant !== "client_credentials") {
        return c.json({
          error: "unsupported_grant_type",
          error_description: `grant_type must be client_credentials, got "${grant ?? ""}"`,
        }, 400);
      }
      const fromHeader = basicUser(c.req.header("authorization"), auth.clientId, auth.clientSecret);
      const fromForm = form.get("client_id") === auth.clientId &&
        form.get("client_secret") === auth.clientSecret;
      if (fromHeader === undefined && !fromForm) return c.json({ error: "invalid_client" }, 401);
      const { access_token, expires_in } = await issueTokens(auth, auth.clientId);
      return c.json({ access_token, token_type: "bearer", expires_in });
    });
  }
  return routes;
}
