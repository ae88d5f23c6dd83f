/**
 * `harvest(config, options)`: one whole run. Everything that can be checked without a request is
 * checked first (asset names, contracts, partitions, flags: every problem listed, exit 2). Then
 * one state store, one run id, one HTTP session (limiter, retry budget, auth) shared by bounded
 * workers over every asset and partition, one snapshot store, one manifest, one report. Pages a
 * killed run left half-committed are adopted, assets skipped for a rate limit last time go
 * first, and the report says where each asset started and how it ended.
 * @module
 */
import type { Env, LoadedConfig } from "../config/load.ts";
import type { AssetConfig, Config } from "../config/schema.ts";
import { getContract } from "../contracts/mod.ts";
import { ConfigError, type ConfigIssue, UsageError } from "../core/errors.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { FetchFunction } from "../http/fetch_resilient.ts";
import type { LimiterFactory } from "../http/rate_limiter.ts";
import { ManifestWriter } from "../provenance/manifest.ts";
import { SnapshotStore } from "../provenance/snapshot.ts";
import { envStamp, newRunId } from "../core/stamps.ts";
import {
  createLogger,
  type LogFileOptions,
  type LogLevel,
  type LogOutput,
} from "../report/logger.ts";
import { createProgress, type ProgressOutput } from "../report/progress.ts";
import { type RunReport } from "../report/report_model.ts";
import { RunReportBuilder } from "../report/run_report.ts";
import { type WrittenReport } from "../report/report_files.ts";
import { parsePartitionSpecs } from "../sinks/partition.ts";
import {
  describeState,
  normalizeWatermark,
  openSqliteState,
  openStateStore,
  stateLocation,
  type StateStore,
} from "../state/mod.ts";
import { type AssetResult, runAsset, type RunContext } from "./asset_run.ts";
import {
  type AssetStart,
  decideStart,
  type Direction,
  isTimeline,
  selectAssets,
  WATERMARK_TYPES,
} from "./plan.ts";
import { watermarkKind } from "../pipeline/watermark_tracker.ts";
import { adoptManifestPages } from "./resume.ts";
import { type DeriveOutcome, openRunOutputs, writeConfigStamp } from "./run_outputs.ts";
import { checkChangeDetection, RecordingHttpClient } from "./change_detection.ts";
import { manifestSize } from "./manifest_scan.ts";
import { newestLoadDate } from "./output_start.ts";
import { readBoundary } from "./asset_plan.ts";
import type { WireSample } from "./watermark_wire.ts";
import { lockOutFolder, type OutLock } from "../run/out_lock.ts";
import { RunRecord } from "../run/run_record.ts";
import { runAssets } from "./run_assets.ts";
import { WorkerPool } from "./worker_pool.ts";

/** Options of {@link harvest}. */
export interface HarvestOptions {
  /** Output folder (wins over the config's `out`). @default config.out ?? "out" */
  out?: string;
  /** Only these assets (`--asset`). @default every asset */
  assets?: string[];
  /** Ignore stored watermarks (`--full-refresh`). @default false */
  fullRefresh?: boolean;
  /** Start incremental assets from this value (`--since`). */
  since?: string;
  /** `forward` (newer than the watermark) or `backfill` (timelines: older than `X_oldest`). @default "forward" */
  direction?: Direction;
  /** Minimum level of the log lines on stderr (`--log-level`). @default "info", "warn" with quiet */
  logLevel?: LogLevel;
  /** Ask each asset first whether anything changed, and end the unchanged at once (scheduled runs, `--if-changed`). @default false */
  detectChanges?: boolean;
  /**
   * Stops the run at its next page boundary (a scheduler stopping, SIGTERM): pages in flight
   * are dropped, committed pages stay, the out folder is unlocked, and the next run resumes
   * each unfinished asset from its last committed page. @default never
   */
  signal?: AbortSignal;
  /** Also write log lines to this file, rotated by size (`--log-file`). @default none */
  logFile?: LogFileOptions;
  /** Concurrent workers (wins over the config's `workers`). @default config.workers */
  workers?: number;
  /** Base URL (wins over the config's `base_url`; the demo points it at its server). */
  baseUrl?: string;
  /** The transport, e.g. `(input, init) => app.request(input, init)`. @default globalThis.fetch */
  fetch?: FetchFunction;
  /**
   * Makes the run's rate limiter from its `rate_limit:` config (queue workers share one budget
   * per origin and credential in PostgreSQL). @default a limiter of this process
   */
  limiter?: LimiterFactory;
  /** Clock of the HTTP layer (waits, timeouts) and of the run's timestamps. @default systemClock */
  clock?: Clock;
  /** Random source of backoff jitter. @default Math.random */
  random?: () => number;
  /** Run id. @default newRunId() */
  runId?: string;
  /** Log line format on stderr. @default "auto" (human on a terminal, JSON lines otherwise) */
  logFormat?: "auto" | "human" | "json";
  /** Only warnings and errors in the log, no progress display. @default false */
  quiet?: boolean;
  /** Where log lines go; `null` for nowhere. @default Deno.stderr */
  logOutput?: LogOutput | null;
  /** Where the progress display is drawn (only on a terminal). @default Deno.stderr */
  progressOutput?: ProgressOutput;
  /** Write the HTML report next to the JSON one. @default true */
  htmlReport?: boolean;
  /** Environment of `output.destination` (S3 endpoint, region, credentials). @default Deno.env.toObject() */
  env?: Env;
  /**
   * Opens the run's state store instead of the config's `state:` (Deno Deploy keeps each job's
   * state in Deno KV; queue workers keep each asset's state in PostgreSQL). The run closes what
   * it returns. @default the config's state
   */
  openState?: () => Promise<StateStore>;
  /**
   * The out folder lives in this isolate's memory (a Deno Deploy slice, `lib/deploy/fs_overlay.ts`):
   * it takes no out-folder lock (a SQLite file, which memory cannot hold; the caller's lock
   * guards the folder). Snapshots are written on this thread either way (a worker thread would
   * not share the isolate's memory). @default false
   */
  memoryOut?: boolean;
}

