/**
 * JSON text for values that `JSON.stringify` mishandles: bigints become exact digits (ids above
 * 2^53 stay exact), `Date`s become ISO-8601 UTC strings, non-finite numbers become `null`, and
 * `undefined` object members are dropped. {@link canonicalJson} also sorts object keys, so equal
 * records always hash the same (`dl_hash`).
 * @module
 */

/**
 * Serializes `value` as compact JSON text, keeping object keys in their order.
 *
 * @example
 * ```ts
 * import { jsonText } from "./json_text.ts";
 * jsonText({ id: 9007199254740993n, tags: ["a"] }); // '{"id":9007199254740993,"tags":["a"]}'
 * ```
 */
export function jsonText(value: unknown): string {
  return write(value, false);
}

/**
 * Serializes `value` as canonical JSON: compact, object keys sorted by code unit at every depth.
 *
 * @example
 * ```ts
 * import { canonicalJson } from "./json_text.ts";
 * canonicalJson({ b: 1, a: { d: null, c: true } }); // '{"a":{"c":true,"d":null},"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return write(value, true);
}

function write(value: unknown, sortKeys: boolean): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
    case "function":
    case "symbol":
      return "null";
  }
  if (value === null) return "null";
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "null" : `"${value.toISOString()}"`;
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => write(item, sortKeys)).join(",")}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (sortKeys) keys.sort();
  const members: string[] = [];
  for (const key of keys) {
    const item = record[key];
    if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
    members.push(`${JSON.stringify(key)}:${write(item, sortKeys)}`);
  }
  return `{${members.join(",")}}`;
}
