/**
 * `manifest.jsonl`: one JSON line per response a run received (HTTP) or per part it wrote
 * (SQL), with the fields of docs/design.md §3. The schema here is the single source of that shape;
 * {@link ManifestWriter} refuses a record that breaks it or carries a known secret, and
 * {@link readManifest} streams the file back, skipping (and reporting) a last line torn by a
 * crash.
 * @module
 */
import { concatBytes } from "../core/bytes.ts";
import { z } from "zod";
import { appendLineDurable } from "../core/atomic_file.ts";
import { VerifyError } from "../core/errors.ts";
import type { HttpAttempt } from "../http/request.ts";
import { resolveOutPath } from "./snapshot.ts";
import { PARSE_ONCE } from "../core/parse_once.ts";

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lower-case hex digits (sha256)");
const relativePath = z.string().min(1).refine((p) => {
  try {
    resolveOutPath(".", p);
    return true;
  } catch {
    return false;
  }
}, "expected a /-separated path relative to the out folder, without . or .. parts");
const count = z.int().min(0);
const cursor = z.union([z.string(), z.number()]).nullable();

/** The versions a record was written with (see `envStamp()`). */
export const envStampSchema = z.looseObject({
  deno: z.string().min(1),
  tidemark: z.string().min(1),
  v8: z.string().optional(),
  os: z.string().optional(),
});

/**
 * One attempt of a request, for `attempt_history`: the shape of `HttpAttempt` (lib/http) in the
 * manifest's snake_case. It lets reports show every retry and wait, not only the final response.
 */
export const attemptEntrySchema = z.strictObject({
  /** 1-based attempt number. */
  attempt: z.int().min(1),
  /** When it was sent (after the rate limiter let it go), UTC ISO-8601. */
  started_at: z.iso.datetime(),
  /** How it ended: `http` (a status arrived), `timeout`, `reset`, `truncated`, `network`. */
  kind: z.enum(["http", "timeout", "reset", "truncated", "network"]),
  /** HTTP status, when a response arrived. */
  status: z.int().min(100).max(599).nullable().default(null),
  /** Milliseconds from sending to the end of the body or the failure. */
  elapsed_ms: z.number().min(0),
  /** Milliseconds the client rate limiter held it before sending. */
  queued_ms: z.number().min(0).default(0),
  /** Milliseconds slept after it, before the next attempt. */
  slept_ms: z.number().min(0).default(0),
  /** The header that decided that wait (`Retry-After`, ...), absent for plain backoff. */
  wait_header: z.string().optional(),
  /** The failure, redacted, for kinds other than `http`. */
  error: z.string().optional(),
});
/** One entry of `attempt_history`. */
export type AttemptEntry = z.infer<typeof attemptEntrySchema>;

/** Converts the HTTP layer's attempts (`HttpResult.attempts`) to `attempt_history` entries. */
export function attemptHistory(attempts: readonly HttpAttempt[]): AttemptEntry[] {
  return attempts.map((a) => ({
    attempt: a.attempt,
    started_at: new Date(a.startedAt).toISOString(),
    kind: a.kind,
    status: a.status ?? null,
    elapsed_ms: a.elapsedMs,
    queued_ms: a.queuedMs,
    slept_ms: a.sleptMs,
    ...(a.waitHeader ? { wait_header: a.waitHeader } : {}),
    ...(a.error ? { error: a.error } : {}),
  }));
}

/**
 * One manifest line. HTTP lines (`kind: "http"`) describe one response: the request (method,
 * source URL without secrets, params), how it went (status, attempts, waits), what was kept
 * (snapshot path, sha256, bytes) and what it became (rows, output parts). SQL lines
 * (`kind: "sql"`) describe one part written by the extractor: the query hash, bound params,
 * partition and the part's own sha256.
 */
