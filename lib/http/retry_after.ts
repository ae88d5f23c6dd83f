/**
 * What a server says about when to come back: `Retry-After` (delta-seconds or HTTP-date), the
 * reset headers (`X-RateLimit-Reset`, Twitter's `x-rate-limit-reset`, the IETF draft's
 * `RateLimit-Reset`, `RateLimit` and `RateLimit-Policy`), and the quota they describe. Pure
 * functions of the headers and the current time.
 * @module
 */

/** A server-given wait: how long, and which header said so. */
export interface WaitHint {
  /** Milliseconds from now; always > 0 (0, negative and past values are "no hint"). */
  waitMs: number;
  /** The header that decided it, e.g. `Retry-After` or `x-rate-limit-reset`. */
  header: string;
  /** The header's raw value. */
  value: string;
}

/** The quota a response describes (any of the header families), as seen at `now`. */
export interface RateLimitInfo {
  /** Requests allowed per window. */
  limit?: number;
  /** Requests left in the current window (this response already counted). */
  remaining?: number;
  /** Milliseconds from now until the window resets (> 0). */
  resetMs?: number;
  /** Window length in milliseconds, when the server states it (`RateLimit-Policy: …;w=60`). */
  windowMs?: number;
  /** The header family read: `X-RateLimit`, `x-rate-limit`, `RateLimit-*` or `RateLimit`. */
  family: string;
}

// Epoch seconds are ~1.7e9 today; a delta that large would be 30+ years. Epoch milliseconds are
// ~1.7e12. So magnitude tells the three apart without guessing from the header name.
const EPOCH_SECONDS_FROM = 1e9;
const EPOCH_MILLIS_FROM = 1e12;

function parseNumber(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (!/^[+-]?\d+(\.\d+)?$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Milliseconds to wait according to a `Retry-After` value: delta-seconds (`"3"`) or an HTTP-date
 * (`"Wed, 21 Oct 2026 07:28:00 GMT"`). `0`, negative, past or unparsable values give
 * `undefined` ("no hint": fall back to backoff, never a hot loop).
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "./retry_after.ts";
 * parseRetryAfter("3", Date.now()); // 3000
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const seconds = parseNumber(value);
  if (seconds !== undefined) return seconds > 0 ? Math.ceil(seconds * 1000) : undefined;
  // Only accept something that looks like a date: Date.parse accepts odd strings like "1".
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value.trim());
  if (Number.isNaN(at)) return undefined;
  const wait = at - now;
  return wait > 0 ? wait : undefined;
}

/**
 * Milliseconds until a rate-limit reset given as seconds-from-now, epoch seconds or epoch
 * milliseconds (told apart by magnitude). `0`, negative, past or unparsable → `undefined`.
 *
 * @example
 * ```ts
 * import { parseResetValue } from "./retry_after.ts";
 * parseResetValue("30", 0); // 30000 (seconds from now)
 * parseResetValue("1767225600", 1767225570000); // 30000 (epoch seconds)
 * ```
 */
export function parseResetValue(value: string | null | undefined, now: number): number | undefined {
  const n = parseNumber(value);
  if (n === undefined || n <= 0) return undefined;
  let wait: number;
  if (n >= EPOCH_MILLIS_FROM) wait = n - now;
  else if (n >= EPOCH_SECONDS_FROM) wait = n * 1000 - now;
  else wait = n * 1000;
  return wait > 0 ? Math.ceil(wait) : undefined;
}

interface StructuredMember {
  item: string;
  params: Map<string, string>;
}

// A small reader for the RFC 8941 lists the IETF draft uses (`"default";r=0;t=30, "burst";…`),
// which also accepts the older dictionary form (`limit=100, remaining=0, reset=30`).
function parseStructured(value: string): StructuredMember[] {
  const members: string[] = [];
  let current = "";
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) {
      members.push(current);
      current = "";
    } else current += ch;
  }
  members.push(current);
  return members.map((member) => {
    const parts = member.split(";").map((p) => p.trim());
    const params = new Map<string, string>();
    for (const p of parts.slice(1)) {
      const eq = p.indexOf("=");
      if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), unquote(p.slice(eq + 1)));
    }
    return { item: parts[0] ?? "", params };
  }).filter((m) => m.item !== "" || m.params.size > 0);
}

