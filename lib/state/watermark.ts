/**
 * Watermark comparisons (docs/design.md §4), pure: ids compare as integers through BigInt
 * when both are integer strings (19-digit snowflakes are above 2^53, and "9" > "10" as text),
 * timestamps are normalized to UTC ISO-8601 before they compare, a lookback re-reads a window for
 * late data, and a watermark in the future is clamped to now with a warning.
 * @module
 */
import { StateError } from "../core/errors.ts";

/** How a watermark's values compare. */
export type WatermarkKind = "timestamp" | "id";

const INTEGER = /^-?\d+$/;

/**
 * Compares two ids: numerically (BigInt) when both are integer strings, else as text
 * (code-unit order). Returns -1, 0 or 1.
 * @example
 * ```ts
 * compareIds("1861234567890123457", "1861234567890123456"); // 1 (JS numbers would say 0)
 * compareIds("9", "10"); // -1
 * ```
 */
export function compareIds(a: string, b: string): -1 | 0 | 1 {
  if (INTEGER.test(a) && INTEGER.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

const ISO_LIKE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Normalizes a timestamp to UTC ISO-8601 with milliseconds (`…T…:…:….sssZ`).
 * Accepts `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.fff]]` (no zone = UTC, as SQL text dates are),
 * `T`-separated forms with `Z` or `±HH:MM` offsets (converted), epoch seconds (≤ 11 digits) or
 * milliseconds (12–13 digits), and HTTP/RFC 2822 dates with a zone. Sub-millisecond digits are
 * truncated, which only ever moves a lower bound earlier (re-read, never skipped).
 * Throws {@link StateError} naming the value when it cannot be read.
 * @example
 * ```ts
 * normalizeTimestamp("1996-07-04 00:00:00.000"); // "1996-07-04T00:00:00.000Z"
 * normalizeTimestamp("2024-01-01T02:00:00+02:00"); // "2024-01-01T00:00:00.000Z"
 * ```
 */
export function normalizeTimestamp(value: string | number | Date): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw badTimestamp(String(value));
    return value.toISOString();
  }
  if (typeof value === "number") return fromEpoch(value, String(value));
  const text = value.trim();
  if (/^\d{1,13}(\.\d+)?$/.test(text)) return fromEpoch(Number(text), text);
  const m = ISO_LIKE.exec(text);
  if (m) {
    const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = ""] = m;
    const ms = Number((frac + "000").slice(0, 3));
    const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)];
    const local = Date.UTC(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], ms);
    const check = new Date(local);
    // Date.UTC rolls over (Feb 30 → Mar 2); a rolled-over date was not a real one.
    if (
      check.getUTCFullYear() !== parts[0] || check.getUTCMonth() !== parts[1] ||
      check.getUTCDate() !== parts[2] || check.getUTCHours() !== parts[3] ||
      check.getUTCMinutes() !== parts[4] || check.getUTCSeconds() !== parts[5]
    ) throw badTimestamp(text);
    return new Date(local - offsetMinutes(zone) * 60_000).toISOString();
  }
  // HTTP-date / RFC 2822 with an explicit zone; without one, Date.parse would use local time.
  if (/(GMT|UTC|Z|[+-]\d{4})$/.test(text) && /[A-Za-z]{3}/.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  throw badTimestamp(text);
}

function offsetMinutes(zone: string): number {
  if (zone === "" || /^(Z|UTC|GMT)$/i.test(zone)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? "0");
  return m[1] === "-" ? -minutes : minutes;
}

function fromEpoch(n: number, text: string): string {
  if (!Number.isFinite(n)) throw badTimestamp(text);
  // Below 1e11 the value is seconds (until the year 5138); above, milliseconds.
  const ms = Math.abs(n) < 1e11 ? n * 1000 : n;
  const date = new Date(Math.floor(ms));
  if (Number.isNaN(date.getTime())) throw badTimestamp(text);
  return date.toISOString();
}

function badTimestamp(text: string): StateError {
  return new StateError(
    `cannot read "${text}" as a timestamp; use ISO-8601 like 2024-01-31T10:00:00Z, "1996-07-04 00:00:00.000" or epoch seconds`,
  );
}

/** Options shared by the comparison helpers. */
export interface WatermarkCompareOptions {
  /** How values compare. @default "timestamp" */
  kind?: WatermarkKind;
}

