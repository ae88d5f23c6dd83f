/**
 * Request parameters templated from state and time: `{watermark}`, `{watermark:datetime}`,
 * `{last_id}`, `{today}`, `{now}`, `{run_id}` and, for `for_each` assets, `{record.Field}`.
 * Pure: the clock is a value in the context. `{{` and `}}` write literal braces.
 *
 * `${VAR}` environment templating is a different, earlier step (see `load.ts`); this module only
 * sees strings that already passed it.
 * @module
 */
import { ConfigError } from "../core/errors.ts";
import { select } from "../core/select.ts";

/** Names a template may use (`record.<path>` aside). */
export const TEMPLATE_NAMES = ["watermark", "last_id", "today", "now", "run_id"] as const;

/** How `{watermark:<format>}` / `{now:<format>}` render a timestamp. */
export const TIME_FORMATS = ["iso", "date", "datetime", "epoch", "epoch_ms"] as const;
/** One of {@link TIME_FORMATS}. */
export type TimeFormat = typeof TIME_FORMATS[number];

/** One piece of a parsed template: literal text or a placeholder. */
export type TemplatePart =
  | { kind: "text"; text: string }
  | { kind: "placeholder"; name: string; format?: string; raw: string };

/** What placeholders are rendered from. */
export interface TemplateContext {
  /** The asset's watermark (after lookback), normalized: ISO-8601 UTC or an id. */
  watermark?: string | null;
  /** The asset's last id watermark. */
  lastId?: string | null;
  /** This run's id. */
  runId?: string;
  /** The run's clock reading (injected so renders are reproducible). */
  now?: Date;
  /** The parent record of a `for_each` asset. */
  record?: Record<string, unknown>;
}

/** Splits a template into text and placeholders; throws a {@link ConfigError} on bad syntax. */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if ((c === "{" || c === "}") && text[i + 1] === c) {
      literal += c;
      i += 2;
      continue;
    }
    if (c === "}") {
      throw new ConfigError(`unmatched "}" in "${text}"; write "}}" for a literal brace`);
    }
    if (c !== "{") {
      literal += c;
      i++;
      continue;
    }
    const end = text.indexOf("}", i + 1);
    if (end < 0) {
      throw new ConfigError(`unclosed "{" in "${text}"; write "{{" for a literal brace`);
    }
    const raw = text.slice(i, end + 1);
    const body = text.slice(i + 1, end).trim();
    const colon = body.indexOf(":");
    const name = colon < 0 ? body : body.slice(0, colon).trim();
    const format = colon < 0 ? undefined : body.slice(colon + 1).trim();
    if (literal) parts.push({ kind: "text", text: literal });
    literal = "";
    parts.push({ kind: "placeholder", name, raw, ...(format !== undefined ? { format } : {}) });
    i = end + 1;
  }
  if (literal) parts.push({ kind: "text", text: literal });
  return parts;
}

/**
 * Checks a template's placeholders; returns the problem as a message, or undefined when valid.
 * Used by the config schema so a typo such as `{watermrk}` fails before any request.
 */
export function checkTemplate(text: string): string | undefined {
  let parts: TemplatePart[];
  try {
    parts = parseTemplate(text);
  } catch (error) {
    return (error as Error).message;
  }
  for (const part of parts) {
    if (part.kind !== "placeholder") continue;
    const problem = checkPlaceholder(part);
    if (problem) return problem;
  }
  return undefined;
}

function checkPlaceholder(
  part: Extract<TemplatePart, { kind: "placeholder" }>,
): string | undefined {
  if (part.name.startsWith("record.")) {
    return part.format === undefined
      ? undefined
      : `placeholder ${part.raw} takes no format; write {${part.name}}`;
  }
  if (!(TEMPLATE_NAMES as readonly string[]).includes(part.name)) {
    return `unknown placeholder ${part.raw}; known: ${
      TEMPLATE_NAMES.map((n) => `{${n}}`).join(", ")
    }, {record.<field>} (write {{ and }} for literal braces)`;
  }
  if (part.format === undefined) return undefined;
  if (part.name !== "watermark" && part.name !== "now" && part.name !== "today") {
    return `placeholder {${part.name}} takes no format; got ${part.raw}`;
  }
  if (!(TIME_FORMATS as readonly string[]).includes(part.format)) {
    return `unknown format "${part.format}" in ${part.raw}; expected one of ${
      TIME_FORMATS.join(", ")
    }`;
  }
  return undefined;
}