/** What a run did. */
export interface HarvestResult {
  /** The run id. */
  runId: string;
  /** The out folder. */
  out: string;
  /** `succeeded`, `partial` (some assets failed or were skipped) or `failed`. */
  status: RunReport["status"];
  /** 0 when no asset failed, 1 otherwise. */
  exitCode: number;
  /** One result per asset, in the order they ran. */
  assets: AssetResult[];
  /** The run report. */
  report: RunReport;
  /**
   * Where the report was written, relative to the out folder; null when the run failed before
   * writing anything (the report is then only logged and printed).
   */
  reportPaths: WrittenReport | null;
  /** The state file. */
  statePath: string;
  /** Runs found killed, whose half-committed pages were adopted. */
  crashedRuns: string[];
  /** Pages adopted from their manifest lines. */
  adoptedPages: number;
  /** The `derive:` steps run after the assets. */
  derived: DeriveOutcome[];
}

/**
 * Harvests every asset of a config (or those named) into the out folder.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config/load.ts";
 * import { harvest } from "./run.ts";
 * const loaded = await loadConfig("jobs/northwind.yaml");
 * const result = await harvest(loaded, { out: "out", workers: 4 });
 * console.log(result.status, result.assets.map((a) => `${a.asset}: ${a.rows} rows`));
 * Deno.exit(result.exitCode);
 * ```
 */
export async function harvest(
  loaded: LoadedConfig,
  options: HarvestOptions = {},
): Promise<HarvestResult> {
  const config = loaded.config;
  const out = options.out ?? config.out ?? "out";
  const baseUrl = options.baseUrl ?? config.base_url;
  const chosen = selectAssets(config.assets, { only: options.assets });
  preflight(config, chosen, options, baseUrl);
  checkChangeDetection(chosen, config.assets);

  const clock = options.clock ?? systemClock;
  const now = () => new Date(clock.now());
  const runId = options.runId ?? newRunId(() => clock.now());
  // Derive steps, write modes, destinations (missing bucket, bad credentials): exit 2 now.
  const outputs = await openRunOutputs(config, chosen, {
    env: options.env,
    loadTime: now(),
    clock,
  });
  // One run at a time per out folder: a second one would take this one for a crashed run.
  let lock: Pick<OutLock, "release">;
  try {
    lock = options.memoryOut
      ? { release: () => {} }
      : await lockOutFolder(out, { command: "harvest", runId, since: now() });
  } catch (error) {
    await outputs.close();
    throw error;
  }
  try {
    return await harvestLocked(loaded, options, { out, baseUrl, clock, now, runId, outputs });
  } finally {
    lock.release();
  }
}

/** What {@link harvest} settled before it took the out folder's lock. */
interface LockedRun {
  out: string;
  baseUrl: string | undefined;
  clock: Clock;
  now: () => Date;
  runId: string;
  outputs: Awaited<ReturnType<typeof openRunOutputs>>;
}

