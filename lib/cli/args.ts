/**
 * Command-line parsing shared by every `tidemark` command: a declarative flag spec, strict
 * parsing through `node:util` `parseArgs`, and one-line errors that name the bad flag and what is
 * accepted (exit code 2 through {@link UsageError}).
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "../core/errors.ts";

/** One flag of a command. */
export interface FlagSpec {
  /** `string` flags take a value; `boolean` flags do not. */
  type: "string" | "boolean";
  /** One-letter alias. */
  short?: string;
  /** The flag may repeat; its values come back as an array. */
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `N` or `FILE`. */
  value?: string;
  /** One-line description for `--help`. */
  description: string;
  /** Default shown in help (the command applies it itself). */
  default?: string;
}

/** A command's name, usage and flags; drives parsing and `--help`. */
export interface CommandSpec {
  /** Command name as typed: `serve`, `harvest`, ... */
  name: string;
  /** One-line summary for `tidemark --help`. */
  summary: string;
  /** Usage line(s) after `tidemark `. */
  usage: string;
  /** Flags by long name (without `--`). `help` is added automatically. */
  flags: Record<string, FlagSpec>;
  /** Extra help text printed after the flag list. */
  details?: string;
}

/** A runnable CLI command. */
export interface Command {
  /** Its spec (name, flags, help). */
  spec: CommandSpec;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** Parsed flags: string, boolean or string[] per flag, plus positionals. */
export interface ParsedFlags {
  /** Flag values by long name. */
  values: Record<string, string | boolean | string[] | undefined>;
  /** Positional arguments, in order. */
  positionals: string[];
}

/** Parses `args` strictly against `spec`; throws {@link UsageError} naming the bad flag. */
export function parseFlags(spec: CommandSpec, args: string[]): ParsedFlags {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = { help: { type: "boolean", short: "h" } };
  for (const [name, flag] of Object.entries(spec.flags)) {
    options[name] = {
      type: flag.type,
      ...(flag.short ? { short: flag.short } : {}),
      ...(flag.multiple ? { multiple: true } : {}),
    };
  }
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(spec, args),
      options,
      strict: true,
      allowPositionals: true,
    });
    return { values: values as ParsedFlags["values"], positionals };
  } catch (error) {
    throw new UsageError(describeParseError(spec, error as Error));
  }
}

/** Joins `--flag -1` into `--flag=-1` for string flags, so negative numbers reach validation. */
function joinNegativeValues(spec: CommandSpec, args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : undefined;
    const next = args[i + 1];
    if (
      name !== undefined && spec.flags[name]?.type === "string" && next !== undefined &&
      /^-\d/.test(next)
    ) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

function describeParseError(spec: CommandSpec, error: Error): string {
  const accepted = Object.keys(spec.flags).map((f) => `--${f}`).join(", ") || "(none)";
  const unknown = /Unknown option '([^']+)'/.exec(error.message);
  if (unknown) {
    return `unknown flag ${unknown[1]} for 'tidemark ${spec.name}'; accepted: ${accepted}`;
  }
  const missing = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(error.message);
  if (missing) return `flag ${missing[1]} of 'tidemark ${spec.name}' needs a value`;
  return `bad arguments for 'tidemark ${spec.name}': ${error.message}`;
}

/** Renders `--help` text for a command from its spec. */
export function formatHelp(spec: CommandSpec): string {
  const rows = Object.entries(spec.flags).map(([name, flag]) => {
    const left = `  ${flag.short ? `-${flag.short}, ` : ""}--${name}${
      flag.type === "string" ? ` ${flag.value ?? "VALUE"}` : ""
    }`;
    const def = flag.default !== undefined ? ` (default: ${flag.default})` : "";
    return `${left.padEnd(30)} ${flag.description}${def}`;
  });
  rows.push(`${"  -h, --help".padEnd(30)} show this help`);
  return [
    `tidemark ${spec.name} — ${spec.summary}`,
    "",
    `Usage: tidemark ${spec.usage}`,
    "",
    "Options:",
    ...rows,
    ...(spec.details ? ["", spec.details] : []),
  ].join("\n");
}

/** Reads a string flag; `undefined` when absent. Throws when the flag repeated unexpectedly. */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags.values[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new UsageError(`flag --${name} takes one value`);
  return v;
}

/** Reads a repeatable string flag as an array (empty when absent). */
export function listFlag(flags: ParsedFlags, name: string): string[] {
  const v = flags.values[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [String(v)];
}

/** Reads a boolean flag. */
export function booleanFlag(flags: ParsedFlags, name: string): boolean {
  return flags.values[name] === true;
}

/** Bounds accepted by {@link intFlag}. */
export interface IntFlagOptions {
  /** Smallest accepted value. @default Number.MIN_SAFE_INTEGER */
  min?: number;
  /** Largest accepted value. @default Number.MAX_SAFE_INTEGER */
  max?: number;
}

/** Reads an integer flag, refusing non-integers and values out of range. */
export function intFlag(
  flags: ParsedFlags,
  name: string,
  options: IntFlagOptions = {},
): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  return parseIntValue(text, `--${name}`, options);
}

/** Parses an integer value named `what`, with bounds; throws {@link UsageError}. */
export function parseIntValue(text: string, what: string, options: IntFlagOptions = {}): number {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  if (!/^-?\d+$/.test(text.trim())) {
    throw new UsageError(`${what} must be a whole number, got "${text}"`);
  }
  const n = Number(text);
  if (n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    throw new UsageError(`${what} must be ${range}, got ${n}`);
  }
  return n;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration like `30s`, `2m`, `500ms`, `1h` or bare seconds (`45`) into milliseconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) {
    throw new UsageError(`${what} must be a duration like 30s, 2m, 500ms or 1h, got "${text}"`);
  }
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? "s"]);
}

/** Refuses a value that is not one of `choices`, naming what is accepted. */
export function choiceValue<T extends string>(
  text: string,
  what: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`${what} must be one of ${choices.join(", ")}, got "${text}"`);
  }
  return text as T;
}
