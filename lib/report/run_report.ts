/**
 * The run report: what one run did, per asset and in total (pages, records, rejects, retries,
 * 429s, 304s, skips, bytes, seconds, the starting-point decision, errors) and every request it
 * made, for the timeline. The engine feeds a {@link RunReportBuilder} as it goes and writes the
 * result with {@link writeRunReport} to `<out>/reports/<run_id>.{json,html}`; for a run that
 * never finished (a crash), {@link buildRunReport} rebuilds what the manifest proves.
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../core/atomic_file.ts";
import { UsageError } from "../core/errors.ts";
import { redactText } from "../core/redact.ts";
import { envStampSchema, loadManifest, type ManifestRecord } from "../provenance/manifest.ts";
import type { EnvStamp } from "../core/stamps.ts";
import type { Assert, SchemaIs } from "../core/schema_type.ts";
import { runIdTime } from "../core/stamps.ts";
import { renderHtmlReport } from "./html.ts";

/**
 * Where an incremental asset started from, by precedence: `full_refresh` (the flag),
 * `since` (an explicit `--since`), `state` (the watermark), `output` (the newest `load_date=`
 * partition found), `initial` (the configured value), `none` (not incremental).
 */
export const startDecisionSchema = z.strictObject({
  /** Which rule decided. */
  source: z.enum(["full_refresh", "since", "state", "output", "initial", "none"]),
  /** The starting value used (a watermark, a date), if any. */
  value: z.union([z.string(), z.number()]).nullable().default(null),
  /** Why, in words: `watermark 1997-05-06 in state (lookback 1 day)`. */
  reason: z.string(),
});
/** A starting-point decision (see {@link startDecisionSchema}). */
export interface StartDecision {
  /** Which rule decided. */
  source: "full_refresh" | "since" | "state" | "output" | "initial" | "none";
  /** The starting value used (a watermark, a date), if any. */
  value: string | number | null;
  /** Why, in words. */
  reason: string;
}

/** One attempt drawn on the timeline, in milliseconds from the run's start. */
export const timelineTrySchema = z.strictObject({
  attempt: z.int().min(1),
  kind: z.enum(["http", "timeout", "reset", "truncated", "network"]),
  status: z.int().nullable(),
  /** When the attempt was sent, ms after the run started. */
  offset_ms: z.number(),
  elapsed_ms: z.number().min(0),
  /** Held by the client rate limiter before it was sent. */
  queued_ms: z.number().min(0),
  /** Slept after it (backoff or a server-requested wait). */
  slept_ms: z.number().min(0),
});

/** One request of the run (one manifest line), for the timeline. */
export const requestEntrySchema = z.strictObject({
  asset: z.string(),
  partition: z.string().nullable(),
  page: z.int().min(0),
  /** Final status; `null` for SQL parts. */
  status: z.int().nullable(),
  attempts: z.int().min(1),
  /** When the final attempt was sent (manifest `timestamp`). */
  timestamp: z.string(),
  /** Same, in ms after the run started. */
  offset_ms: z.number(),
  elapsed_ms: z.number().min(0),
  slept_ms: z.number().min(0),
  retry_after: z.number().nullable(),
  bytes: z.int().min(0),
  rows: z.int().min(0),
  unchanged: z.boolean(),
  snapshot: z.string().nullable(),
  /** Every attempt (one, synthesized from the line, when the manifest has no history). */
  tries: z.array(timelineTrySchema),
});
/** One attempt on the timeline (see {@link timelineTrySchema}). */
export interface TimelineTry {
  /** 1-based attempt number. */
  attempt: number;
  /** How it ended. */
  kind: "http" | "timeout" | "reset" | "truncated" | "network";
  /** HTTP status, when a response arrived. */
  status: number | null;
  /** When the attempt was sent, ms after the run started. */
  offset_ms: number;
  /** Milliseconds from sending to the end of the body or the failure. */
  elapsed_ms: number;
  /** Held by the client rate limiter before it was sent. */
  queued_ms: number;
  /** Slept after it (backoff or a server-requested wait). */
  slept_ms: number;
}

