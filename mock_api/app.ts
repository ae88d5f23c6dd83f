/**
 * `createApp(options)`: the mock API as one Hono app (docs/mock_api.md), tested in-process with
 * `app.request()` and served by {@link startMockServer}. Middleware order (docs/mock_api.md):
 * stats → `/-/health`, `/-/stats` and the token endpoints (no auth, limits or faults) → latency
 * → faults → auth → rate limit → ETag/304 → routes.
 * @module
 */
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { Hono } from "hono";
import type { MockApp, MockData, MockEnv } from "./context.ts";
import { generateNorthwind } from "./data/northwind.ts";
import { createRoutes } from "./routes/mod.ts";
import { AUTH_MODES, type AuthMode, type AuthOptions, createAuth } from "./middleware/auth.ts";
import { etagMiddleware } from "./middleware/etag.ts";
import { checkFaults, FAULT_KINDS, faultsMiddleware } from "./middleware/faults.ts";
import { healthHandler } from "./middleware/health.ts";
import { errorHandler, notFoundHandler } from "./middleware/json_errors.ts";
import { latencyMiddleware } from "./middleware/latency.ts";
import { rateLimitMiddleware } from "./middleware/rate_limit.ts";
import { createStats } from "./middleware/stats.ts";

/**
 * Everything the mock can be told (docs/mock_api.md); every field is optional. The credentials
 * (token, user, client, write token, token lifetime) are those of {@link AuthOptions}.
 */
export interface MockOptions extends Omit<AuthOptions, "mode" | "jwtSecret" | "now"> {
  /** Open database or SQLite file path. @default generateNorthwind(":memory:", { scale, seed }) */
  db?: DatabaseSync | string;
  /** The database name in URLs (`/northwind/Orders.json`). @default "northwind" */
  dbName?: string;
  /** Scale of the generated Northwind (ignored with `db`). @default 1 */
  scale?: number;
  /** Seed of generated data, and of faults unless `faultSeed`. @default 42 */
  seed?: number;
  /** Auth mode. @default "bearer" */
  auth?: AuthMode;
  /** HS256 signing key. @default derived from `seed` */
  jwtSecret?: string;
  /** Requests per window per credential; 0 or undefined = unlimited. */
  rateLimit?: number;
  /** Rate-limit window (or bucket refill time). @default 60_000 */
  rateWindowMs?: number;
  /** Fixed window or token bucket. @default "fixed" */
  limiter?: "fixed" | "bucket";
  /** `Retry-After` on a 429. @default "seconds" */
  retryAfter?: "seconds" | "date" | "none";
  /** `X-RateLimit-Reset` as seconds until reset or epoch seconds. @default "seconds" */
  resetStyle?: "seconds" | "epoch";
  /** Content-hash ETags and 304s. @default true */
  etag?: boolean;
  /** Probability of each fault per data request (sum ≤ 1). */
  faults?: Partial<
    Record<"500" | "502" | "503" | "504" | "429" | "timeout" | "truncate" | "reset", number>
  >;
  /** Seed of the fault sequence. @default seed */
  faultSeed?: number;
  /**
   * Outcomes of the next data requests, in order (`"503"`, `"timeout"`, ..., `"ok"`); consumed
   * in place, so a test may push more entries later.
   */
  faultScript?: string[];
  /** How long a `timeout` fault holds the response if the client does not give up. @default 60_000 */
  timeoutHoldMs?: number;
  /** Delay added to each data request. @default 0 */
  latencyMs?: number;
  /** Epoch-millisecond clock of every time-dependent behaviour. @default Date.now */
  now?: () => number;
}

function checkNumber(name: string, value: number | undefined, min: number, integer = true): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    const kind = integer ? "a whole number" : "a number";
    throw new RangeError(`option ${name} must be ${kind} of at least ${min}, got ${value}`);
  }
}

function checkChoice(name: string, value: string | undefined, choices: readonly string[]): void {
  if (value !== undefined && !choices.includes(value)) {
    throw new RangeError(`option ${name} must be one of ${choices.join(", ")}, got "${value}"`);
  }
}

/**
 * Refuses options the mock cannot honour (unknown auth mode, negative limits, fault
 * probabilities outside [0, 1], a missing database file), with a message naming the option.
 * {@link createApp} calls it first; the CLI calls it before generating any data.
 */
