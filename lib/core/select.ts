/**
 * JSON path selectors, the small language configs use to point into a response:
 * `rows`, `meta.next_cursor`, `data.-1.id` (negative indexes count from the end), `""` for the
 * root itself. A key holding a dot is written with a backslash (`a\.b`) or in brackets
 * (`["a.b"]`); brackets also take indexes (`items[0]`, `items[-1]`). Pure; absent → `undefined`.
 * @module
 */
import { ConfigError } from "./errors.ts";

/** One step of a selector: an object key or an array index (negative = from the end). */
export type SelectorSegment = string | number;

/** A compiled selector: reads its path out of a value. */
export type Selector = (value: unknown) => unknown;

/**
 * Parses a selector into segments; throws a {@link ConfigError} naming the problem.
 * Numeric segments are kept as numbers; on an object they read the key of the same text.
 * @example
 * ```ts
 * parseSelector("data.-1.id"); // ["data", -1, "id"]
 * ```
 */
export function parseSelector(path: string): SelectorSegment[] {
  const segments: SelectorSegment[] = [];
  if (path === "") return segments;
  let i = 0;
  let current = "";
  let expectSegment = true; // after "." or at the start, a segment must follow
  const fail = (why: string): never => {
    throw new ConfigError(
      `bad selector "${path}": ${why}; write dotted keys like "meta.next_cursor", indexes like "data.-1.id", or "" for the root`,
    );
  };
  const flush = () => {
    if (expectSegment && current === "") fail(`empty key at position ${i}`);
    if (current !== "") segments.push(/^-?\d+$/.test(current) ? Number(current) : current);
    current = "";
  };
  while (i < path.length) {
    const c = path[i];
    if (c === "\\") {
      const next = path[i + 1];
      if (next === undefined) fail("a trailing backslash escapes nothing");
      current += next;
      i += 2;
      expectSegment = false;
      continue;
    }
    if (c === ".") {
      flush();
      expectSegment = true;
      i++;
      continue;
    }
    if (c === "[") {
      if (current !== "") flush();
      const { segment, end } = readBracket(path, i, fail);
      segments.push(segment);
      i = end;
      expectSegment = false;
      if (i < path.length && path[i] !== "." && path[i] !== "[") {
        fail(`expected "." or "[" after "]" at position ${i}`);
      }
      if (path[i] === ".") {
        i++;
        expectSegment = true;
        if (i === path.length) fail("a trailing dot");
      }
      continue;
    }
    if (c === "]") fail(`unmatched "]" at position ${i}`);
    current += c;
    expectSegment = false;
    i++;
  }
  if (current !== "" || expectSegment) flush();
  return segments;
}

function readBracket(
  path: string,
  start: number,
  fail: (why: string) => never,
): { segment: SelectorSegment; end: number } {
  const quote = path[start + 1];
  if (quote === '"' || quote === "'") {
    let key = "";
    let i = start + 2;
    while (i < path.length && path[i] !== quote) {
      if (path[i] === "\\" && i + 1 < path.length) i++;
      key += path[i];
      i++;
    }
    if (path[i] !== quote || path[i + 1] !== "]") fail(`unclosed bracket at position ${start}`);
    return { segment: key, end: i + 2 };
  }
  const close = path.indexOf("]", start);
  if (close < 0) fail(`unclosed bracket at position ${start}`);
  const inner = path.slice(start + 1, close).trim();
  if (!/^-?\d+$/.test(inner)) {
    fail(`brackets hold an index or a quoted key, got [${inner}]`);
  }
  return { segment: Number(inner), end: close + 1 };
}

/** Compiles a selector once for use on many values. */
export function compileSelector(path: string): Selector {
  const segments = parseSelector(path);
  if (segments.length === 0) return (value) => value;
  return (value) => selectSegments(value, segments);
}

/** Reads segments out of a value; `undefined` when any step is absent. */
export function selectSegments(value: unknown, segments: readonly SelectorSegment[]): unknown {
  let current: unknown = value;
  for (const segment of segments) {
    if (current === null || typeof current !== "object") return undefined;
    if (Array.isArray(current)) {
      if (typeof segment !== "number") return undefined;
      const index = segment < 0 ? current.length + segment : segment;
      if (index < 0 || index >= current.length) return undefined;
      current = current[index];
    } else {
      const key = String(segment);
      if (!Object.hasOwn(current, key)) return undefined;
      current = (current as Record<string, unknown>)[key];
    }
  }
  return current;
}

const cache = new Map<string, Selector>();

/**
 * Reads `path` out of `value` (compiled selectors are cached by path).
 * @example
 * ```ts
 * select({ data: [{ id: 1 }, { id: 2 }] }, "data.-1.id"); // 2
 * select([1, 2], ""); // [1, 2]
 * ```
 */
export function select(value: unknown, path: string): unknown {
  let selector = cache.get(path);
  if (!selector) {
    selector = compileSelector(path);
    if (cache.size > 1000) cache.clear();
    cache.set(path, selector);
  }
  return selector(value);
}

/** Checks a selector's syntax; returns the problem as a message or `undefined` when valid. */
export function checkSelector(path: string): string | undefined {
  try {
    parseSelector(path);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
