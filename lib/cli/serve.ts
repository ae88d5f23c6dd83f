/**
 * `tidemark serve`: the mock API (Northwind, WordPress, timelines) over HTTP, with the auth,
 * rate limits, ETags, faults and latency of docs/mock_api.md chosen by flags. Every flag is checked
 * before any data is generated or any port bound; the first line on stdout is
 * `listening on http://HOST:PORT`; SIGINT and SIGTERM stop it cleanly. Secrets are never printed.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import type { Command, CommandSpec, ParsedFlags } from "./args.ts";
import { choiceValue, intFlag, parseDuration, parseFlags, stringFlag } from "./args.ts";
import { TidemarkError, UsageError } from "../core/errors.ts";
import { checkMockOptions, type MockOptions } from "../../mock_api/app.ts";
import { AUTH_MODES } from "../../mock_api/middleware/auth.ts";
import { FAULT_KINDS, type FaultKind } from "../../mock_api/middleware/faults.ts";
import { type MockServerOptions, startMockServer } from "../../mock_api/server.ts";

const spec: CommandSpec = {
  name: "serve",
  summary: "serve the mock API (Northwind, WordPress, timelines)",
  usage: "serve [--host H] [--port N] [--scale N | --db FILE] [--auth MODE] [options]",
  flags: {
    host: { type: "string", value: "HOST", description: "interface to bind", default: "127.0.0.1" },
    port: { type: "string", value: "N", description: "port; 0 picks a free one", default: "9000" },
    scale: {
      type: "string",
      value: "N",
      description: "generate Northwind at this scale (830·N orders)",
      default: "1",
    },
    seed: { type: "string", value: "N", description: "seed of the generated data", default: "42" },
    db: { type: "string", value: "FILE", description: "serve this SQLite file instead" },
    auth: {
      type: "string",
      value: "MODE",
      description: `auth mode: ${AUTH_MODES.join(", ")}`,
      default: "bearer",
    },
    token: {
      type: "string",
      value: "T",
      description: "bearer token / API key",
      default: "$API_TOKEN or super-secret-token",
    },
    "write-token": {
      type: "string",
      value: "T",
      description: "token required by the write API (default: the read credential)",
    },
    username: {
      type: "string",
      value: "U",
      description: "basic and jwt user",
      default: "tidemark",
    },
    password: {
      type: "string",
      value: "P",
      description: "basic and jwt password",
      default: "tidemark-password",
    },
    "client-id": {
      type: "string",
      value: "ID",
      description: "oauth2 client id",
      default: "tidemark-client",
    },
    "client-secret": {
      type: "string",
      value: "S",
      description: "oauth2 client secret",
      default: "tidemark-secret",
    },
    "token-ttl": {
      type: "string",
      value: "DURATION",
      description: "jwt/oauth2 access-token lifetime",
      default: "1h",
    },
    "rate-limit": {
      type: "string",
      value: "N",
      description: "requests per window per credential; 0 = unlimited",
      default: "60",
    },
    "rate-window": {
      type: "string",
      value: "DURATION",
      description: "rate-limit window",
      default: "60s",
    },
    limiter: { type: "string", value: "fixed|bucket", description: "limiter", default: "fixed" },
    "retry-after": {
      type: "string",
      value: "seconds|date|none",
      description: "Retry-After style on a 429",
      default: "seconds",
    },
    "reset-style": {
      type: "string",
      value: "seconds|epoch",
      description: "X-RateLimit-Reset style",
      default: "seconds",
    },
    etag: { type: "string", value: "on|off", description: "content ETags and 304s", default: "on" },
    faults: {
      type: "string",
      value: "SPEC",
      description: "fault probabilities, e.g. 500=0.1,503=0.05,timeout=0.02",
    },
    "fault-seed": {
      type: "string",
      value: "N",
      description: "seed of the fault sequence (default: --seed)",
    },
    "latency-ms": {
      type: "string",
      value: "N",
      description: "delay added per request",
      default: "0",
    },
    "timeout-hold": {
      type: "string",
      value: "DURATION",
      description: "how long a timeout fault holds a response",
      default: "60s",
    },
  },
  details: [
    `Faults: ${FAULT_KINDS.join(", ")}; probabilities in [0, 1] adding up to at most 1.`,
    "Durations: 500ms, 30s, 2m, 1h. GET /-/health and /-/stats need no auth.",
    "Example: tidemark serve --port 0 --rate-limit 20 --rate-window 2s --faults 503=0.05",
  ].join("\n"),
};

/** Parses a fault spec like `500=0.1,503=0.05,timeout=0.02`; throws {@link UsageError}. */
export function parseFaultSpec(text: string): Partial<Record<FaultKind, number>> {
  const faults: Partial<Record<FaultKind, number>> = {};
  for (const part of text.split(",")) {
    const match = /^\s*([^=\s]+)\s*=\s*([^=\s]*)\s*$/.exec(part);
    if (!match) {
      throw new UsageError(
        `--faults entry "${part}" must look like KIND=PROBABILITY, e.g. 503=0.05`,
      );
    }
    const [, kind, value] = match;
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new UsageError(
        `--faults names unknown fault "${kind}"; accepted: ${FAULT_KINDS.join(", ")}`,
      );
    }
    if (!/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(value) || Number(value) > 1) {
      throw new UsageError(
        `--faults probability of ${kind} must be a number between 0 and 1, got "${value}"`,
      );
    }
    if (kind in faults) throw new UsageError(`--faults names ${kind} twice`);
    faults[kind as FaultKind] = Number(value);
  }
  const sum = Object.values(faults).reduce((a, b) => a + b, 0);
  if (sum > 1 + 1e-9) {
    throw new UsageError(`--faults probabilities add up to ${sum}; they must add up to at most 1`);
  }
  return faults;
}

