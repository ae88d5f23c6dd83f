/**
 * Config shapes of the HTTP layer (zod): `retry`, `rate_limit` and `auth`, with the YAML field
 * names of docs/design.md §7. The config loader composes these; the HTTP layer consumes their types.
 * @module
 */
import { z } from "zod";
import type { Assert, SchemaIs } from "../core/schema_type.ts";
import { type CustomKindConfig, customKindSchema, routeCustomKind } from "../core/registry.ts";
import { authRegistry } from "./auth_registry.ts";

/** `retry:` — attempts, exponential backoff with full jitter, a run-wide budget, per-attempt timeout. */
export const retrySchema = z.strictObject({
  /** Attempts per request, the first included. */
  max_attempts: z.int().min(1).max(100).default(6),
  /** Backoff base: attempt n waits random(0, min(cap_ms, base_ms·2^n)). */
  base_ms: z.int().min(0).default(500),
  /** Backoff cap for one wait. */
  cap_ms: z.int().min(0).default(8000),
  /** Total sleep a whole run may spend on retries, in seconds. */
  budget_s: z.number().min(0).default(600),
  /** Total retries a whole run may make. */
  budget_retries: z.int().min(0).default(10_000),
  /** Per-attempt timeout in seconds. */
  timeout_s: z.number().positive().default(30),
  /**
   * Largest response body read, in MB: a bigger one (a page size the server ignores, a dump
   * endpoint) fails the request at once instead of exhausting memory. @default 256
   */
  max_body_mb: z.number().positive().default(256),
});
/** Parsed `retry:` config (see {@link retrySchema} for what each field means). */
export interface RetryConfig {
  /** Attempts per request, the first included. @default 6 */
  max_attempts: number;
  /** Backoff base: attempt n waits random(0, min(cap_ms, base_ms·2^n)). @default 500 */
  base_ms: number;
  /** Backoff cap for one wait. @default 8000 */
  cap_ms: number;
  /** Total sleep a whole run may spend on retries, in seconds. @default 600 */
  budget_s: number;
  /** Total retries a whole run may make. @default 10000 */
  budget_retries: number;
  /** Per-attempt timeout in seconds. @default 30 */
  timeout_s: number;
  /** Largest response body read, in MB. @default 256 */
  max_body_mb: number;
}

/** `rate_limit:` — the client-side token bucket and the longest wait worth sleeping. */
export const rateLimitSchema = z.strictObject({
  /** Steady request rate; omitted = learn it from the server's rate-limit headers. */
  requests_per_second: z.number().positive().optional(),
  /** Bucket size: requests that may go out back to back. */
  burst: z.int().min(1).default(1),
  /** A server-requested wait longer than this skips the asset instead of sleeping. */
  max_wait_s: z.number().min(0).default(120),
  /** Follow X-RateLimit-* / RateLimit headers to pace requests so no 429 is received. */
  adaptive: z.boolean().default(true),
  /**
   * What one limiter (one quota, one 429 pause) covers: `credential`, each (origin, credential)
   * — APIs count per token or key; `origin`, every request to the host — APIs that count per
   * address; `asset`, each (origin, credential, asset) — APIs that count per resource, like a
   * timeline per user. @default "credential"
   */
  key: z.enum(["credential", "origin", "asset"]).default("credential"),
});
/** Parsed `rate_limit:` config (see {@link rateLimitSchema} for what each field means). */
export interface RateLimitConfig {
  /** Steady request rate; omitted = learn it from the server's rate-limit headers. */
  requests_per_second?: number;
  /** Bucket size: requests that may go out back to back. @default 1 */
  burst: number;
  /** A server-requested wait longer than this skips the asset instead of sleeping. @default 120 */
  max_wait_s: number;
  /** Follow X-RateLimit-* / RateLimit headers to pace requests. @default true */
  adaptive: boolean;
  /** What one limiter covers. @default "credential" */
  key: "credential" | "origin" | "asset";
}