/** One request of the timeline (see {@link requestEntrySchema}). */
export interface RequestEntry {
  /** The asset. */
  asset: string;
  /** Its partition, if any. */
  partition: string | null;
  /** Page number within the walk. */
  page: number;
  /** Final status; `null` for SQL parts. */
  status: number | null;
  /** Attempts made. */
  attempts: number;
  /** When the final attempt was sent (manifest `timestamp`). */
  timestamp: string;
  /** Same, in ms after the run started. */
  offset_ms: number;
  /** Milliseconds of the final attempt. */
  elapsed_ms: number;
  /** Milliseconds slept before it. */
  slept_ms: number;
  /** A server-requested wait, in seconds. */
  retry_after: number | null;
  /** Body bytes. */
  bytes: number;
  /** Records. */
  rows: number;
  /** Answered 304 / unchanged. */
  unchanged: boolean;
  /** The snapshot file, relative to the out folder. */
  snapshot: string | null;
  /** Every attempt. */
  tries: TimelineTry[];
}

const counters = {
  /** Distinct pages (or SQL parts) committed. */
  pages: z.int().min(0),
  /** Manifest lines (responses received, parts written). */
  requests: z.int().min(0),
  /** Records received. */
  records: z.int().min(0),
  /** Records refused by the contract. */
  rejects: z.int().min(0),
  /** Attempts beyond the first. */
  retries: z.int().min(0),
  /** Responses with status 429. */
  status_429: z.int().min(0),
  /** Responses with status 304 (unchanged). */
  status_304: z.int().min(0),
  /** Times the asset was skipped (rate-limit wait above `max_wait_s`). */
  skips: z.int().min(0),
  /** Bytes received (snapshots) or written (SQL parts). */
  bytes: z.int().min(0),
  /** Wall-clock seconds. */
  seconds: z.number().min(0),
  /** Pages whose request failed for good (absent in reports of older versions). */
  pages_failed: z.int().min(0).default(0),
};

/** A page whose request failed for good: where it was and the last error. */
export const failedPageSchema = z.strictObject({
  /** The partition (key range, page group; "" when the asset is not partitioned). */
  partition: z.string(),
  /** The page number within the partition's walk. */
  page: z.int(),
  /** The cursor it was requested with, if any. */
  cursor: z.string().nullable(),
  /** The last error, secrets masked. */
  error: z.string(),
});
/** A failed page of the report (see {@link failedPageSchema}). */
export interface FailedPage {
  /** The partition ("" when the asset is not partitioned). */
  partition: string;
  /** The page number within the partition's walk. */
  page: number;
  /** The cursor it was requested with, if any. */
  cursor: string | null;
  /** The last error, secrets masked. */
  error: string;
}

/** The counters of an asset's line and of the run's totals. */
export interface ReportCounters {
  /** Distinct pages (or SQL parts) committed. */
  pages: number;
  /** Manifest lines (responses received, parts written). */
  requests: number;
  /** Records received. */
  records: number;
  /** Records refused by the contract. */
  rejects: number;
  /** Attempts beyond the first. */
  retries: number;
  /** Responses with status 429. */
  status_429: number;
  /** Responses with status 304 (unchanged). */
  status_304: number;
  /** Times the asset was skipped (rate-limit wait above `max_wait_s`). */
  skips: number;
  /** Bytes received (snapshots) or written (SQL parts). */
  bytes: number;
  /** Wall-clock seconds. */
  seconds: number;
  /** Pages whose request failed for good. */
  pages_failed: number;
}

/** One asset's line of the report. */
export const assetReportSchema = z.strictObject({
  asset: z.string(),
  kind: z.enum(["http", "sql"]),
  /** `incomplete` when the run ended (or crashed) before the asset was finished. */
  status: z.enum(["ok", "failed", "skipped", "unchanged", "incomplete"]),
  ...counters,
  start: startDecisionSchema.nullable(),
  errors: z.array(z.string()),
  skip_reasons: z.array(z.string()),
  /** Anything else worth saying (change detection, clamped watermark, ...). */
  notes: z.array(z.string()),
  /** Pages whose request failed for good, each with its last error. */
  failed_pages: z.array(failedPageSchema).default([]),
});
/** One asset's report (see {@link assetReportSchema}). */
export interface AssetReport extends ReportCounters {
  /** The asset. */
  asset: string;
  /** A REST asset or a SQL extraction. */
  kind: "http" | "sql";
  /** `incomplete` when the run ended (or crashed) before the asset was finished. */
  status: "ok" | "failed" | "skipped" | "unchanged" | "incomplete";
  /** Where it started from. */
  start: StartDecision | null;
  /** Errors, secrets masked. */
  errors: string[];
  /** Why it was skipped. */
  skip_reasons: string[];
  /** Anything else worth saying. */
  notes: string[];
  /** Pages whose request failed for good. */
  failed_pages: FailedPage[];
}