export function checkMockOptions(options: MockOptions): void {
  if (options.scale !== undefined && !(Number.isFinite(options.scale) && options.scale > 0)) {
    throw new RangeError(`option scale must be a number above 0, got ${options.scale}`);
  }
  checkNumber("seed", options.seed, 0);
  checkNumber("faultSeed", options.faultSeed, 0);
  checkNumber("tokenTtlMs", options.tokenTtlMs, 1);
  checkNumber("rateLimit", options.rateLimit, 0);
  checkNumber("rateWindowMs", options.rateWindowMs, 1);
  checkNumber("timeoutHoldMs", options.timeoutHoldMs, 0);
  checkNumber("latencyMs", options.latencyMs, 0);
  checkChoice("auth", options.auth, AUTH_MODES);
  checkChoice("limiter", options.limiter, ["fixed", "bucket"]);
  checkChoice("retryAfter", options.retryAfter, ["seconds", "date", "none"]);
  checkChoice("resetStyle", options.resetStyle, ["seconds", "epoch"]);
  checkFaults(options.faults ?? {}, options.faultScript ?? []);
  if (typeof options.db === "string" && options.db !== ":memory:" && !existsSync(options.db)) {
    throw new RangeError(`database file "${options.db}" does not exist; check the path`);
  }
}

/** Opens the database the options name (or generates Northwind); `owned` if we opened it. */
export function openMockDatabase(options: MockOptions): { db: DatabaseSync; owned: boolean } {
  if (options.db instanceof DatabaseSync) return { db: options.db, owned: false };
  if (typeof options.db === "string") return { db: new DatabaseSync(options.db), owned: true };
  return {
    db: generateNorthwind(":memory:", { scale: options.scale ?? 1, seed: options.seed ?? 42 }),
    owned: true,
  };
}

/**
 * Builds the mock API app. Synchronous; nothing listens until it is served.
 *
 * @example
 * ```ts
 * const app = createApp({ auth: "bearer", rateLimit: 60, now: () => clock.now });
 * const res = await app.request("/northwind/Orders.json?_size=10", {
 *   headers: { Authorization: "Bearer super-secret-token" },
 * });
 * ```
 */
export function createApp(options: MockOptions = {}): MockApp {
  checkMockOptions(options);
  const now = options.now ?? Date.now;
  const seed = options.seed ?? 42;
  const data: MockData = {
    db: openMockDatabase(options).db,
    dbName: options.dbName ?? "northwind",
    now,
    seed,
  };
  const app = new Hono<MockEnv>();
  const stats = createStats({ now });
  app.use("*", stats.middleware);
  app.get("/-/health", healthHandler(data.dbName));
  app.get("/-/stats", stats.handler);

  const auth = createAuth({
    mode: options.auth,
    token: options.token,
    username: options.username,
    password: options.password,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    jwtSecret: options.jwtSecret ?? `tidemark-mock-jwt-${seed}`,
    writeToken: options.writeToken,
    tokenTtlMs: options.tokenTtlMs,
    now,
  });
  // Token endpoints sit before the data middleware: a login is never faulted or limited.
  app.route("/", auth.routes);

  if ((options.latencyMs ?? 0) > 0) {
    app.use("*", latencyMiddleware({ latencyMs: options.latencyMs }));
  }
  const faults = options.faults ?? {};
  if (options.faultScript !== undefined || FAULT_KINDS.some((k) => (faults[k] ?? 0) > 0)) {
    app.use(
      "*",
      faultsMiddleware({
        faults,
        seed: options.faultSeed ?? seed,
        script: options.faultScript,
        timeoutHoldMs: options.timeoutHoldMs,
        retryAfter: options.retryAfter,
        now,
      }),
    );
  }
  app.use("*", auth.middleware);
  if ((options.rateLimit ?? 0) > 0) {
    app.use(
      "*",
      rateLimitMiddleware({
        limit: options.rateLimit!,
        windowMs: options.rateWindowMs,
        limiter: options.limiter,
        retryAfter: options.retryAfter,
        resetStyle: options.resetStyle,
        now,
      }),
    );
  }
  if (options.etag ?? true) app.use("*", etagMiddleware());
  app.route("/", createRoutes(data));
  app.notFound(notFoundHandler);
  app.onError(errorHandler);
  // Callers only request and fetch; the variables the middleware sets for the routes are the
  // mock's own business, so the app is handed out as those two calls.
  return app;
}
