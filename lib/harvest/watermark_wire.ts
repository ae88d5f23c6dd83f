/**
 * The watermark on the wire. Inside Tidemark a timestamp watermark is a parsed instant
 * (normalized UTC ISO-8601), but the source compares the query parameter with its own values —
 * often as text. `1998-05-06T00:00:00.000Z` sent to a source that stores
 * `1998-05-06 00:00:00.000` compares greater than every row of that instant (`T` sorts after a
 * space), so `>=` silently skips the boundary rows. By default (`param_format: auto`) the
 * watermark therefore goes out in the form the source itself wrote the value: its own text when
 * the watermark is exactly a value it returned, else the instant rendered in the same shape.
 * Pure.
 * @module
 */
import { formatTimestamp, type TimeFormat } from "../config/templating.ts";
import type { WatermarkKind } from "../state/watermark.ts";

/** How `incremental.param` is written: `auto` (the source's own form) or a fixed format. */
export type ParamFormat = "auto" | TimeFormat;

/** A watermark value with the text it was written as. */
export interface WireSample {
  /** The value, normalized (UTC ISO-8601 or an id). */
  value: string;
  /** The same value as written by the source (or by the user, for `initial` / `--since`). */
  raw: string;
}

/** What {@link watermarkParam} can learn the wire form from. */
export interface WireSamples {
  /** The largest value the last complete run read, as the source wrote it. */
  source?: WireSample | null;
  /** `incremental.initial` or `--since`, as the user wrote it. */
  user?: WireSample | null;
}

const SHAPE =
  /^(\d{4})-(\d{2})-(\d{2})(?:([Tt ])(\d{2}):(\d{2})(?::(\d{2})(?:([.,])(\d+))?)?)?(\s*(?:Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)$/;

/**
 * Renders an instant in the shape of a sample the source wrote: the same separators, precision
 * and zone (`1998-05-06 00:00:00.000`, `1998-05-06`, `2024-01-01T02:00:00+02:00`, epoch seconds
 * or milliseconds). Null when the sample has no shape this knows. Precision the shape lacks is
 * truncated, which only moves a lower bound earlier (rows re-read, never skipped).
 *
 * @example
 * ```ts
 * import { formatLikeSource } from "./watermark_wire.ts";
 * formatLikeSource("1998-05-07T13:45:00.000Z", "1998-05-06 00:00:00.000"); // "1998-05-07 13:45:00.000"
 * formatLikeSource("1998-05-07T13:45:00.000Z", "1998-05-06"); // "1998-05-07"
 * ```
 */
export function formatLikeSource(iso: string, sample: string): string | null {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const text = sample.trim();
  if (/^\d{1,11}$/.test(text)) return String(Math.floor(ms / 1000));
  if (/^\d{12,13}$/.test(text)) return String(ms);
  const m = SHAPE.exec(text);
  if (!m) return null;
  const [, , , , sep, hour, , second, dot, fraction, zone] = m;
  const local = new Date(ms + offsetMinutes(zone.trim()) * 60_000).toISOString();
  let out = local.slice(0, 10);
  if (hour === undefined) return out + zone;
  out += `${sep}${local.slice(11, 16)}`;
  if (second !== undefined) out += local.slice(16, 19);
  if (fraction !== undefined) {
    out += dot + (local.slice(20, 23) + "0".repeat(fraction.length)).slice(0, fraction.length);
  }
  return out + zone;
}

function offsetMinutes(zone: string): number {
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? "0");
  return m[1] === "-" ? -minutes : minutes;
}

/**
 * The text of the watermark query parameter. Ids go out as they are; a fixed `param_format`
 * formats the instant; `auto` sends the source's own text of the value when the watermark is
 * exactly a value it returned, else the instant in the shape of the source's text, else in the
 * shape the user wrote `initial` / `--since` in, else ISO-8601.
 *
 * @example
 * ```ts
 * import { watermarkParam } from "./watermark_wire.ts";
 * watermarkParam("1998-05-06T00:00:00.000Z", {
 *   kind: "timestamp",
 *   format: "auto",
 *   samples: { source: { value: "1998-05-06T00:00:00.000Z", raw: "1998-05-06 00:00:00.000" } },
 * }); // "1998-05-06 00:00:00.000"
 * ```
 */
export function watermarkParam(
  watermark: string,
  options: { kind: WatermarkKind; format: ParamFormat; samples?: WireSamples },
): string {
  if (options.kind === "id") return watermark;
  if (options.format !== "auto") return formatTimestamp(watermark, options.format);
  for (const sample of [options.samples?.source, options.samples?.user]) {
    if (!sample) continue;
    if (sample.value === watermark) return sample.raw;
    const shaped = formatLikeSource(watermark, sample.raw);
    if (shaped !== null) return shaped;
  }
  return watermark;
}