function positiveNumberFlag(flags: ParsedFlags, name: string): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\s*\d*\.?\d+\s*$/.test(text) || !(n > 0)) {
    throw new UsageError(`--${name} must be a number above 0, got "${text}"`);
  }
  return n;
}

function durationFlag(flags: ParsedFlags, name: string, min = 1): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  const ms = parseDuration(text, `--${name}`);
  if (ms < min) throw new UsageError(`--${name} must be at least ${min} ms, got "${text}"`);
  return ms;
}

function choiceFlag<T extends string>(
  flags: ParsedFlags,
  name: string,
  choices: readonly T[],
): T | undefined {
  const text = stringFlag(flags, name);
  return text === undefined ? undefined : choiceValue(text, `--${name}`, choices);
}

/** Turns `serve` flags into server options; throws {@link UsageError} on any bad value. */
export function serveOptions(flags: ParsedFlags): MockServerOptions {
  if (flags.positionals.length > 0) {
    throw new UsageError(
      `'tidemark serve' takes no arguments, got "${flags.positionals[0]}"; see --help`,
    );
  }
  const db = stringFlag(flags, "db");
  const scale = positiveNumberFlag(flags, "scale");
  if (db !== undefined && scale !== undefined) {
    throw new UsageError("--scale and --db exclude each other: generate data or serve a file");
  }
  const faultSpec = stringFlag(flags, "faults");
  const options: MockServerOptions = {
    hostname: stringFlag(flags, "host") ?? "127.0.0.1",
    port: intFlag(flags, "port", { min: 0, max: 65535 }) ?? 9000,
    db,
    scale,
    seed: intFlag(flags, "seed", { min: 0, max: 2 ** 32 - 1 }),
    auth: choiceFlag(flags, "auth", AUTH_MODES),
    token: stringFlag(flags, "token") ?? Deno.env.get("API_TOKEN") ?? undefined,
    writeToken: stringFlag(flags, "write-token"),
    username: stringFlag(flags, "username"),
    password: stringFlag(flags, "password"),
    clientId: stringFlag(flags, "client-id"),
    clientSecret: stringFlag(flags, "client-secret"),
    tokenTtlMs: durationFlag(flags, "token-ttl"),
    rateLimit: intFlag(flags, "rate-limit", { min: 0 }) ?? 60,
    rateWindowMs: durationFlag(flags, "rate-window") ?? 60_000,
    limiter: choiceFlag(flags, "limiter", ["fixed", "bucket"] as const),
    retryAfter: choiceFlag(flags, "retry-after", ["seconds", "date", "none"] as const),
    resetStyle: choiceFlag(flags, "reset-style", ["seconds", "epoch"] as const),
    etag: (choiceFlag(flags, "etag", ["on", "off"] as const) ?? "on") === "on",
    faults: faultSpec === undefined ? undefined : parseFaultSpec(faultSpec),
    faultSeed: intFlag(flags, "fault-seed", { min: 0, max: 2 ** 32 - 1 }),
    latencyMs: intFlag(flags, "latency-ms", { min: 0 }),
    timeoutHoldMs: durationFlag(flags, "timeout-hold", 0),
  };
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) delete (options as Record<string, unknown>)[key];
  }
  if (options.token === "") throw new UsageError("--token (or API_TOKEN) must not be empty");
  try {
    checkMockOptions(options as MockOptions);
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
  return options;
}

