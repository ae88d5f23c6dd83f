/**
 * Building a run report: the engine feeds a {@link RunReportBuilder} as it goes; for a run that
 * never finished (a crash), {@link buildRunReport} rebuilds what the manifest proves.
 * @module
 */
import { z } from "zod";
import { envStampSchema, type ManifestRecord } from "../provenance/manifest.ts";
import { runIdTime } from "../core/stamps.ts";
import {
  type AssetReport,
  type FailedPage,
  failedPageSchema,
  type RequestEntry,
  type RunReport,
  type StartDecision,
  startDecisionSchema,
} from "./report_model.ts";
import { PARSE_ONCE } from "../core/parse_once.ts";

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
 *  * const report = new RunReportBuilder("20261123T101500Z-3fa9c1");
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
    if (start) acc.start = startDecisionSchema.parse(start, PARSE_ONCE);
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
    this.#asset(asset).failedPages.push(failedPageSchema.parse(page, PARSE_ONCE));
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