/** The report of one run; written to `<out>/reports/<run_id>.json`. */
export const runReportSchema = z.strictObject({
  run_id: z.string(),
  /**
   * `partial`: some assets failed or were skipped, others succeeded; `incomplete`: rebuilt from
   * the manifest of a run that did not finish.
   */
  status: z.enum(["succeeded", "partial", "failed", "incomplete"]),
  started_at: z.iso.datetime(),
  finished_at: z.iso.datetime().nullable(),
  seconds: z.number().min(0),
  config_sha256: z.string().nullable(),
  env: envStampSchema.nullable(),
  totals: z.strictObject({ assets: z.int().min(0), ...counters, errors: z.int().min(0) }),
  assets: z.array(assetReportSchema),
  requests: z.array(requestEntrySchema),
});
/** A run report (see {@link runReportSchema}). */
export interface RunReport {
  /** The run. */
  run_id: string;
  /** `partial`: some assets failed or were skipped; `incomplete`: rebuilt from a crashed run. */
  status: "succeeded" | "partial" | "failed" | "incomplete";
  /** UTC ISO-8601. */
  started_at: string;
  /** UTC ISO-8601, or null for an unfinished run. */
  finished_at: string | null;
  /** Wall-clock seconds. */
  seconds: number;
  /** Hash of the config the run used. */
  config_sha256: string | null;
  /** The versions the run used (reports of later versions may hold more fields). */
  env: (EnvStamp & { [field: string]: unknown }) | null;
  /** Sums over the assets. */
  totals: ReportCounters & { assets: number; errors: number };
  /** One line per asset. */
  assets: AssetReport[];
  /** Every request, for the timeline. */
  requests: RequestEntry[];
}

type _RunReport = Assert<SchemaIs<typeof runReportSchema, RunReport, never>>;

/** Options of {@link RunReportBuilder}. */
export interface RunReportBuilderOptions {
  /** Epoch-ms clock. @default Date.now */
  clock?: (() => number) | { now(): number };
  /** When the run started, epoch ms. @default the clock's time at construction */
  startedAt?: number;
  /** The run's config hash. @default null */
  configSha256?: string | null;
  /** The run's environment stamp. @default null */
  env?: z.infer<typeof envStampSchema> | null;
}

interface AssetAcc {
  kind: "http" | "sql";
  status?: AssetReport["status"];
  start: StartDecision | null;
  pages: Set<string>;
  pageAttempts: Map<string, number>;
  requests: number;
  records: number;
  rejects: number;
  status429: number;
  status304: number;
  skipReasons: string[];
  bytes: number;
  errors: string[];
  notes: string[];
  failedPages: FailedPage[];
  startedMs?: number;
  finishedMs?: number;
  firstMs?: number;
  lastMs?: number;
}

/**
 * Collects what a run does, asset by asset, and builds its {@link RunReport}.
 *
 * @example
 * ```ts
 * import { RunReportBuilder } from "./run_report.ts";
 * const report = new RunReportBuilder("20261123T101500Z-3fa9c1");
 * report.startAsset("Orders", { source: "initial", value: "1997-01-01", reason: "no state yet" });
 * // for each manifest line: report.request(record)
 * report.finishAsset("Orders", "ok");
 * const built = report.build();
 * ```
 */
export class RunReportBuilder {
  /** The run this report is about. */
  readonly runId: string;
  #now: () => number;
  #startedAt: number;
  #configSha256: string | null;
  #env: RunReportBuilderOptions["env"];
  #assets = new Map<string, AssetAcc>();
  #records: ManifestRecord[] = [];

  /** A builder for run `runId`. */
  constructor(runId: string, options: RunReportBuilderOptions = {}) {
    this.runId = runId;
    const clock = options.clock ?? Date.now;
    this.#now = typeof clock === "function" ? clock : () => clock.now();
    this.#startedAt = options.startedAt ?? this.#now();
    this.#configSha256 = options.configSha256 ?? null;
    this.#env = options.env ?? null;
  }