/** One line describing what is served, without any secret. */
function describe(options: MockServerOptions): string {
  const data = options.db !== undefined
    ? `database ${options.db}`
    : `northwind scale ${options.scale ?? 1} seed ${options.seed ?? 42}`;
  const limit = options.rateLimit
    ? `rate limit ${options.rateLimit} per ${(options.rateWindowMs ?? 60_000) / 1000}s (${
      options.limiter ?? "fixed"
    })`
    : "no rate limit";
  const faults = options.faults ? Object.keys(options.faults).join(",") : "none";
  return `serving ${data} · auth ${options.auth ?? "bearer"} · ${limit} · etag ${
    options.etag === false ? "off" : "on"
  } · faults ${faults}`;
}

/**
 * `--db FILE` without write permission on FILE (the `mock` task grants only reads): serve it
 * read-only, with the write API refused (403) rather than failing on SQLite's first write.
 */
async function openReadOnlyWithoutWriteAccess(
  options: MockServerOptions,
): Promise<DatabaseSync | undefined> {
  if (typeof options.db !== "string") return undefined;
  const { state } = await Deno.permissions.query({ name: "write", path: options.db });
  if (state === "granted") return undefined;
  const db = new DatabaseSync(options.db, { readOnly: true });
  console.error(
    `tidemark serve: no write permission on ${options.db}: serving it read-only, the write API ` +
      "answers 403 (grant --allow-write to use it)",
  );
  options.db = db;
  // A token nobody knows: every request gets canWrite = false, so the routes answer 403.
  options.writeToken = crypto.randomUUID();
  return db;
}

function waitForStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = Deno.build.os === "windows"
      ? ["SIGINT", "SIGBREAK"]
      : ["SIGINT", "SIGTERM"];
    const handlers = signals.map((signal) => {
      const handler = () => {
        for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return [signal, handler] as const;
    });
  });
}

/** The `serve` command. */
export const command: Command = {
  spec,
  async run(args) {
    const options = serveOptions(parseFlags(spec, args));
    const description = describe(options);
    const readOnly = await openReadOnlyWithoutWriteAccess(options);
    let server;
    try {
      server = await startMockServer(options);
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) {
        throw new TidemarkError(
          `port ${options.port} on ${options.hostname} is in use; pick another with --port (0 = any free port)`,
        );
      }
      throw error;
    }
    console.log(`listening on ${server.url}`);
    console.log(description);
    const signal = await waitForStopSignal();
    await server.close();
    readOnly?.close();
    console.log(`stopped (${signal})`);
    return 0;
  },
};
