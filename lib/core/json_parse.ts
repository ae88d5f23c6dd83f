/**
 * JSON text → values without losing integers: `JSON.parse` turns `9007199254740993` into
 * `9007199254740992`, silently. An integer token whose value is not a safe integer (beyond
 * ±2^53) is kept as its exact digits, a string: an undeclared column holding one is written as
 * text, and a column declared `int` or `decimal(p,s)` converts the digits exactly.
 * @module
 */

/** Any run of 16 digits: only then can a token be beyond 2^53, and only then is the slower parse used. */
const LONG_DIGITS = /\d{16}/;
const INTEGER_TOKEN = /^-?\d+$/;

interface ReviverContext {
  /** The source text of a primitive value (JSON.parse source text access). */
  source?: string;
}

function keepExact(_key: string, value: unknown, context?: ReviverContext): unknown {
  if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
  const source = context?.source;
  return source !== undefined && INTEGER_TOKEN.test(source) ? source : value;
}

/**
 * Parses JSON text like `JSON.parse`, except that integers beyond ±2^53 come back as strings of
 * their exact digits. Throws `SyntaxError` for text that is not JSON.
 *
 * @example
 * ```ts
 * import { parseJsonExact } from "./json_parse.ts";
 * parseJsonExact('{"id":9007199254740993,"n":1}'); // { id: "9007199254740993", n: 1 }
 * ```
 */
export function parseJsonExact(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  // deno-lint-ignore no-explicit-any -- the reviver's third argument is newer than the TS lib.
  return JSON.parse(text, keepExact as any);
}