  #asset(asset: string, kind: "http" | "sql" = "http"): AssetAcc {
    let acc = this.#assets.get(asset);
    if (!acc) {
      acc = {
        kind,
        start: null,
        pages: new Set(),
        pageAttempts: new Map(),
        requests: 0,
        records: 0,
        rejects: 0,
        status429: 0,
        status304: 0,
        skipReasons: [],
        bytes: 0,
        errors: [],
        notes: [],
        failedPages: [],
      };
      this.#assets.set(asset, acc);
    }
    return acc;
  }

  /** An asset starts, from the given starting point (its seconds are timed from now). */
  startAsset(asset: string, start?: z.input<typeof startDecisionSchema>): void {
    const acc = this.#asset(asset);
    acc.startedMs ??= this.#now();
    if (start) acc.start = startDecisionSchema.parse(start);
  }

  /** One manifest line was written: counts it and adds it to the timeline. */
  request(record: ManifestRecord): void {
    // Event lines (plan, complete, …) describe outputs, not requests.
    if (record.run_id !== this.runId || record.kind === "event") return;
    const acc = this.#asset(record.asset, record.kind);
    acc.kind = record.kind;
    this.#records.push(record);
    acc.requests++;
    const key = `${record.partition ?? ""}\u0000${record.page}`;
    const ok = record.status === null || (record.status >= 200 && record.status < 400);
    if (ok) acc.pages.add(key);
    const attempts = Math.max(record.attempts, record.attempt_history?.length ?? 0);
    acc.pageAttempts.set(key, Math.max(acc.pageAttempts.get(key) ?? 1, attempts));
    acc.records += record.rows;
    acc.bytes += record.bytes;
    acc.status429 += record.attempt_history
      ? record.attempt_history.filter((a) => a.status === 429).length
      : record.status === 429
      ? 1
      : 0;
    if (record.status === 304 || record.unchanged) acc.status304++;
    const sent = Date.parse(record.timestamp);
    const first = record.attempt_history?.length
      ? Date.parse(record.attempt_history[0].started_at) -
        record.attempt_history[0].queued_ms
      : sent - record.slept_ms;
    acc.firstMs = Math.min(acc.firstMs ?? first, first);
    acc.lastMs = Math.max(acc.lastMs ?? 0, sent + record.elapsed_ms);
  }

  /** Records refused by the asset's contract. */
  rejects(asset: string, count: number): void {
    this.#asset(asset).rejects += count;
  }

  /** The asset was skipped (e.g. a rate-limit wait above `max_wait_s`). */
  skip(asset: string, reason: string): void {
    const acc = this.#asset(asset);
    acc.skipReasons.push(reason);
    acc.status = "skipped";
  }

  /** An error ended or troubled the asset (text already free of secrets; redacted again on write). */
  error(asset: string, message: string): void {
    this.#asset(asset).errors.push(message);
  }

  /** A page whose request failed for good (after its retries), with its last error. */
  failedPage(asset: string, page: FailedPage): void {
    this.#asset(asset).failedPages.push(failedPageSchema.parse(page));
  }

  /** A remark for the report (change detection outcome, a clamped watermark, ...). */
  note(asset: string, text: string): void {
    this.#asset(asset).notes.push(text);
  }

  /** The asset is done; `status` defaults to `failed` when it had errors, else `ok`. */
  finishAsset(asset: string, status?: AssetReport["status"]): void {
    const acc = this.#asset(asset);
    acc.finishedMs = this.#now();
    acc.status = status ?? acc.status ?? (acc.errors.length > 0 ? "failed" : "ok");
  }

  /**
   * The report so far. `status` defaults to `failed` when every asset failed, `partial` when
   * some failed or were skipped, else `succeeded`; pass `incomplete` for a run that did not
   * finish.
   */
  build(status?: RunReport["status"]): RunReport {
    return assemble({
      runId: this.runId,
      status,
      startedAt: this.#startedAt,
      finishedAt: status === "incomplete" ? null : this.#now(),
      configSha256: this.#configSha256 ??
        this.#records.find((r) => r.config_sha256)?.config_sha256 ?? null,
      env: this.#env ?? this.#records[0]?.env ?? null,
      assets: this.#assets,
      records: this.#records,
    });
  }
}