function unquote(text: string): string {
  const t = text.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

function nonNegative(value: string | null | undefined): number | undefined {
  const n = parseNumber(value);
  return n !== undefined && n >= 0 ? n : undefined;
}

// Draft 07+: `RateLimit: "default";r=0;t=30` with `RateLimit-Policy: "default";q=100;w=60`.
// Drafts 03-06: `RateLimit: limit=100, remaining=0, reset=30`. Several policies: the most
// constraining (fewest remaining, then latest reset) decides.
function readIetfRateLimit(headers: Headers, now: number): RateLimitInfo | undefined {
  const raw = headers.get("RateLimit");
  if (raw === null) return undefined;
  const members = parseStructured(raw);
  const dictionary = new Map<string, string>();
  for (const m of members) {
    const eq = m.item.indexOf("=");
    if (eq > 0) {
      dictionary.set(m.item.slice(0, eq).trim().toLowerCase(), unquote(m.item.slice(eq + 1)));
    }
  }
  const policies = readPolicies(headers.get("RateLimit-Policy"));
  if (dictionary.has("remaining") || dictionary.has("reset")) {
    return {
      family: "RateLimit",
      limit: nonNegative(dictionary.get("limit")) ?? policies[0]?.limit,
      remaining: nonNegative(dictionary.get("remaining")),
      resetMs: parseResetValue(dictionary.get("reset"), now),
      windowMs: policies[0]?.windowMs,
    };
  }
  let best: RateLimitInfo | undefined;
  for (const m of members) {
    const remaining = nonNegative(m.params.get("r"));
    if (remaining === undefined && !m.params.has("t")) continue;
    const policy = policies.find((p) => p.name === unquote(m.item)) ?? policies[0];
    const info: RateLimitInfo = {
      family: "RateLimit",
      limit: policy?.limit,
      remaining,
      resetMs: parseResetValue(m.params.get("t"), now),
      windowMs: policy?.windowMs,
    };
    if (
      best === undefined ||
      (info.remaining ?? Infinity) < (best.remaining ?? Infinity) ||
      ((info.remaining ?? Infinity) === (best.remaining ?? Infinity) &&
        (info.resetMs ?? 0) > (best.resetMs ?? 0))
    ) best = info;
  }
  return best;
}

function readPolicies(raw: string | null): { name: string; limit?: number; windowMs?: number }[] {
  if (raw === null) return [];
  return parseStructured(raw).map((m) => {
    const bare = nonNegative(m.item); // old form `100;w=60`
    const w = nonNegative(m.params.get("w"));
    return {
      name: unquote(m.item),
      limit: nonNegative(m.params.get("q")) ?? bare,
      windowMs: w !== undefined ? w * 1000 : undefined,
    };
  });
}

const FAMILIES: { family: string; limit: string; remaining: string; reset: string }[] = [
  {
    family: "X-RateLimit",
    limit: "X-RateLimit-Limit",
    remaining: "X-RateLimit-Remaining",
    reset: "X-RateLimit-Reset",
  },
  {
    family: "x-rate-limit",
    limit: "x-rate-limit-limit",
    remaining: "x-rate-limit-remaining",
    reset: "x-rate-limit-reset",
  },
  {
    family: "RateLimit-*",
    limit: "RateLimit-Limit",
    remaining: "RateLimit-Remaining",
    reset: "RateLimit-Reset",
  },
];

/**
 * The quota a response describes, from the first header family present: `X-RateLimit-*`,
 * `x-rate-limit-*`, `RateLimit-Limit/Remaining/Reset`, then the IETF `RateLimit` field.
 * `undefined` when the response carries none.
 *
 * @example
 * ```ts
 * import { readRateLimit } from "./retry_after.ts";
 * const headers = new Headers({ "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2" });
 * readRateLimit(headers, Date.now()); // { family: "X-RateLimit", remaining: 0, resetMs: 2000, ... }
 * ```
 */
export function readRateLimit(headers: Headers, now: number): RateLimitInfo | undefined {
  for (const f of FAMILIES) {
    const remaining = nonNegative(headers.get(f.remaining));
    const resetMs = parseResetValue(headers.get(f.reset), now);
    if (remaining === undefined && resetMs === undefined) continue;
    return { family: f.family, limit: nonNegative(headers.get(f.limit)), remaining, resetMs };
  }
  return readIetfRateLimit(headers, now);
}

/**
 * The wait a refused response asks for: `Retry-After` first; when `rateLimited` (a 429), the
 * reset headers too, in the order `X-RateLimit-Reset`, `x-rate-limit-reset`, `RateLimit-Reset`,
 * `RateLimit`. `undefined` when no header gives a usable (future) time.
 *
 * @example
 * ```ts
 * import { waitHint } from "./retry_after.ts";
 * waitHint(new Headers({ "Retry-After": "3" }), Date.now()); // { waitMs: 3000, header: "Retry-After", value: "3" }
 * ```
 */
export function waitHint(
  headers: Headers,
  now: number,
  options: { rateLimited?: boolean } = {},
): WaitHint | undefined {
  const retryAfter = headers.get("Retry-After");
  const fromRetryAfter = parseRetryAfter(retryAfter, now);
  if (fromRetryAfter !== undefined && retryAfter !== null) {
    return { waitMs: fromRetryAfter, header: "Retry-After", value: retryAfter };
  }
  if (!options.rateLimited) return undefined;
  for (const f of FAMILIES) {
    const value = headers.get(f.reset);
    const wait = parseResetValue(value, now);
    if (wait !== undefined && value !== null) return { waitMs: wait, header: f.reset, value };
  }
  const ietf = readIetfRateLimit(headers, now);
  if (ietf?.resetMs !== undefined) {
    return { waitMs: ietf.resetMs, header: "RateLimit", value: headers.get("RateLimit") ?? "" };
  }
  return undefined;
}