const alias = z.string().min(1).optional();

/** The built-in auth kinds' schemas, by name. */
const builtinAuth = {
  none: z.strictObject({ type: z.literal("none") }),
  bearer: z.strictObject({ type: z.literal("bearer"), token: z.string().min(1), alias }),
  header: z.strictObject({
    type: z.literal("header"),
    name: z.string().min(1).default("X-API-Key"),
    key: z.string().min(1),
    alias,
  }),
  query: z.strictObject({
    type: z.literal("query"),
    name: z.string().min(1).default("api_key"),
    key: z.string().min(1),
    alias,
  }),
  basic: z.strictObject({
    type: z.literal("basic"),
    username: z.string().min(1),
    password: z.string(),
    alias,
  }),
  oauth2: z.strictObject({
    type: z.literal("oauth2"),
    token_url: z.string().min(1),
    client_id: z.string().min(1),
    client_secret: z.string().min(1),
    scope: z.string().optional(),
    alias,
  }),
  login: z.strictObject({
    type: z.literal("login"),
    login_url: z.string().min(1),
    refresh_url: z.string().min(1).optional(),
    username: z.string().min(1),
    password: z.string(),
    alias,
  }),
};

/** `auth:` of a kind added with `registerAuth`, checked by the kind's own schema. */
const customAuthSchema = customKindSchema(authRegistry, Object.keys(builtinAuth));

/**
 * `auth:` — one of the built-in modes (docs/mock_api.md §3), or a kind added with
 * `registerAuth`. Secrets come from `${ENV}` templating.
 */
export const authSchema = z.preprocess(
  routeCustomKind(Object.keys(builtinAuth)),
  z.discriminatedUnion("type", [
    builtinAuth.none,
    builtinAuth.bearer,
    builtinAuth.header,
    builtinAuth.query,
    builtinAuth.basic,
    builtinAuth.oauth2,
    builtinAuth.login,
    customAuthSchema,
  ]),
);

/** The built-in auth kinds' schemas, by name (each registers with its own). */
export const builtinAuthSchemas = builtinAuth;
/** Parsed `auth:` config: one of the built-in kinds, or a registered one. */
export type AuthConfig =
  | { type: "none" }
  | { type: "bearer"; token: string; alias?: string }
  | { type: "header"; name: string; key: string; alias?: string }
  | { type: "query"; name: string; key: string; alias?: string }
  | { type: "basic"; username: string; password: string; alias?: string }
  | {
    type: "oauth2";
    token_url: string;
    client_id: string;
    client_secret: string;
    scope?: string;
    alias?: string;
  }
  | {
    type: "login";
    login_url: string;
    refresh_url?: string;
    username: string;
    password: string;
    alias?: string;
  }
  | CustomKindConfig;

/** `auth:` as written: defaults may be left out; a registered kind is named by its `type`. */
export type AuthConfigInput =
  | Exclude<AuthConfig, { type: "header" | "query" } | CustomKindConfig>
  | { type: "header" | "query"; name?: string; key: string; alias?: string }
  | CustomKindConfig
  | { type: string; [option: string]: unknown };

/** `retry:` as written (every field has a default). */
export type RetryConfigInput = Partial<RetryConfig>;
/** `rate_limit:` as written (every field has a default or is optional). */
export type RateLimitConfigInput = Partial<RateLimitConfig>;

// The hand-written types above are the public ones (a published package cannot infer them from
// zod); these lines fail to compile when a schema and its type drift apart.
type _Retry = Assert<SchemaIs<typeof retrySchema, RetryConfig, RetryConfigInput>>;
type _RateLimit = Assert<SchemaIs<typeof rateLimitSchema, RateLimitConfig, RateLimitConfigInput>>;
type _Auth = Assert<SchemaIs<typeof authSchema, AuthConfig, AuthConfigInput>>;