function assemble(input: {
  runId: string;
  status?: RunReport["status"];
  startedAt: number;
  finishedAt: number | null;
  configSha256: string | null;
  env: RunReport["env"];
  assets: Map<string, AssetAcc>;
  records: ManifestRecord[];
}): RunReport {
  const incomplete = input.status === "incomplete";
  const assets: AssetReport[] = [...input.assets.entries()].map(([asset, acc]) => {
    const end = acc.finishedMs ?? acc.lastMs;
    const begin = acc.startedMs ?? acc.firstMs;
    let retries = 0;
    for (const n of acc.pageAttempts.values()) retries += n - 1;
    return {
      asset,
      kind: acc.kind,
      status: acc.status ??
        (incomplete ? "incomplete" : acc.errors.length > 0 ? "failed" : "ok"),
      pages: acc.pages.size,
      requests: acc.requests,
      records: acc.records,
      rejects: acc.rejects,
      retries,
      status_429: acc.status429,
      status_304: acc.status304,
      skips: acc.skipReasons.length,
      bytes: acc.bytes,
      seconds: begin !== undefined && end !== undefined ? Math.max(0, end - begin) / 1000 : 0,
      pages_failed: acc.failedPages.length,
      failed_pages: acc.failedPages,
      start: acc.start,
      errors: acc.errors,
      skip_reasons: acc.skipReasons,
      notes: acc.notes,
    };
  });
  const sum = (f: (a: AssetReport) => number) => assets.reduce((n, a) => n + f(a), 0);
  let lastEnd = input.startedAt;
  for (const r of input.records) {
    lastEnd = Math.max(lastEnd, Date.parse(r.timestamp) + r.elapsed_ms);
  }
  const finishedAt = input.finishedAt ?? lastEnd;
  const count = (status: AssetReport["status"]) => assets.filter((a) => a.status === status).length;
  const status = input.status ??
    (count("failed") > 0 && count("failed") === assets.length
      ? "failed"
      : count("failed") + count("skipped") > 0
      ? "partial"
      : "succeeded");
  return {
    run_id: input.runId,
    status,
    started_at: new Date(input.startedAt).toISOString(),
    finished_at: input.finishedAt === null ? null : new Date(input.finishedAt).toISOString(),
    seconds: Math.max(0, finishedAt - input.startedAt) / 1000,
    config_sha256: input.configSha256,
    env: input.env,
    totals: {
      assets: assets.length,
      pages: sum((a) => a.pages),
      requests: sum((a) => a.requests),
      records: sum((a) => a.records),
      rejects: sum((a) => a.rejects),
      retries: sum((a) => a.retries),
      status_429: sum((a) => a.status_429),
      status_304: sum((a) => a.status_304),
      skips: sum((a) => a.skips),
      bytes: sum((a) => a.bytes),
      seconds: Math.max(0, finishedAt - input.startedAt) / 1000,
      pages_failed: sum((a) => a.pages_failed),
      errors: sum((a) => a.errors.length),
    },
    assets,
    requests: input.records.map((r) => requestEntry(r, input.startedAt)),
  };
}

function requestEntry(record: ManifestRecord, runStart: number): RequestEntry {
  const sent = Date.parse(record.timestamp);
  const tries = record.attempt_history?.length
    ? record.attempt_history.map((a) => ({
      attempt: a.attempt,
      kind: a.kind,
      status: a.status,
      offset_ms: Date.parse(a.started_at) - runStart,
      elapsed_ms: a.elapsed_ms,
      queued_ms: a.queued_ms,
      slept_ms: a.slept_ms,
    }))
    : [{
      // Without a history, the waits are drawn just before the final attempt.
      attempt: record.attempt,
      kind: "http" as const,
      status: record.status,
      offset_ms: sent - runStart,
      elapsed_ms: record.elapsed_ms,
      queued_ms: record.slept_ms,
      slept_ms: 0,
    }];
  return {
    asset: record.asset,
    partition: record.partition ?? null,
    page: record.page,
    status: record.status,
    attempts: Math.max(record.attempts, record.attempt_history?.length ?? 0),
    timestamp: record.timestamp,
    offset_ms: sent - runStart,
    elapsed_ms: record.elapsed_ms,
    slept_ms: record.slept_ms,
    retry_after: record.retry_after,
    bytes: record.bytes,
    rows: record.rows,
    unchanged: record.unchanged === true || record.status === 304,
    snapshot: record.snapshot,
    tries,
  };
}

/** Options of {@link buildRunReport}. */
export interface BuildRunReportOptions {
  /** Status to give the run. @default "incomplete" (nothing but the manifest is known) */
  status?: RunReport["status"];
}

/**
 * Rebuilds a run's report from its manifest lines alone (for a run that crashed before writing
 * its report): counts, timeline and start time are what the manifest proves; rejects, skips,
 * errors and starting points are unknown and left empty.
 */
