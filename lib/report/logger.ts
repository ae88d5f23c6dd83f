/**
 * Structured logs: one record per event with the fields `ts, level, run_id, asset, page, event,
 * status, attempt, wait_ms, msg` (always present, `null` when not applicable, plus any extra
 * fields). On a terminal they print as readable lines; otherwise, or with `format: "json"`, as
 * JSON lines. They go to stderr and optionally to a size-rotated file with its own level
 * (errors to `logs/app.log`). Every line passes the redactor first: no known secret
 * and no credential pattern reaches a terminal or a file.
 * @module
 */
import { z } from "zod";
import { redactText } from "../core/redact.ts";
import { RotatingFile, type RotatingFileOptions } from "./rotating_file.ts";

/** Log levels, least severe first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

const nullableText = z.string().nullable();

/** One log record as written in JSON-lines form. */
export const logRecordSchema = z.looseObject({
  ts: z.iso.datetime(),
  level: z.enum(LOG_LEVELS),
  run_id: nullableText,
  asset: nullableText,
  page: z.int().nullable(),
  event: z.string().min(1),
  status: z.int().nullable(),
  attempt: z.int().nullable(),
  wait_ms: z.number().nullable(),
  msg: z.string(),
});
/** One log record. */
export type LogRecord = z.infer<typeof logRecordSchema>;

/** Fields of one log call; any extra field is written too. */
export interface LogFields {
  /** The asset concerned. */
  asset?: string | null;
  /** The page concerned. */
  page?: number | null;
  /** HTTP status. */
  status?: number | null;
  /** Attempt number. */
  attempt?: number | null;
  /** Milliseconds about to be waited (backoff, Retry-After, rate limiter). */
  wait_ms?: number | null;
  /** Human message. */
  msg?: string;
  /** Extra context (`url`, `rows`, ...). */
  [extra: string]: unknown;
}

/** Something log lines can be written to synchronously (stderr by default). */
export interface LogOutput {
  /** Writes bytes, returning how many were written. */
  writeSync(bytes: Uint8Array): number;
  /** Whether it is a terminal (decides the `auto` format). */
  isTerminal(): boolean;
}

/** A log file: path, rotation and its own minimum level. */
export interface LogFileOptions extends RotatingFileOptions {
  /** The live log file, e.g. `logs/app.log`. */
  path: string;
  /** Minimum level written to the file. @default the logger's level */
  level?: LogLevel;
  /** Line format in the file. @default "json" */
  format?: "json" | "human";
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** `auto`: human on a terminal, JSON lines otherwise. @default "auto" */
  format?: "auto" | "json" | "human";
  /** Minimum level printed to stderr. @default "info" */
  level?: LogLevel;
  /** The run every record belongs to. @default null */
  runId?: string | null;
  /** Secret values masked in every line. @default [] */
  secrets?: Iterable<string>;
  /** Where lines go; `null` for nowhere (file only). @default Deno.stderr */
  output?: LogOutput | null;
  /** Also write to this file, rotated by size. @default none */
  file?: LogFileOptions;
  /** Epoch-ms clock for `ts`. @default Date.now */
  clock?: () => number;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const LEVEL_COLOR: Record<LogLevel, string> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};

/** The outputs a logger and its children share (built by {@link createLogger}). */
export interface LoggerSinks {
  output: LogOutput | null;
  outputFormat: "json" | "human";
  color: boolean;
  level: LogLevel;
  file: RotatingFile | null;
  fileLevel: LogLevel;
  fileFormat: "json" | "human";
  secrets: Set<string>;
  clock: () => number;
  runId: string | null;
}