/** The run itself, with the out folder locked. */
async function harvestLocked(
  loaded: LoadedConfig,
  options: HarvestOptions,
  run: LockedRun,
): Promise<HarvestResult> {
  const { out, now, runId, outputs } = run;
  const opened = await openHarvestState(loaded.config, options, out, now).catch(async (error) => {
    await outputs.close();
    throw error;
  });
  const { log, progress } = runConsole(loaded, options, run);
  let assets: AssetConfig[] = [];
  // The run stamps its config and records itself with its first write (a manifest line, a
  // page, a watermark): a run that fails before it (a bad response on every first page)
  // leaves out/ and state exactly as it found them.
  const record = new RunRecord(opened.store, {
    runId,
    command: "harvest",
    configSha256: loaded.sha256,
    assets: () => assets.map((a) => a.name),
    now,
    onBegin: async () => void await writeConfigStamp(out, loaded),
    secrets: loaded.secretValues,
    html: options.htmlReport,
  });
  const state = record.state;
  try {
    const plan = await planRun(loaded, options, run, state, log);
    assets = plan.assets;
    const { skips, adopted, starts } = plan;
    const { ctx, client } = runContext(loaded, options, run, { record, log, progress });
    await outputs.start(ctx, adopted.crashedRuns);
    const results = await runAssets(ctx, assets, starts, runAsset, {
      detectChanges: options.detectChanges,
      skipped: skips.map((s) => s.assetId),
      recorder: client.recorder,
      manifestStart: await manifestSize(out),
    });
    const derived = await outputs.derive(ctx, results);
    const built = ctx.report.build();
    let reportPaths: WrittenReport | null = null;
    if (built.status === "failed" && !record.began) {
      log.info("harvest.nothing_written", {
        msg: `run ${runId} failed before writing anything: ${out} and its state are unchanged`,
      });
    } else {
      reportPaths = await record.finish(out, built, runCounts(built, results));
    }
    log.info("harvest.done", {
      msg:
        `run ${runId} ${built.status}: ${built.totals.pages} pages, ${built.totals.records} records`,
    });
    return {
      runId,
      out,
      status: built.status,
      exitCode: results.some((r) => r.status === "failed") ||
          derived.some((d) => d.status === "failed")
        ? 1
        : 0,
      assets: results,
      report: built,
      reportPaths,
      statePath: opened.description,
      crashedRuns: adopted.crashedRuns,
      adoptedPages: adopted.adopted.length,
      derived,
    };
  } catch (error) {
    await record.abandon(out);
    throw error;
  } finally {
    progress.close();
    log.close();
    await record.close();
    await outputs.close();
  }
}

/** Which assets a harvest runs, in what order, from where; pages a crashed run left adopted. */
async function planRun(
  loaded: LoadedConfig,
  options: HarvestOptions,
  run: LockedRun,
  state: StateStore,
  log: ReturnType<typeof createLogger>,
) {
  const { out, runId, now } = run;
  const skips = await state.listSkips();
  const assets = selectAssets(loaded.config.assets, {
    only: options.assets,
    skipped: skips.map((s) => s.assetId),
  });
  log.info("harvest.start", {
    msg: `run ${runId}: ${assets.length} asset(s) into ${out} with ${
      options.workers ?? loaded.config.workers
    } worker(s)`,
  });
  const adopted = await adoptManifestPages(out, state, { runId, now });
  if (adopted.crashedRuns.length > 0) {
    log.warn("resume.crashed_runs", {
      msg: `run(s) ${
        adopted.crashedRuns.join(", ")
      } did not finish; ${adopted.adopted.length} page(s) they wrote completely were committed, the rest is fetched again`,
    });
  }
  const starts = new Map<string, AssetStart | Error>();
  for (const asset of assets) {
    starts.set(asset.name, await startOf(state, asset, options, now, out));
  }
  return { assets, skips, adopted, starts };
}

/** The log lines and the progress bar of one harvest. */
function runConsole(loaded: LoadedConfig, options: HarvestOptions, run: LockedRun) {
  const clock = () => run.clock.now();
  const log = createLogger({
    format: options.logFormat ?? "auto",
    level: options.logLevel ?? (options.quiet ? "warn" : "info"),
    runId: run.runId,
    secrets: loaded.secretValues,
    output: options.logOutput,
    file: options.logFile,
    clock,
  });
  const progress = createProgress({
    output: options.quiet
      ? { writeSync: (b) => b.length, isTerminal: () => false }
      : options.progressOutput,
    clock,
  });
  return { log, progress };
}