export const manifestRecordSchema = z.strictObject({
  /**
   * `http`: a response; `sql`: a part of a SQL extraction; `event`: a step of an asset's output
   * that no response carries (see `event`), so the manifest alone tells what the outputs hold.
   */
  kind: z.enum(["http", "sql", "event"]),
  /** The run that made this line (`newRunId()`); also a folder name under `raw/<asset>/`. */
  run_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "expected a path-safe run id"),
  /** The asset's name as configured (not path-encoded). */
  asset: z.string().min(1),
  /** Page (HTTP) or chunk (SQL) number, unique within (run_id, asset). */
  page: count,
  /** The attempt that produced this response, 1 for the first. */
  attempt: z.int().min(1).default(1),
  /** When the final attempt was sent, UTC ISO-8601 with milliseconds. */
  timestamp: z.iso.datetime(),
  /** HTTP method (`GET`, `POST`); `SQL` for SQL parts. */
  method: z.string().min(1).default("GET"),
  /** URL without query string or secrets (HTTP), or the database without credentials (SQL). */
  source: z.string().min(1),
  /** Query parameters sent (HTTP) or bound parameters (SQL), secrets excluded. */
  params: z.union([z.record(z.string(), z.json()), z.array(z.json())]).default({}),
  /** HTTP status of the response; `null` for SQL parts. */
  status: z.int().min(100).max(599).nullable(),
  /** Attempts made for this page in total (retries + 1). */
  attempts: z.int().min(1).default(1),
  /** The server's last requested wait in seconds (Retry-After or reset header), if any. */
  retry_after: z.number().min(0).nullable().default(null),
  /** Milliseconds slept before this response (backoff and rate-limit waits). */
  slept_ms: z.number().min(0).default(0),
  /** Milliseconds the final attempt took (HTTP) or the part took to write (SQL). */
  elapsed_ms: z.number().min(0),
  /** sha256 of the snapshot bytes (HTTP); `null` when nothing was kept (a 304, a SQL part). */
  sha256: hex64.nullable(),
  /** Size of the snapshot (HTTP) or of the part (SQL), in bytes. */
  bytes: count,
  /** Records this page or part yielded. */
  rows: count,
  /** Cursor this page was requested with (`null` for the first page). */
  cursor_in: cursor.default(null),
  /** Cursor for the next page (`null` at the end). */
  cursor_out: cursor.default(null),
  /** The watermark the run started from, if incremental. */
  watermark_in: z.union([z.string(), z.number()]).nullable().default(null),
  /** Snapshot path relative to the out folder: `raw/<asset>/<run_id>/<page:05d>.json`. */
  snapshot: relativePath.nullable(),
  /** Output part(s) the rows went to, relative to the out folder; `null` when none. */
  output: z.union([relativePath, z.array(relativePath)]).nullable(),
  /** `true` for a 304 Not Modified: nothing changed, nothing written. */
  unchanged: z.boolean().optional(),
  /** Every attempt made for this response, in order (optional; the last one is this response). */
  attempt_history: z.array(attemptEntrySchema).optional(),
  /** Object-storage URL(s) of the uploaded output(s). */
  object_url: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  /** Auth by alias only (`bearer:token-alias`), never the secret; `null` for none. */
  auth: z.string().min(1).nullable().default(null),
  /** sha256 of the config (`configSha256()`). */
  config_sha256: hex64,
  /** Versions (`envStamp()`). */
  env: envStampSchema,
  /** Partition of the asset this page belongs to (key range, date window), if partitioned. */
  partition: z.string().nullable().optional(),
  /** SQL: sha256 of the query text. */
  query_sha256: hex64.optional(),
  /** SQL parts and events: sha256 of each output file, in the order of `output`. */
  part_sha256: z.union([hex64, z.array(hex64)]).optional(),
  /**
   * Events: `plan` (a new harvest of the asset starts; `boundary` holds the previous boundary its
   * de-duplication drops), `complete` (the asset completed; after `replace`/`merge` `output`
   * lists the files the asset now holds, superseding every earlier output line of the asset),
   * `discard` (the pages of `discarded` snapshots were never committed: their parts were
   * deleted and the pages fetched again), `derive` (a derived dataset was rebuilt whole),
   * `probe` (a response the run asked for to plan the asset, not a page: its snapshot, status and
   * attempts are recorded like a page's, its records are not written; see `probe`).
   */
  event: z.enum(["plan", "complete", "discard", "derive", "probe"]).optional(),
  /**
   * `probe` events: what was asked. `key_min` / `key_max`: the smallest / largest
   * `partition.by` key (one sorted, size-1 request each); `latest`: the newest record, for
   * `change_detection: latest`; `changed`: a page of the last walk that no longer answered 304.
   */
  probe: z.enum(["key_min", "key_max", "latest", "changed"]).optional(),
  /** `plan` events: the boundary of the previous harvest (lib/harvest/watermark_tracker.ts), or null. */
  boundary: z.json().optional(),
  /** `complete` events: the asset's write mode. */
  mode: z.enum(["append", "replace", "merge"]).optional(),
  /** `discard` events: snapshots whose lines describe pages that were fetched again. */
  discarded: z.array(relativePath).optional(),
}).superRefine((r, ctx) => {
  if (r.kind === "http" && r.status === null) {
    ctx.addIssue({ code: "custom", path: ["status"], message: "an http record needs its status" });
  }
  if (r.kind === "sql" && r.query_sha256 === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["query_sha256"],
      message: "a sql record needs query_sha256 (sha256Hex of the query text)",
    });
  }
  if (r.kind === "event" && r.event === undefined) {
    ctx.addIssue({ code: "custom", path: ["event"], message: "an event record needs its event" });
  }
  if (r.event === "probe" && r.probe === undefined) {
    ctx.addIssue({ code: "custom", path: ["probe"], message: "a probe event needs its probe" });
  }
  if (r.snapshot !== null && r.sha256 === null) {
    ctx.addIssue({ code: "custom", path: ["sha256"], message: "a snapshot needs its sha256" });
  }
});