/** Formats a record as one readable line: `10:15:00.120 INFO  Orders p7 page.fetched …`. */
export function formatHumanLine(record: LogRecord, color = false): string {
  const time = record.ts.slice(11, 23);
  const level = record.level.toUpperCase().padEnd(5);
  const where = [record.asset, record.page !== null ? `p${record.page}` : null]
    .filter((x) => x !== null).join(" ");
  const facts = [
    record.status !== null ? `${record.status}` : null,
    record.attempt !== null ? `attempt ${record.attempt}` : null,
    record.wait_ms !== null ? `wait ${Math.round(record.wait_ms)}ms` : null,
  ].filter((x) => x !== null).join(" ");
  const known = new Set(Object.keys(logRecordSchema.shape));
  const extra = Object.entries(record).filter(([k]) => !known.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
  const head = color ? `${LEVEL_COLOR[record.level]}${level}\x1b[0m` : level;
  return [time, head, where, record.event, facts, record.msg ? `— ${record.msg}` : "", extra]
    .filter((p) => p !== "").join(" ");
}

/**
 * A structured logger. Children (`child({ asset })`) share its outputs and add context.
 */
export class Logger {
  readonly #sinks: LoggerSinks;
  readonly #context: LogFields;

  /** Use {@link createLogger}; this is how children share their parent's outputs. */
  constructor(sinks: LoggerSinks, context: LogFields = {}) {
    this.#sinks = sinks;
    this.#context = context;
  }

  /** A logger that adds `context` (e.g. `{ asset: "Orders" }`) to every record. */
  child(context: LogFields): Logger {
    return new Logger(this.#sinks, { ...this.#context, ...context });
  }

  /** Masks `secret` from now on too (e.g. a token obtained by a login). */
  addSecret(secret: string): void {
    this.#sinks.secrets.add(secret);
  }

  /** Logs a debug record. */
  debug(event: string, fields: LogFields = {}): void {
    this.log("debug", event, fields);
  }

  /** Logs an info record. */
  info(event: string, fields: LogFields = {}): void {
    this.log("info", event, fields);
  }

  /** Logs a warning record. */
  warn(event: string, fields: LogFields = {}): void {
    this.log("warn", event, fields);
  }

  /** Logs an error record. */
  error(event: string, fields: LogFields = {}): void {
    this.log("error", event, fields);
  }

  /** Logs one record at `level` for `event`. */
  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    const s = this.#sinks;
    const toOutput = s.output !== null && LEVEL_RANK[level] >= LEVEL_RANK[s.level];
    const toFile = s.file !== null && LEVEL_RANK[level] >= LEVEL_RANK[s.fileLevel];
    if (!toOutput && !toFile) return;
    const merged = { ...this.#context, ...fields };
    const { asset, page, status, attempt, wait_ms, msg, ...extra } = merged;
    const record: LogRecord = {
      ts: new Date(s.clock()).toISOString(),
      level,
      run_id: s.runId,
      asset: asset ?? null,
      page: page ?? null,
      event,
      status: status ?? null,
      attempt: attempt ?? null,
      wait_ms: wait_ms ?? null,
      msg: msg ?? "",
      ...extra,
    };
    const render = (format: "json" | "human", color: boolean) =>
      redactText(
        format === "json" ? jsonLine(record) : formatHumanLine(record, color),
        s.secrets,
      ) + "\n";
    if (toOutput) writeAll(s.output!, render(s.outputFormat, s.color));
    if (toFile) s.file!.write(render(s.fileFormat, false));
  }

  /** Closes the log file, if any. */
  close(): void {
    this.#sinks.file?.close();
  }
}

function jsonLine(record: LogRecord): string {
  return JSON.stringify(record, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

function writeAll(output: LogOutput, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += output.writeSync(bytes.subarray(written));
}

/**
 * A logger for a run.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * const log = createLogger({
 *   runId: "20261123T101500Z-3fa9c1",
 *   secrets: [Deno.env.get("API_TOKEN") ?? ""],
 *   file: { path: "logs/app.log", level: "error", maxBytes: 1_000_000, keep: 3 },
 * });
 * log.child({ asset: "Orders" }).warn("http.retry", { page: 7, status: 503, attempt: 2, wait_ms: 812 });
 * log.close();
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const output = options.output === undefined ? Deno.stderr : options.output;
  const terminal = output?.isTerminal() ?? false;
  const format = options.format ?? "auto";
  const level = options.level ?? "info";
  const sinks: LoggerSinks = {
    output,
    outputFormat: format === "auto" ? (terminal ? "human" : "json") : format,
    color: terminal && format !== "json" && !Deno.noColor,
    level,
    file: options.file ? new RotatingFile(options.file.path, options.file) : null,
    fileLevel: options.file?.level ?? level,
    fileFormat: options.file?.format ?? "json",
    secrets: new Set([...(options.secrets ?? [])].filter((s) => s.length > 0)),
    clock: options.clock ?? Date.now,
    runId: options.runId ?? null,
  };
  return new Logger(sinks);
}