/**
 * Renders a template. Returns `undefined` when a placeholder has no value (no watermark yet, no
 * record), so the caller can drop the parameter and fetch everything instead of sending an
 * empty filter.
 * @example
 * ```ts
 * renderTemplate("{watermark:date}", { watermark: "1997-01-01T10:00:00.000Z" }); // "1997-01-01"
 * ```
 */
export function renderTemplate(text: string, context: TemplateContext): string | undefined {
  let out = "";
  for (const part of parseTemplate(text)) {
    if (part.kind === "text") {
      out += part.text;
      continue;
    }
    const problem = checkPlaceholder(part);
    if (problem) throw new ConfigError(problem);
    const value = placeholderValue(part.name, part.format, context);
    if (value === undefined) return undefined;
    out += value;
  }
  return out;
}

/** Options of {@link renderParams}. */
export interface RenderParamsOptions {
  /** Keep a parameter whose placeholder has no value as an empty string instead of dropping it. @default false */
  keepEmpty?: boolean;
}

/**
 * Renders every value of a params object; a parameter whose placeholder has no value is left
 * out (a first run without a watermark fetches everything).
 */
export function renderParams(
  params: Record<string, string>,
  context: TemplateContext,
  options: RenderParamsOptions = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    const rendered = renderTemplate(value, context);
    if (rendered !== undefined) out[key] = rendered;
    else if (options.keepEmpty) out[key] = "";
  }
  return out;
}

/**
 * Formats a normalized ISO-8601 UTC timestamp: `iso` as is, `date` → `YYYY-MM-DD`,
 * `datetime` → `YYYY-MM-DD HH:MM:SS.sss` (the SQL/Datasette text form, so text comparisons on
 * the server agree with time order), `epoch` seconds, `epoch_ms`.
 */
export function formatTimestamp(iso: string, format: TimeFormat): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) {
    throw new ConfigError(`cannot format "${iso}" as a timestamp; expected ISO-8601 UTC`);
  }
  const text = new Date(ms).toISOString();
  switch (format) {
    case "iso":
      return text;
    case "date":
      return text.slice(0, 10);
    case "datetime":
      return `${text.slice(0, 10)} ${text.slice(11, 23)}`;
    case "epoch":
      return String(Math.floor(ms / 1000));
    case "epoch_ms":
      return String(ms);
  }
}

function placeholderValue(
  name: string,
  format: string | undefined,
  context: TemplateContext,
): string | undefined {
  if (name.startsWith("record.")) {
    const value = context.record === undefined
      ? undefined
      : select(context.record, name.slice("record.".length));
    if (value === undefined || value === null) return undefined;
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  switch (name) {
    case "watermark": {
      const w = context.watermark;
      if (w === undefined || w === null) return undefined;
      // Ids (digits only) have no time format; they render as they are.
      if (format === undefined || /^-?\d+$/.test(w)) return w;
      return formatTimestamp(w, format as TimeFormat);
    }
    case "last_id":
      return context.lastId ?? undefined;
    case "run_id":
      return context.runId;
    case "today": {
      if (!context.now) return undefined;
      const midnight = `${context.now.toISOString().slice(0, 10)}T00:00:00.000Z`;
      return formatTimestamp(midnight, (format ?? "date") as TimeFormat);
    }
    case "now":
      return context.now
        ? formatTimestamp(context.now.toISOString(), (format ?? "iso") as TimeFormat)
        : undefined;
  }
  return undefined;
}