/** One manifest line as read back (defaults applied). */
export type ManifestRecord = z.infer<typeof manifestRecordSchema>;
/** One manifest line as a writer passes it (fields with defaults may be left out). */
export type ManifestRecordInput = z.input<typeof manifestRecordSchema>;

/** The output paths of a record as a list (`output` may be one path, several, or `null`). */
export function outputsOf(record: Pick<ManifestRecord, "output">): string[] {
  if (record.output === null) return [];
  return Array.isArray(record.output) ? record.output : [record.output];
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(record)"}: ${i.message}`)
    .join("; ");
}

/** Validates one record against the schema; throws {@link VerifyError} naming every bad field. */
export function parseManifestRecord(value: unknown): ManifestRecord {
  // The lines a writer checks are its few event lines (pages are built complete, unchecked).
  const result = manifestRecordSchema.safeParse(value, PARSE_ONCE);
  if (!result.success) {
    throw new VerifyError(`manifest record refused: ${describeIssues(result.error)}`);
  }
  return result.data;
}

/** A last line left incomplete by a crash: skipped by readers, trimmed by the next writer. */
export interface TornLine {
  /** 1-based line number. */
  line: number;
  /** Its text (at most the first 200 characters). */
  text: string;
}

/** Options of {@link ManifestWriter.appendAll}. */
export interface AppendOptions {
  /**
   * The records are complete by construction (every field set, built from typed values), so the
   * schema parse — the costliest part of an append — is skipped; the secret and snapshot checks
   * still run. The harvest engine's page lines are; its tests re-parse every line it writes.
   * @default false
   */
  complete?: boolean;
}

/** Options of {@link ManifestWriter}. */
export interface ManifestWriterOptions {
  /**
   * Secret values (tokens, passwords, keys) that must never reach the manifest; a record
   * containing one, raw, JSON-escaped or URL-encoded, is refused.
   * @default []
   */
  secrets?: Iterable<string>;
  /**
   * Check that the record's snapshot is on disk with the recorded size before appending (the
   * line may only follow a durable snapshot).
   * @default true
   */
  checkSnapshot?: boolean;
  /** Called when a torn last line left by a crash is trimmed. @default reports on stderr */
  onTornLine?: (torn: TornLine) => void;
  /**
   * Awaited before each write (made idempotent by the caller): a run stamps its config and
   * records itself only once it writes its first line.
   */
  beforeWrite?: () => Promise<void>;
}

function secretForms(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])];
}

function reportTorn(path: string): (torn: TornLine) => void {
  return (torn) =>
    console.warn(
      `tidemark: ${path}: line ${torn.line} is incomplete (a crash mid-write); skipped`,
    );
}

/**
 * Appends records to `<out>/manifest.jsonl`, one durable line each (written and fsynced before
 * `append` resolves). Appends are serialized, so concurrent workers may share one writer.
 *
 * @example
 * ```ts
 * import { ManifestWriter } from "./manifest.ts";
 * const manifest = new ManifestWriter("demo-out", { secrets: [Deno.env.get("API_TOKEN") ?? ""] });
 * // after `await snapshots.write(...)`:
 * // await manifest.append({ kind: "http", run_id, asset, page, ... });
 * ```
 */
export class ManifestWriter {
  /** The out folder. */
  readonly out: string;
  /** The manifest file: `<out>/manifest.jsonl`. */
  readonly path: string;
  #secrets: string[];
  #checkSnapshot: boolean;
  #onTornLine: (torn: TornLine) => void;
  #queue: Promise<unknown> = Promise.resolve();
  #repaired = false;
  #beforeWrite: () => Promise<void>;

