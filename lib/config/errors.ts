/**
 * Turns zod issues into {@link ConfigError} issues a person can act on: the field path as it is
 * written in the file (`assets[1].pagination.type`), what was expected and what was found
 * (`expected one of cursor, offset, …; got "cursr"`), every problem at once, unknown keys with a
 * "did you mean" suggestion. Secret fields never echo their value.
 * @module
 */
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "../core/errors.ts";

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

/** Options of {@link formatIssues} and {@link configErrorFromZod}. */
export interface FormatIssuesOptions {
  /** The schema that produced the issues (used to suggest known keys for typos). */
  schema?: z.ZodType;
  /** Field names whose values are never echoed. @default token, key, password, client_secret */
  secretFields?: readonly string[];
}

const SECRET_FIELDS = ["token", "key", "password", "client_secret"] as const;

/** Renders a path the way it reads in YAML: `assets[1].pagination.type`, `params["a b"]`. */
export function formatPath(path: readonly PathKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(String(key))) out += out ? `.${String(key)}` : String(key);
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** Short description of a found value for "got …". */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  return String(value);
}

/** Reads the value at `path` in the raw input (for "got …"). */
function valueAt(input: unknown, path: readonly PathKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

const TYPE_WORDS: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true/false",
  object: "a mapping (key: value)",
  array: "a list",
  record: "a mapping (key: value)",
};

/**
 * Converts zod issues to config issues, one per problem (an unknown-keys issue becomes one issue
 * per key), in the order zod found them.
 */