/** Compares two watermark values of a kind (-1, 0, 1); timestamps are normalized first. */
export function compareWatermarks(
  a: string,
  b: string,
  options: WatermarkCompareOptions = {},
): -1 | 0 | 1 {
  if ((options.kind ?? "timestamp") === "id") return compareIds(a, b);
  const x = normalizeTimestamp(a);
  const y = normalizeTimestamp(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The newer of two watermark values (either may be missing). Timestamps come back normalized.
 * @example
 * ```ts
 * newerWatermark("9", "10", { kind: "id" }); // "10"
 * ```
 */
export function newerWatermark(
  a: string | null | undefined,
  b: string | null | undefined,
  options: WatermarkCompareOptions = {},
): string | null {
  return pick(a, b, options, 1);
}

/** The older of two watermark values (for `X_oldest`, the backfill frontier). */
export function olderWatermark(
  a: string | null | undefined,
  b: string | null | undefined,
  options: WatermarkCompareOptions = {},
): string | null {
  return pick(a, b, options, -1);
}

function pick(
  a: string | null | undefined,
  b: string | null | undefined,
  options: WatermarkCompareOptions,
  want: 1 | -1,
): string | null {
  const kind = options.kind ?? "timestamp";
  const norm = (v: string) => (kind === "timestamp" ? normalizeTimestamp(v) : v);
  if (a === null || a === undefined) return b === null || b === undefined ? null : norm(b);
  if (b === null || b === undefined) return norm(a);
  return compareWatermarks(a, b, { kind }) === want ? norm(a) : norm(b);
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a lookback duration (`30m`, `6h`, `2d`, `1w`, `500ms`) into milliseconds. */
export function parseLookback(lookback: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(lookback.trim());
  if (!m) {
    throw new StateError(
      `cannot read lookback "${lookback}"; use a duration like 30m, 6h, 2d or 1w`,
    );
  }
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/**
 * Moves a watermark back by a lookback window so late-arriving records are re-read (the
 * primary-key de-duplication on write removes the overlap). Timestamps take a duration, ids a
 * count (BigInt arithmetic; an id never goes below zero).
 * @example
 * ```ts
 * applyLookback("2024-01-03T00:00:00Z", "2d"); // "2024-01-01T00:00:00.000Z"
 * applyLookback("1000", "50", { kind: "id" }); // "950"
 * ```
 */
export function applyLookback(
  watermark: string,
  lookback: string | undefined,
  options: WatermarkCompareOptions = {},
): string {
  const kind = options.kind ?? "timestamp";
  if (kind === "id") {
    if (lookback === undefined || lookback === "") return watermark;
    if (!INTEGER.test(watermark) || !/^\d+$/.test(lookback)) {
      throw new StateError(
        `an id lookback needs an integer watermark and a count; got "${watermark}" and "${lookback}"`,
      );
    }
    const back = BigInt(watermark) - BigInt(lookback);
    return (back < 0n ? 0n : back).toString();
  }
  const normalized = normalizeTimestamp(watermark);
  if (lookback === undefined || lookback === "") return normalized;
  return new Date(Date.parse(normalized) - parseLookback(lookback)).toISOString();
}

/** Result of {@link clampFuture}. */
export interface ClampResult {
  /** The watermark to use: unchanged, or `now` when it was in the future. */
  value: string;
  /** Set when the value was clamped: what happened, for the log and the report. */
  warning?: string;
}

/** Options of {@link clampFuture}. */
export interface ClampOptions {
  /** Tolerated clock skew before a watermark counts as "in the future". @default 0 */
  toleranceMs?: number;
  /** Names the asset in the warning. */
  assetId?: string;
}

/**
 * Clamps a timestamp watermark that lies in the future (a bad clock or a bad record would
 * otherwise make every later run skip real data) to `now`, with a warning.
 */
export function clampFuture(watermark: string, now: Date, options: ClampOptions = {}): ClampResult {
  const normalized = normalizeTimestamp(watermark);
  const limit = now.getTime() + (options.toleranceMs ?? 0);
  if (Date.parse(normalized) <= limit) return { value: normalized };
  const value = now.toISOString();
  const who = options.assetId ? ` of ${options.assetId}` : "";
  return {
    value,
    warning:
      `watermark${who} ${normalized} is in the future; clamped to ${value} (check the source's clock or the records' cursor_field)`,
  };
}

/** Normalizes a watermark value for storage: timestamps to UTC ISO-8601, ids trimmed and checked. */
export function normalizeWatermark(value: string | number, kind: WatermarkKind): string {
  if (kind === "timestamp") return normalizeTimestamp(value);
  const text = String(value).trim();
  if (text === "") throw new StateError("an id watermark cannot be empty");
  return text;
}