  /** A writer for the manifest of the out folder `out`. */
  constructor(out: string, options: ManifestWriterOptions = {}) {
    this.out = out;
    this.path = resolveOutPath(out, "manifest.jsonl");
    this.#secrets = [...(options.secrets ?? [])].filter((s) => s.length > 0).flatMap(
      secretForms,
    );
    this.#checkSnapshot = options.checkSnapshot ?? true;
    this.#onTornLine = options.onTornLine ?? reportTorn(this.path);
    this.#beforeWrite = options.beforeWrite ?? (() => Promise.resolve());
  }

  /**
   * Validates `record`, refuses it if it carries a secret or its snapshot is not on disk, and
   * appends it as one line. Resolves to the record as written (defaults applied).
   */
  append(record: ManifestRecordInput): Promise<ManifestRecord> {
    const next = this.#queue.then(() => this.#append(record));
    this.#queue = next.catch(() => {});
    return next;
  }

  /**
   * Appends several records in one write and one flush, all or none (each checked as
   * {@link ManifestWriter.append} checks it): the lines of pages committed together, so a crash
   * cannot leave some of them without the others. Resolves to the records as written.
   */
  appendAll(
    records: readonly ManifestRecordInput[],
    options: AppendOptions = {},
  ): Promise<ManifestRecord[]> {
    const next = this.#queue.then(() => this.#appendAll(records, options.complete ?? false));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #appendAll(
    inputs: readonly ManifestRecordInput[],
    complete: boolean,
  ): Promise<ManifestRecord[]> {
    const records: ManifestRecord[] = [];
    const lines: string[] = [];
    for (const input of inputs) {
      const record = await this.#check(input, complete);
      records.push(record);
      lines.push(JSON.stringify(record));
    }
    if (lines.length === 0) return records;
    await this.#beforeWrite();
    if (!this.#repaired) {
      await trimTornTail(this.path, this.#onTornLine);
      this.#repaired = true;
    }
    await appendLineDurable(this.path, lines.join("\n"));
    return records;
  }

  async #append(input: ManifestRecordInput): Promise<ManifestRecord> {
    const record = await this.#check(input);
    const line = JSON.stringify(record);
    await this.#beforeWrite();
    if (!this.#repaired) {
      await trimTornTail(this.path, this.#onTornLine);
      this.#repaired = true;
    }
    await appendLineDurable(this.path, line);
    return record;
  }

  /** Validates a record and refuses a secret or a snapshot not on disk. */
  async #check(input: ManifestRecordInput, complete = false): Promise<ManifestRecord> {
    const record = complete ? input as ManifestRecord : parseManifestRecord(input);
    // Hashes are computed hex and carry no secret; leaving them out of the search keeps a short
    // secret from matching a digest by chance and refusing a good record.
    const { sha256: _s, config_sha256: _c, query_sha256: _q, part_sha256: _p, ...searched } =
      record;
    const text = JSON.stringify(searched);
    for (const secret of this.#secrets) {
      if (text.includes(secret)) {
        throw new VerifyError(
          `manifest record refused: asset "${record.asset}" page ${record.page} contains a ` +
            "secret value; record auth by alias and strip secrets from URLs and params",
        );
      }
    }
    if (this.#checkSnapshot && record.snapshot !== null) {
      const stat = await Deno.stat(resolveOutPath(this.out, record.snapshot)).catch(() => null);
      if (stat === null || stat.size !== record.bytes) {
        throw new VerifyError(
          `manifest record refused: snapshot ${record.snapshot} is ${
            stat === null ? "missing" : `${stat.size} bytes, not ${record.bytes}`
          }; write it with SnapshotStore.write and await it before appending its line`,
        );
      }
    }
    return record;
  }
}

/**
 * Before the first append: if the file does not end with a newline, its last line was cut by a
 * crash. A complete, valid record only lacks its newline and gets one; anything else is cut off,
 * so the next line does not glue onto it. Nothing that was acknowledged is lost: `append`
 * resolves only after the newline is on disk.
 */
async function trimTornTail(path: string, onTornLine: (torn: TornLine) => void): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  try {
    const size = (await file.stat()).size;
    if (size === 0) return;
    // Scan backwards for the last newline, in blocks, without reading the whole file.
    const block = new Uint8Array(64 * 1024);
    let end = size;
    let lastNewline = -1;
    let tail: Uint8Array[] = [];
    while (end > 0 && lastNewline < 0) {
      const start = Math.max(0, end - block.length);
      await file.seek(start, Deno.SeekMode.Start);
      const chunk = block.subarray(0, end - start);
      let read = 0;
      while (read < chunk.length) {
        const n = await file.read(chunk.subarray(read));
        if (n === null) break;
        read += n;
      }
      const i = chunk.lastIndexOf(0x0a);
      if (start + i === size - 1 && end === size) return; // ends with a newline: intact
      if (i >= 0) {
        lastNewline = start + i;
        tail = [chunk.slice(i + 1), ...tail];
      } else {
        tail = [chunk.slice(), ...tail];
      }
      end = start;
    }
    const text = new TextDecoder().decode(concatBytes(tail));
    const lineNumber = await countLines(path, lastNewline + 1) + 1;
    if (isValidRecordText(text)) {
      await file.seek(0, Deno.SeekMode.End);
      await file.write(new Uint8Array([0x0a]));
    } else {
      await file.truncate(lastNewline + 1);
      onTornLine({ line: lineNumber, text: text.slice(0, 200) });
    }
    await file.sync();
  } finally {
    file.close();
  }
}