export function buildRunReport(
  runId: string,
  records: readonly ManifestRecord[],
  options: BuildRunReportOptions = {},
): RunReport {
  const mine = records.filter((r) => r.run_id === runId && r.kind !== "event");
  let firstSent = Infinity;
  for (const r of mine) {
    const sent = r.attempt_history?.length
      ? Date.parse(r.attempt_history[0].started_at) - r.attempt_history[0].queued_ms
      : Date.parse(r.timestamp) - r.slept_ms;
    firstSent = Math.min(firstSent, sent);
  }
  const fromId = runIdTime(runId)?.getTime();
  const startedAt = Math.min(
    Number.isFinite(firstSent) ? firstSent : (fromId ?? 0),
    fromId ?? Infinity,
  );
  const builder = new RunReportBuilder(runId, { startedAt, clock: () => startedAt });
  for (const r of mine) builder.request(r);
  return builder.build(options.status ?? "incomplete");
}

/** Options of {@link writeRunReport}. */
export interface WriteRunReportOptions {
  /** Secret values masked in everything written. @default [] */
  secrets?: Iterable<string>;
  /** Also write the self-contained HTML report. @default true */
  html?: boolean;
}

/** Paths written by {@link writeRunReport}, relative to the out folder. */
export interface WrittenReport {
  /** `reports/<run_id>.json`. */
  json: string;
  /** `reports/<run_id>.html`, when written. */
  html?: string;
}

/**
 * Writes `<out>/reports/<run_id>.json` (and `.html`) atomically, with every known secret and
 * credential pattern masked.
 */
export async function writeRunReport(
  out: string,
  report: RunReport,
  options: WriteRunReportOptions = {},
): Promise<WrittenReport> {
  const secrets = [...(options.secrets ?? [])];
  const safe = runReportSchema.parse(
    JSON.parse(redactText(JSON.stringify(report), secrets)),
  );
  const json = `reports/${safe.run_id}.json`;
  await writeFileAtomic(join(out, json), JSON.stringify(safe, null, 2) + "\n");
  if (options.html === false) return { json };
  const html = `reports/${safe.run_id}.html`;
  await writeFileAtomic(join(out, html), redactText(renderHtmlReport(safe), secrets));
  return { json, html };
}

/** A run known in an out folder. */
export interface RunListing {
  run_id: string;
  /** Start time (from its report, or its first manifest line). */
  started_at: string;
  /** Whether a written report exists (else only manifest lines). */
  has_report: boolean;
}

/** The runs of an out folder, oldest first: those with a report and those only in the manifest. */
export async function listRuns(out: string): Promise<RunListing[]> {
  const runs = new Map<string, RunListing>();
  try {
    for await (const entry of Deno.readDir(join(out, "reports"))) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      const report = await readReportFile(join(out, "reports", entry.name));
      runs.set(report.run_id, {
        run_id: report.run_id,
        started_at: report.started_at,
        has_report: true,
      });
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const { entries } = await loadManifest(join(out, "manifest.jsonl"));
  for (const { record } of entries) {
    if (runs.has(record.run_id)) continue;
    runs.set(record.run_id, {
      run_id: record.run_id,
      started_at: record.timestamp,
      has_report: false,
    });
  }
  return [...runs.values()].sort((a, b) =>
    a.started_at.localeCompare(b.started_at) || a.run_id.localeCompare(b.run_id)
  );
}

async function readReportFile(path: string): Promise<RunReport> {
  const result = runReportSchema.safeParse(JSON.parse(await Deno.readTextFile(path)));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UsageError(
      `${path} is not a run report (${issue.path.join(".")}: ${issue.message}); ` +
        "delete it to rebuild the report from the manifest",
    );
  }
  return result.data;
}

/**
 * The report of run `runId` (default: the latest run) of an out folder: the written report, or
 * one rebuilt from the manifest when the run never wrote one. Throws {@link UsageError} when the
 * folder has no runs or not that one.
 */
export async function readRunReport(out: string, runId?: string): Promise<RunReport> {
  const stat = await Deno.stat(out).catch(() => null);
  if (!stat?.isDirectory) {
    throw new UsageError(`out folder "${out}" does not exist; pass the --out of a harvest`);
  }
  const runs = await listRuns(out);
  if (runs.length === 0) {
    throw new UsageError(`"${out}" has no runs yet (no reports/ and no manifest.jsonl lines)`);
  }
  const wanted = runId ?? runs[runs.length - 1].run_id;
  const run = runs.find((r) => r.run_id === wanted);
  if (!run) {
    const known = runs.slice(-5).map((r) => r.run_id).join(", ");
    throw new UsageError(`no run "${wanted}" in "${out}"; latest runs: ${known}`);
  }
  if (run.has_report) return await readReportFile(join(out, "reports", `${wanted}.json`));
  const { entries } = await loadManifest(join(out, "manifest.jsonl"));
  return buildRunReport(wanted, entries.map((e) => e.record));
}