/** The state store of a harvest and how the summary names it. */
async function openHarvestState(
  config: Config,
  options: HarvestOptions,
  out: string,
  now: () => Date,
): Promise<{ store: StateStore; description: string }> {
  const location = stateLocation(config.state, { out });
  // A PostgreSQL URL may hold a password: the summary and report name it masked.
  const description = options.openState
    ? "the state store the caller opened"
    : location.path === undefined
    ? "Deno KV (default database)"
    : describeState(location);
  // SQLite `normal`: a commit survives a killed process without an fsync of its own; after a
  // power loss the last commits may be forgotten, and the next run adopts those pages again from
  // their manifest lines, which are flushed.
  const store = options.openState
    ? await options.openState()
    : location.backend === "sqlite"
    ? openSqliteState(location.path!, { now, synchronous: "normal" })
    : await openStateStore(config.state, { out, now });
  return { store, description };
}

/**
 * What every asset of one harvest shares: its HTTP session (returned too, for the requests it
 * records), state, stores, report and workers.
 */
function runContext(
  loaded: LoadedConfig,
  options: HarvestOptions,
  run: LockedRun,
  parts: {
    record: RunRecord;
    log: ReturnType<typeof createLogger>;
    progress: ReturnType<typeof createProgress>;
  },
): { ctx: RunContext; client: RecordingHttpClient } {
  const { config } = loaded;
  const { out, runId, clock, now } = run;
  const { record, log } = parts;
  const env = { ...envStamp() };
  const client = new RecordingHttpClient({
    retry: config.retry,
    rateLimit: config.rate_limit,
    // The provider reports the config's alias (`bearer:API_TOKEN`) in results and errors.
    // A registered kind names itself (its provider's `alias`).
    auth: config.auth.type === "none" || config.auth.type === "custom" ? config.auth : {
      ...config.auth,
      alias: config.auth.alias ?? loaded.authAlias.replace(`${config.auth.type}:`, ""),
    },
    baseUrl: run.baseUrl,
    fetch: options.fetch,
    limiter: options.limiter,
    clock,
    random: options.random,
    onRetry: (retry) =>
      log.warn("http.retry", {
        status: retry.status ?? null,
        attempt: retry.attempt,
        wait_ms: Math.round(retry.waitMs),
        msg: `${retry.reason === "http" ? `status ${retry.status}` : retry.reason} from ` +
          `${retry.url}; attempt ${retry.attempt + 1} in ${Math.round(retry.waitMs)} ms` +
          (retry.header ? ` (${retry.header})` : ""),
      }),
  });
  const ctx: RunContext = {
    out,
    runId,
    loaded,
    baseUrl: run.baseUrl,
    client,
    state: record.state,
    // Snapshots are written with asynchronous calls on this thread (fsync before rename, so a
    // manifest line still never names a file that is not durable): a snapshot thread cost a
    // second isolate (≈ 0.1 s of CPU to start, 20–30 MB) and a copy of every body, for file
    // calls that wait on the disk, not on this thread.
    snapshots: new SnapshotStore(out),
    // Page lines are appended only once their snapshots resolved (durable, size known).
    manifest: new ManifestWriter(out, {
      secrets: loaded.secretValues,
      checkSnapshot: false,
      beforeWrite: () => record.begin(),
    }),
    report: new RunReportBuilder(runId, {
      clock: () => clock.now(),
      configSha256: loaded.sha256,
      env,
    }),
    log,
    progress: parts.progress,
    pool: new WorkerPool({ size: options.workers ?? config.workers }),
    env,
    secrets: loaded.secretValues,
    now,
    startFlags: options.fullRefresh === true || options.since !== undefined,
    fullRefresh: options.fullRefresh === true,
    outputs: run.outputs,
    signal: options.signal,
  };
  return { ctx, client };
}

/** The counts a finished harvest's run row keeps. */
function runCounts(built: RunReport, results: AssetResult[]): Record<string, number> {
  return {
    pages: built.totals.pages,
    records: built.totals.records,
    rows: results.reduce((n, r) => n + r.rows, 0),
    retries: built.totals.retries,
    status_429: built.totals.status_429,
    skips: built.totals.skips,
    failed: results.filter((r) => r.status === "failed").length,
  };
}