async function countLines(path: string, limit: number): Promise<number> {
  if (limit === 0) return 0;
  const file = await Deno.open(path, { read: true });
  try {
    const buffer = new Uint8Array(1 << 18);
    let seen = 0;
    let lines = 0;
    while (seen < limit) {
      const n = await file.read(buffer.subarray(0, Math.min(buffer.length, limit - seen)));
      if (n === null) break;
      for (let i = 0; i < n; i++) if (buffer[i] === 0x0a) lines++;
      seen += n;
    }
    return lines;
  } finally {
    file.close();
  }
}

function isValidRecordText(text: string): boolean {
  try {
    return manifestRecordSchema.safeParse(JSON.parse(text)).success;
  } catch {
    return false;
  }
}

/** Options of {@link readManifest}. */
export interface ReadManifestOptions {
  /** Called for a torn last line, which is skipped. @default reports on stderr */
  onTornLine?: (torn: TornLine) => void;
}

/**
 * Streams the records of a manifest file in order, with their 1-based line numbers. A last
 * line without its newline that does not parse is a crash's torn write: it is skipped and
 * passed to `onTornLine`. Any other bad line throws {@link VerifyError} naming its line number.
 * Blank lines are ignored. A missing file yields nothing.
 *
 * @example
 * ```ts
 * import { readManifest } from "./manifest.ts";
 * for await (const { line, record } of readManifest("demo-out/manifest.jsonl")) {
 *   console.log(line, record.snapshot, record.sha256);
 * }
 * ```
 */
export async function* readManifest(
  path: string,
  options: ReadManifestOptions = {},
): AsyncGenerator<{ line: number; record: ManifestRecord }> {
  const onTornLine = options.onTornLine ?? reportTorn(path);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(1 << 18);
  let pending = "";
  let lineNumber = 0;
  try {
    for (;;) {
      const n = await file.read(buffer);
      if (n === null) break;
      pending += decoder.decode(buffer.subarray(0, n), { stream: true });
      let start = 0;
      let newline: number;
      while ((newline = pending.indexOf("\n", start)) >= 0) {
        const text = pending.slice(start, newline);
        start = newline + 1;
        lineNumber++;
        if (text.trim() === "") continue;
        yield { line: lineNumber, record: parseLine(path, lineNumber, text) };
      }
      pending = pending.slice(start);
    }
    pending += decoder.decode();
  } finally {
    file.close();
  }
  if (pending.trim() === "") return;
  lineNumber++;
  let record: ManifestRecord;
  try {
    record = parseLine(path, lineNumber, pending);
  } catch {
    onTornLine({ line: lineNumber, text: pending.slice(0, 200) });
    return;
  }
  yield { line: lineNumber, record };
}

function parseLine(path: string, line: number, text: string): ManifestRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new VerifyError(
      `${path}: line ${line} is not JSON (${(error as Error).message}); ` +
        "restore the manifest from a backup or remove the line and re-run the pages it described",
    );
  }
  const result = manifestRecordSchema.safeParse(value);
  if (!result.success) {
    throw new VerifyError(
      `${path}: line ${line} is not a manifest record: ${describeIssues(result.error)}`,
    );
  }
  return result.data;
}

/** Everything {@link loadManifest} read: the records in order and a torn last line if any. */
export interface LoadedManifest {
  /** Records with their 1-based line numbers. */
  entries: { line: number; record: ManifestRecord }[];
  /** The torn last line that was skipped, if any. */
  torn: TornLine | null;
}

/** Reads a whole manifest into memory (for verify and reports); see {@link readManifest}. */
export async function loadManifest(path: string): Promise<LoadedManifest> {
  let torn: TornLine | null = null;
  const entries: LoadedManifest["entries"] = [];
  for await (const entry of readManifest(path, { onTornLine: (t) => (torn = t) })) {
    entries.push(entry);
  }
  return { entries, torn };
}