export function formatIssues(
  issues: readonly Issue[],
  input: unknown,
  options: FormatIssuesOptions = {},
): ConfigIssue[] {
  const secretFields = options.secretFields ?? SECRET_FIELDS;
  const out: ConfigIssue[] = [];
  const seen = new Set<string>();
  const push = (path: readonly PathKey[], message: string) => {
    const issue = { path: formatPath(path), message };
    const id = `${issue.path}\0${issue.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      out.push(issue);
    }
  };
  for (const issue of issues) {
    const found = valueAt(input, issue.path);
    const last = issue.path[issue.path.length - 1];
    const secret = typeof last === "string" && secretFields.includes(last) &&
      issue.path.includes("auth");
    const got = secret ? "a value (hidden: it is a secret)" : describeValue(found);
    if (issue.code === "unrecognized_keys") {
      const known = options.schema ? knownKeysAt(options.schema, issue.path, input) : [];
      for (const key of issue.keys) {
        push([...issue.path, key], unknownKeyMessage(key, known));
      }
      continue;
    }
    push(issue.path, issueMessage(issue, found, got));
  }
  return sortByFileOrder(out, issues, input);
}

/**
 * Orders issues as their fields appear in the input (YAML keeps key order), so the list reads
 * top to bottom like the file; fields that are missing sort after their present siblings.
 */
function sortByFileOrder(
  out: ConfigIssue[],
  issues: readonly Issue[],
  input: unknown,
): ConfigIssue[] {
  const rank = new Map<string, number[]>();
  for (const issue of issues) {
    const paths = issue.code === "unrecognized_keys"
      ? issue.keys.map((k) => [...issue.path, k])
      : [issue.path];
    for (const path of paths) rank.set(formatPath(path), positionOf(input, path));
  }
  const indexed = out.map((issue, i) => ({ issue, i, key: rank.get(issue.path) ?? [] }));
  indexed.sort((a, b) => compareKeys(a.key, b.key) || a.i - b.i);
  return indexed.map((x) => x.issue);
}

function positionOf(input: unknown, path: readonly PathKey[]): number[] {
  const key: number[] = [];
  let current = input;
  for (const segment of path) {
    if (current === null || typeof current !== "object") {
      key.push(Number.MAX_SAFE_INTEGER);
      break;
    }
    const index = Array.isArray(current)
      ? Number(segment)
      : Object.keys(current).indexOf(String(segment));
    key.push(index < 0 ? Number.MAX_SAFE_INTEGER : index);
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return key;
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

function issueMessage(issue: Issue, found: unknown, got: string): string {
  switch (issue.code) {
    case "invalid_type": {
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      if (found === undefined) return `missing; expected ${expected}`;
      return `expected ${expected}; got ${got}`;
    }
    case "invalid_value":
      return `expected ${
        issue.values.length === 1
          ? JSON.stringify(issue.values[0])
          : `one of ${issue.values.map(String).join(", ")}`
      }; got ${got}`;
    case "invalid_union": {
      // zod reports a discriminator miss with the accepted tags in `options` (not in its types).
      const tags = (issue as { options?: unknown[] }).options;
      if (issue.discriminator !== undefined && tags) {
        const choices = `one of ${tags.map(String).join(", ")}`;
        if (found === undefined) return `missing; expected ${choices}`;
        return `expected ${choices}; got ${got}`;
      }
      const expected = [
        ...new Set(
          issue.errors.flatMap((branch) =>
            branch.filter((e) => e.path.length === 0 && e.code === "invalid_type")
              .map((e) => TYPE_WORDS[(e as { expected: string }).expected] ?? "")
          ),
        ),
      ].filter(Boolean);
      if (expected.length) {
        const list = expected.length === 1
          ? expected[0]
          : `${expected.slice(0, -1).join(", ")} or ${expected[expected.length - 1]}`;
        return `expected ${list}; got ${got}`;
      }
      const nested = issue.errors.flat()[0];
      return nested ? issueMessage(nested, found, got) : `invalid value; got ${got}`;
    }
    case "too_small": {
      const min = Number(issue.minimum);
      if (issue.origin === "string") {
        return min <= 1 ? "must not be empty" : `must be at least ${min} characters; got ${got}`;
      }
      if (issue.origin === "array" || issue.origin === "set") {
        return `must list at least ${min} item${min === 1 ? "" : "s"}`;
      }
      return `must be ${issue.inclusive === false ? "above" : "at least"} ${min}; got ${got}`;
    }
    case "too_big": {
      const max = Number(issue.maximum);
      if (issue.origin === "string") return `must be at most ${max} characters`;
      if (issue.origin === "array" || issue.origin === "set") {
        return `must list at most ${max} items`;
      }
      return `must be ${issue.inclusive === false ? "below" : "at most"} ${max}; got ${got}`;
    }
    case "invalid_format": {
      if (issue.format === "url") {
        return `expected an http(s) URL like http://127.0.0.1:9000; got ${got}`;
      }
      // A message set in the schema (not zod's default "Invalid …") already says what is expected.
      if (!/^Invalid\b/.test(issue.message)) return `${issue.message}; got ${got}`;
      return `expected ${issue.format}; got ${got}`;
    }
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}; got ${got}`;
    case "invalid_key":
      return `invalid key; got ${got}`;
    case "invalid_element":
      return `invalid element; got ${got}`;
    case "custom":
      return issue.message;
  }
  return (issue as { message: string }).message;
}

function unknownKeyMessage(key: string, known: string[]): string {
  const guess = closest(key, known);
  if (guess) return `unknown field; did you mean "${guess}"?`;
  if (known.length) return `unknown field; expected one of ${known.join(", ")}`;
  return "unknown field; remove it or check its spelling";
}

/** The known key nearest to `key` by edit distance, when near enough to be a typo. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(key.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j] + 1,
        row[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length];
}

// deno-lint-ignore no-explicit-any -- walking zod's internal definitions, which are untyped here
type AnySchema = any;

function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (let guard = 0; guard < 20 && s?._zod?.def; guard++) {
    const def = s._zod.def;
    if (
      ["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"]
        .includes(def.type)
    ) s = def.innerType;
    else if (def.type === "pipe") s = def.in?._zod?.def?.type === "transform" ? def.out : def.in;
    else break;
  }
  return s;
}

/** The keys a strict object accepts at `path` (for "did you mean"), following the input's union branch. */
function knownKeysAt(schema: z.ZodType, path: readonly PathKey[], input: unknown): string[] {
  let s: AnySchema = schema;
  for (let i = 0; i <= path.length; i++) {
    s = unwrap(s);
    const def = s?._zod?.def;
    if (!def) return [];
    if (def.type === "union") {
      const value = valueAt(input, path.slice(0, i));
      s = pickBranch(def, value);
      if (!s) return [];
      s = unwrap(s);
    }
    if (i === path.length) break;
    const key = path[i];
    const d = s._zod.def;
    if (d.type === "object") s = d.shape[key as string];
    else if (d.type === "array") s = d.element;
    else if (d.type === "record") s = d.valueType;
    else return [];
  }
  const d = unwrap(s)?._zod?.def;
  return d?.type === "object" ? Object.keys(d.shape) : [];
}

function pickBranch(def: AnySchema, value: unknown): AnySchema {
  const options: AnySchema[] = def.options ?? [];
  if (def.discriminator && value && typeof value === "object") {
    const tag = (value as Record<string, unknown>)[def.discriminator];
    const match = options.find((o) => {
      const shape = unwrap(o)?._zod?.def?.shape;
      const lit = shape?.[def.discriminator]?._zod?.def;
      return lit?.values?.includes(tag);
    });
    if (match) return match;
  }
  return options.find((o) => unwrap(o)?._zod?.def?.type === "object");
}

/** Options of {@link configErrorFromZod}. */
export interface ConfigErrorOptions extends FormatIssuesOptions {
  /** Where the config came from, for the summary line (a file path, or `flags`). @default "config" */
  source?: string;
}

/** Builds the {@link ConfigError} for a failed parse, listing every problem. */
export function configErrorFromZod(
  error: z.ZodError,
  input: unknown,
  options: ConfigErrorOptions = {},
): ConfigError {
  const issues = formatIssues(error.issues, input, options);
  return invalidConfig(issues, options.source);
}

/** A {@link ConfigError} with the standard summary line for a list of issues. */
export function invalidConfig(issues: ConfigIssue[], source = "config"): ConfigError {
  const n = issues.length;
  return new ConfigError(`invalid ${source}: ${n} problem${n === 1 ? "" : "s"}`, issues);
}