/** Reads an asset's stored watermarks and decides its start; an error is the asset's failure. */
async function startOf(
  state: StateStore,
  asset: AssetConfig,
  options: HarvestOptions,
  now: () => Date,
  out: string,
): Promise<AssetStart | Error> {
  try {
    const kind = watermarkKind(asset);
    let newest: string | null = null;
    let oldest: string | null = null;
    let sample: WireSample | null = null;
    if (isTimeline(asset)) {
      newest = (await state.getWatermark(asset.name, WATERMARK_TYPES.newest))?.lastId ?? null;
      oldest = (await state.getWatermark(asset.name, WATERMARK_TYPES.oldest))?.lastId ?? null;
    } else if (asset.incremental) {
      const row = await state.getWatermark(asset.name, WATERMARK_TYPES.default);
      newest = (kind === "id" ? row?.lastId : row?.lastTimestamp) ?? null;
      const boundary = newest === null ? undefined : await readBoundary(state, asset.name);
      if (boundary?.raw !== undefined) sample = { value: boundary.value, raw: boundary.raw };
    }
    const fromOutput = newest === null && !options.fullRefresh && options.since === undefined &&
      asset.incremental !== undefined && kind === "timestamp" && !isTimeline(asset);
    return decideStart(asset, { newest, oldest, sample }, {
      fullRefresh: options.fullRefresh,
      since: options.since,
      direction: options.direction,
      now: now(),
      output: fromOutput ? await newestLoadDate(out, asset, { env: options.env }) : null,
    });
  } catch (error) {
    return error as Error;
  }
}

/** Every problem that needs no request, at once: exit 2 before anything is sent. */
function preflight(
  config: Config,
  assets: AssetConfig[],
  options: HarvestOptions,
  baseUrl: string | undefined,
): void {
  const issues: ConfigIssue[] = [];
  if (
    options.workers !== undefined && !(Number.isInteger(options.workers) && options.workers >= 1)
  ) {
    issues.push({
      path: "--workers",
      message: `expected a whole number ≥ 1, got ${options.workers}`,
    });
  }
  const direction = options.direction ?? "forward";
  if (direction !== "forward" && direction !== "backfill") {
    issues.push({
      path: "--direction",
      message: `expected forward or backfill, got "${direction}"`,
    });
  }
  if (direction === "backfill" && (options.fullRefresh || options.since !== undefined)) {
    throw new UsageError(
      "--direction backfill continues below X_oldest; drop --full-refresh and --since",
    );
  }
  if (baseUrl !== undefined) {
    try {
      const url = new URL(baseUrl);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError();
    } catch {
      issues.push({ path: "base_url", message: `expected an http(s) URL, got "${baseUrl}"` });
    }
  }
  for (const asset of assets) {
    issues.push(...assetIssues(config, asset, options, baseUrl, direction));
  }
  if (issues.length > 0) throw new ConfigError("cannot start the harvest", issues);
}

/** What stops one asset from starting, found before any request. */
function assetIssues(
  config: Config,
  asset: AssetConfig,
  options: HarvestOptions,
  baseUrl: string | undefined,
  direction: string,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const i = config.assets.indexOf(asset);
  const at = (path: string) => `assets[${i}]${path}`;
  if (asset.path.startsWith("/") && baseUrl === undefined) {
    issues.push({ path: "base_url", message: `required by ${at(".path")} "${asset.path}"` });
  }
  if (asset.contract) {
    try {
      getContract(asset.contract);
    } catch (error) {
      for (const issue of (error as ConfigError).issues ?? []) {
        issues.push({ path: at(".contract"), message: issue.message });
      }
    }
  }
  try {
    parsePartitionSpecs(asset.output.partition_by ?? []);
  } catch (error) {
    for (const issue of (error as ConfigError).issues ?? []) {
      issues.push({ path: at(`.output.${issue.path}`), message: issue.message });
    }
  }
  if (asset.partition?.by === "page" && asset.pagination.type !== "page") {
    issues.push({
      path: at(".partition.by"),
      message:
        `"page" splits page-number pagination; this asset's pagination is ${asset.pagination.type} (split it on a key column instead)`,
    });
  }
  if (direction === "backfill" && !(isTimeline(asset) && asset.incremental)) {
    issues.push({
      path: at(""),
      message:
        `--direction backfill walks a timeline below its X_oldest; "${asset.name}" is not an incremental timeline (choose assets with --asset)`,
    });
  }
  if (options.since !== undefined && asset.incremental) {
    try {
      normalizeWatermark(options.since, watermarkKind(asset));
    } catch {
      issues.push({
        path: "--since",
        message: `"${options.since}" is not ${
          watermarkKind(asset) === "id" ? "a whole-number id" : "a timestamp"
        }, as asset "${asset.name}" needs`,
      });
    }
  }
  return issues;
}
