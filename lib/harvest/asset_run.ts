/**
 * One asset within a run: plan it (or take up its unfinished plan), clean what a crash left in
 * its output folder, walk its partitions on the run's shared workers, and — only once every
 * partition reached its end — finish the output, advance the watermark (with its boundary) and
 * mark the asset's pages complete. A rate-limit wait above `max_wait_s` skips the asset (recorded,
 * retried first next run); any other failure fails it; either way its committed pages stay and
 * the next run resumes them. Never throws: the outcome is in the {@link AssetResult}.
 * @module
 */
import { relative } from "node:path";
import type { LoadedConfig } from "../config/load.ts";
import { type AssetConfig, dataOptional, writeModeOf } from "../config/schema.ts";
import { renderParams } from "../config/templating.ts";
import { type AssetTyping, checkRejectRatio } from "../contracts/mod.ts";
import type { HttpClient } from "../http/client.ts";
import { TidemarkError } from "../core/errors.ts";
import { HttpError, RateLimitedError } from "../http/http_error.ts";
import { createPaginator, type Paginator, totalPages } from "../paginate/mod.ts";
import type { PagePaginationConfig } from "../paginate/page.ts";
import type { ManifestRecord, ManifestWriter } from "../provenance/manifest.ts";
import type { SnapshotStore } from "../provenance/snapshot.ts";
import type { Logger } from "../report/logger.ts";
import type { Progress } from "../report/progress.ts";
import type { RunReportBuilder } from "../report/run_report.ts";
import {
  compareWatermarks,
  newerWatermark,
  olderWatermark,
  type StateStore,
} from "../state/mod.ts";
import {
  type AssetPlan,
  type PlannedPartition,
  readBoundary,
  readPlan,
  saveBoundary,
  savePlan,
} from "./asset_plan.ts";
import { type AssetOutput, openAssetOutput } from "../pipeline/asset_output.ts";
import {
  assetTypingOf,
  readColumnTypes,
  saveColumnTypes,
  sinkColumnsOf,
} from "../pipeline/asset_columns.ts";
import { probeKeyRange, splitKeyRange } from "./key_ranges.ts";
import { boundedPages, pageGroups } from "./page_parallel.ts";
import type { FetchedPage, PageOutcome, PageStepContext } from "./page_step.ts";
import { fetchPage, type FetchSpec, walkPartition } from "./partition_walk.ts";
import { type AssetStart, isTimeline, WATERMARK_TYPES } from "./plan.ts";
import { watermarkKind } from "../pipeline/watermark_tracker.ts";
import { removeOrphanParts, replayCommittedPages } from "./resume.ts";
import { recordComplete, recordPlan, recordProbe, type RunOutputs } from "./run_outputs.ts";
import { WatermarkTracker } from "../pipeline/watermark_tracker.ts";
import { watermarkParam } from "./watermark_wire.ts";
import { forEachPartitions } from "./for_each.ts";
import { shapedWriter } from "../pipeline/record_shape.ts";
import type { WorkerPool } from "./worker_pool.ts";

/** What every asset of a run shares. */
export interface RunContext {
  /** The out folder. */
  out: string;
  /** This run. */
  runId: string;
  /** The loaded config (hash, auth alias, secrets). */
  loaded: LoadedConfig;
  /** Base URL of relative asset paths. */
  baseUrl: string | undefined;
  /** The HTTP session (one limiter, budget, auth for the run). */
  client: HttpClient;
  /** The state store. */
  state: StateStore;
  /** Raw snapshots. */
  snapshots: SnapshotStore;
  /** The manifest. */
  manifest: ManifestWriter;
  /** The run report. */
  report: RunReportBuilder;
  /** The run's logger. */
  log: Logger;
  /** Progress display. */
  progress: Progress;
  /** The run's workers. */
  pool: WorkerPool;
  /** Versions. */
  env: ManifestRecord["env"];
  /** Secret values. */
  secrets: readonly string[];
  /** The run's clock. */
  now: () => Date;
  /** `--full-refresh` / `--since` were given (a resumed plan ignores them). */
  startFlags: boolean;
  /** `--full-refresh` was given: column types are decided anew. @default false */
  fullRefresh?: boolean;
  /** Destinations and end-of-run output steps. @default none: no uploads */
  outputs?: RunOutputs;
  /** Stops the run at its next page boundary. @default never */
  signal?: AbortSignal;
}

/** How one asset ended. */
export interface AssetResult {
  /** The asset. */
  asset: string;
  /** `ok`, `unchanged` (nothing new written), `failed` or `skipped` (rate limit). */
  status: "ok" | "unchanged" | "failed" | "skipped";
  /** Pages committed by this run. */
  pages: number;
  /** Records received. */
  records: number;
  /** Rows written. */
  rows: number;
  /** Records dropped as written by the previous run (watermark boundary). */
  duplicatesDropped: number;
  /** Records the contract rejected. */
  rejected: number;
  /** Partitions walked. */
  partitions: number;
  /** Whether it continued an interrupted harvest. */
  resumed: boolean;
  /** Parts deleted because no committed page named them (a crash's leftovers). */
  orphansRemoved: number;
  /** The asset's output folder, as readers use it, relative to the out folder. */
  output: string | null;
  /** Watermark before and after (after = before unless the asset completed). */
  watermark: { before: string | null; after: string | null } | null;
  /** Why it failed or was skipped. */
  error?: string;
  /** Change detection's verdict, when it ended the asset without a harvest. */
  changeDetection?: string;
}

/** The result of an asset that has written nothing yet: every count zero, no output. */
export function emptyAssetResult(asset: string, status: AssetResult["status"]): AssetResult {
  return {
    asset,
    status,
    pages: 0,
    records: 0,
    rows: 0,
    duplicatesDropped: 0,
    rejected: 0,
    partitions: 0,
    resumed: false,
    orphansRemoved: 0,
    output: null,
    watermark: null,
  };
}

/** The error of an asset the run's stop ended before it completed. */
function stoppedError(): TidemarkError {
  return new TidemarkError(
    "stopped before it completed (the run was asked to stop); its committed pages are kept " +
      "and the next run resumes it from there",
  );
}

/** Runs one asset to its end; never throws. `start` is its starting point, or why it cannot start. */
export async function runAsset(
  ctx: RunContext,
  asset: AssetConfig,
  start: AssetStart | Error,
): Promise<AssetResult> {
  const log = ctx.log.child({ asset: asset.name });
  const result = emptyAssetResult(asset.name, "ok");
  const abort = new AbortController();
  // The run's stop reaches every request and wait of the asset; what was committed stays.
  const stop = () => abort.abort(stoppedError());
  ctx.signal?.addEventListener("abort", stop, { once: true });
  try {
    if (ctx.signal?.aborted) throw stoppedError();
    if (start instanceof Error) throw start;
    const setup = await ctx.pool.run(() => setupAsset(ctx, asset, start, abort.signal, log));
    result.resumed = setup.resumed;
    result.partitions = setup.plan.partitions.length;
    result.orphansRemoved = setup.orphans;
    // The folder readers use (replace and merge stage their parts elsewhere until the switch).
    result.output = relative(ctx.out, setup.output.assetDir).replaceAll("\\", "/");
    result.watermark = { before: setup.plan.watermark_in, after: setup.plan.watermark_in };
    const onPage = (outcome: PageOutcome) => {
      result.pages++;
      result.records += outcome.records;
      result.rows += outcome.rows;
      result.duplicatesDropped += outcome.dropped;
      result.rejected += outcome.rejected;
      ctx.progress.update(asset.name, { pages: 1, rows: outcome.rows });
      log.debug("page.committed", {
        page: outcome.seq,
        records: outcome.records,
        rows: outcome.rows,
        msg: `${outcome.rows} rows${outcome.dropped ? `, ${outcome.dropped} already written` : ""}`,
      });
    };
    await walkPartitions(ctx, asset, setup, abort, onPage);
    result.watermark = await finishAsset(ctx, asset, setup, result);
    const missing = boundaryMissing(asset, setup);
    if (missing !== null) {
      log.warn("watermark.boundary_missing", { msg: missing });
      ctx.report.note(asset.name, missing);
    }
    result.status = result.rows === 0 ? "unchanged" : "ok";
    if (result.duplicatesDropped > 0) {
      ctx.report.note(
        asset.name,
        `${result.duplicatesDropped} records at the watermark boundary were already written by the previous run and were dropped`,
      );
    }
    ctx.report.rejects(asset.name, result.rejected);
    ctx.report.finishAsset(asset.name, result.status);
    log.info("asset.done", {
      msg:
        `${result.pages} pages, ${result.records} records, ${result.rows} rows written in ${result.partitions} partition(s)${
          result.resumed ? " (resumed)" : ""
        }`,
    });
  } catch (error) {
    abort.abort(error);
    await assetFailed(ctx, asset, result, error, log);
  }
  ctx.signal?.removeEventListener("abort", stop);
  ctx.progress.done(asset.name, result.status);
  return result;
}

/**
 * Walks every partition of the asset on the shared workers; one failing ends its siblings (the
 * asset will not complete this run) and its error, not a sibling's abort, is thrown.
 */
async function walkPartitions(
  ctx: RunContext,
  asset: AssetConfig,
  setup: AssetSetup,
  abort: AbortController,
  onPage: (outcome: PageOutcome) => void,
): Promise<void> {
  const walks = setup.plan.partitions.map((partition) =>
    ctx.pool.run(() => walkOne(ctx, asset, setup, partition, abort.signal, onPage))
      .catch((error) => {
        // One partition failing ends its siblings: the asset will not complete this run.
        abort.abort(error);
        throw error;
      })
  );
  const settled = await Promise.allSettled(walks);
  const failures = settled.filter((s) => s.status === "rejected").map((s) => s.reason);
  if (failures.length > 0) {
    throw failures.find((e) => !(e instanceof HttpError && e.reason === "aborted")) ??
      failures[0];
  }
}

/** Records how an asset that threw ended: skipped for a rate limit (kept for the next run), or failed. */
async function assetFailed(
  ctx: RunContext,
  asset: AssetConfig,
  result: AssetResult,
  error: unknown,
  log: Logger,
): Promise<void> {
  const message = ctx.signal?.aborted
    ? stoppedError().message
    : ctx.client.redactText((error as Error)?.message ?? String(error));
  result.error = message;
  ctx.report.rejects(asset.name, result.rejected);
  if (error instanceof RateLimitedError) {
    result.status = "skipped";
    await ctx.state.recordSkip({
      runId: ctx.runId,
      assetId: asset.name,
      reason: message,
      retryAt: error.retryAt.toISOString(),
    });
    ctx.report.skip(asset.name, message);
    ctx.report.finishAsset(asset.name, "skipped");
    log.warn("asset.skipped", { msg: message });
  } else {
    result.status = "failed";
    ctx.report.error(asset.name, message);
    ctx.report.finishAsset(asset.name, "failed");
    log.error("asset.failed", { msg: message });
  }
}

/** What a set-up asset carries into its walks. */
interface AssetSetup {
  plan: AssetPlan;
  resumed: boolean;
  orphans: number;
  output: AssetOutput;
  tracker: WatermarkTracker | null;
  typing: AssetTyping;
  url: string;
  params: Record<string, string>;
  spec: FetchSpec;
  /** Page-parallel assets: the first page, fetched to learn the total, with its paginator. */
  first?: { page: FetchedPage | "end"; paginator: Paginator };
  nextSeq: () => number;
  /** Records a new plan (manifest event, state) once; a resumed plan is recorded already. */
  recordPlan: () => Promise<void>;
  /** Before each commit: the plan, and the column types once decided. */
  beforeCommit: () => Promise<void>;
}

async function setupAsset(
  ctx: RunContext,
  asset: AssetConfig,
  start: AssetStart,
  signal: AbortSignal,
  log: Logger,
): Promise<AssetSetup> {
  const state = ctx.state;
  let plan = await readPlan(state, asset.name);
  if (plan?.status === "complete") {
    // Killed between marking the plan complete and completing the pages: finish that now.
    if ((await state.pendingPages(asset.name)).length > 0) {
      await state.completeAsset(asset.name, ctx.runId);
    }
    plan = undefined;
  }
  const url = absoluteUrl(asset.path, ctx.baseUrl);
  const spec: FetchSpec = {
    method: asset.method,
    headers: asset.headers,
    body: asset.body,
    dataPath: asset.data_path,
    label: asset.name,
    scope: asset.name,
    dataOptional: dataOptional(asset),
  };
  const setup: Partial<AssetSetup> = {
    url,
    spec,
    resumed: plan !== undefined,
  };
  let params: Record<string, string>;
  if (plan) {
    params = restoreParams(plan.params, renderBaseParams(ctx, asset, start));
    logResume(ctx, plan, log);
  } else {
    params = renderBaseParams(ctx, asset, start);
    plan = await newPlan(ctx, asset, start, { url, params, spec, signal, setup, log });
  }
  ctx.report.startAsset(asset.name, plan.start);
  if (plan.partitions.length > 1) {
    log.info("asset.partitions", {
      msg: plan.partitions.map((p) => p.key).join(", "),
    });
  }

  const { typing, output, removed } = await openOutput(ctx, asset, plan, setup, log);
  const tracker = await trackerFor(ctx, asset, plan, setup.resumed === true);
  let seq = 0;
  const planOnce = setup.recordPlan ?? (() => Promise.resolve());
  let typesRecorded = false;
  return {
    ...setup,
    plan,
    resumed: setup.resumed ?? false,
    recordPlan: planOnce,
    // The types are decided with the first page: recorded with its commit, so a resumed run
    // writes the rest of the asset with the same schema.
    beforeCommit: async () => {
      await planOnce();
      if (typesRecorded || !typing.decided) return;
      typesRecorded = true;
      for (const change of typing.changes) {
        log.info("schema.change", { msg: change });
        ctx.report.note(asset.name, `schema change: ${change}`);
      }
      await saveColumnTypes(state, asset.name, typing.columns);
    },
    orphans: removed.length,
    output,
    tracker,
    typing,
    url,
    params,
    spec,
    nextSeq: () => ++seq,
  };
}

/** Says how a run continues an unfinished harvest's plan, and what it does not apply now. */
function logResume(ctx: RunContext, plan: AssetPlan, log: Logger): void {
  log.info("asset.resume", {
    msg: `continuing the unfinished harvest planned by run ${plan.run_id} (${plan.start.reason})`,
  });
  if (plan.config_sha256 !== ctx.loaded.sha256) {
    log.warn("asset.resume_config_changed", {
      msg: "the config changed since that harvest was planned; it is finished with its plan",
    });
  }
  if (ctx.startFlags) {
    log.warn("asset.resume_ignores_flags", {
      msg: "--full-refresh/--since apply once this unfinished harvest is complete",
    });
  }
}

/**
 * A new harvest's plan (its partitions probed), recorded with the asset's first write: a run
 * that fails before it, on a bad first response, leaves the previous plan and manifest as they
 * were.
 */
async function newPlan(
  ctx: RunContext,
  asset: AssetConfig,
  start: AssetStart,
  at: {
    url: string;
    params: Record<string, string>;
    spec: FetchSpec;
    signal: AbortSignal;
    setup: Partial<AssetSetup>;
    log: Logger;
  },
): Promise<AssetPlan> {
  const partitions = await planPartitions(
    ctx,
    asset,
    at.url,
    at.params,
    at.spec,
    at.signal,
    at.setup,
  );
  const plan: AssetPlan = {
    version: 1,
    run_id: ctx.runId,
    status: "active",
    config_sha256: ctx.loaded.sha256,
    start: start.decision,
    watermark_in: start.watermark ?? start.sinceId ?? start.untilId,
    dedupe: start.dedupe,
    since_id: start.sinceId,
    until_id: start.untilId,
    params: storedParams(at.params, ctx.secrets),
    partitions,
  };
  let recorded: Promise<void> | undefined;
  at.setup.recordPlan = () =>
    recorded ??= (async () => {
      await recordPlan(ctx, asset, plan);
      await savePlan(ctx.state, asset.name, plan);
    })();
  for (const warning of start.warnings) {
    at.log.warn("watermark.clamped", { msg: warning });
    ctx.report.note(asset.name, warning);
  }
  return plan;
}

/** The asset's column typing and output; parts written but never committed are deleted. */
async function openOutput(
  ctx: RunContext,
  asset: AssetConfig,
  plan: AssetPlan,
  setup: Partial<AssetSetup>,
  log: Logger,
) {
  const state = ctx.state;
  // A new full refresh rewrites the asset: its types are decided anew.
  const fresh = !setup.resumed && ctx.fullRefresh === true;
  const typing = assetTypingOf(
    asset,
    fresh ? {} : await readColumnTypes(state, asset.name, ctx.out),
  );
  const output = await openAssetOutput(ctx.out, asset.name, {
    output: { ...asset.output, mode: writeModeOf(asset).mode },
    runId: ctx.runId,
    planRunId: plan.run_id,
    columns: sinkColumnsOf(asset, typing),
    batchRows: asset.batch_size,
    loadTime: ctx.now(),
    primaryKey: asset.primary_key,
    orderBy: asset.incremental?.cursor_field,
    upload: ctx.outputs?.uploader(asset.output),
  });
  const removed = await removeOrphanParts(
    ctx.out,
    output.relDir,
    await state.committedOutputs(asset.name),
  );
  if (removed.length > 0) {
    log.info("resume.orphans_removed", {
      msg: `${removed.length} part(s) written but never committed were deleted`,
    });
  }

  return { typing, output, removed };
}

/** The watermark tracker of an incremental asset, fed the pages a resumed plan committed. */
async function trackerFor(
  ctx: RunContext,
  asset: AssetConfig,
  plan: AssetPlan,
  resumed: boolean,
): Promise<WatermarkTracker | null> {
  if (!asset.incremental) return null;
  const tracker = new WatermarkTracker(asset.incremental.cursor_field, {
    kind: watermarkKind(asset),
    primaryKey: asset.primary_key,
    lookback: asset.incremental.lookback,
    previous: plan.dedupe ? await readBoundary(ctx.state, asset.name) : null,
  });
  if (resumed) {
    await replayCommittedPages(ctx.out, ctx.state, asset.name, tracker, {
      dataPath: asset.data_path,
      dataOptional: dataOptional(asset),
    });
  }
  return tracker;
}

/** Partitions of a new plan: one, key ranges (probed), or page groups (after the first page). */
async function planPartitions(
  ctx: RunContext,
  asset: AssetConfig,
  url: string,
  params: Record<string, string>,
  spec: FetchSpec,
  signal: AbortSignal,
  setup: Partial<AssetSetup>,
): Promise<PlannedPartition[]> {
  const partition = asset.partition;
  const whole: PlannedPartition[] = [{ index: 0, key: "", params: {}, first: null, last: null }];
  if (asset.for_each !== undefined) return await forEachPartitions(ctx, asset);
  if (!partition || partition.parts <= 1 && partition.by !== "page") return whole;
  if (partition.by === "page" && asset.pagination.type === "page") {
    const pagination = asset.pagination as PagePaginationConfig;
    const paginator = createPaginator(pagination, paginatorOptions(ctx, asset, "", null));
    const request = paginator.first({ url, params });
    const page = await fetchPage(ctx.client, paginator, request, spec, signal);
    const total = page === "end" ? undefined : totalPages(pagination, {
      status: page.result.status,
      headers: page.result.headers,
      body: page.body,
      records: page.records,
    }, asset.name);
    const groups = pageGroups(pagination.start, total, partition.parts);
    const first = groups[0];
    if (page !== "end" && first.last !== null && page.next !== "done") {
      if (Number(page.next.cursor) > first.last) page.next = "done";
    }
    setup.first = { page, paginator };
    return groups.map((g) => ({
      index: g.index,
      key: g.key,
      params: {},
      first: g.first,
      last: g.last,
    }));
  }
  const probe = await probeKeyRange(
    ctx.client,
    {
      url,
      params,
      method: asset.method,
      headers: asset.headers,
      dataPath: asset.data_path,
    },
    partition,
    {
      signal,
      label: asset.name,
      scope: asset.name,
      onResponse: (end, response) => recordProbe(ctx, asset.name, end, response),
    },
  );
  if (probe === null) return whole;
  return splitKeyRange(partition.by, probe.min, probe.max, partition.parts, {
    lowerParam: partition.lower_param,
    upperParam: partition.upper_param,
  }).map((r) => ({ index: r.index, key: r.key, params: r.params, first: null, last: null }));
}

async function walkOne(
  ctx: RunContext,
  asset: AssetConfig,
  setup: AssetSetup,
  partition: PlannedPartition,
  signal: AbortSignal,
  onPage: (outcome: PageOutcome) => void,
): Promise<void> {
  const partitioned = setup.plan.partitions.length > 1;
  const useFirst = partition.index === 0 && setup.first !== undefined;
  let paginator = useFirst ? setup.first!.paginator : createPaginator(
    asset.pagination,
    paginatorOptions(ctx, asset, partition.key, setup.plan),
  );
  const base = { url: setup.url, params: { ...setup.params, ...partition.params } };
  let firstRequest;
  if (partition.first !== null) {
    paginator = boundedPages(paginator, partition.last);
    const start = (asset.pagination as PagePaginationConfig).start;
    if (partition.first !== start) {
      firstRequest = paginator.resume(base, { cursor: String(partition.first), page: 0 });
    }
  }
  const pageCtx: PageStepContext = {
    out: ctx.out,
    runId: ctx.runId,
    asset,
    partitionKey: partition.key,
    partitionIndex: partitioned ? partition.index : null,
    snapshots: ctx.snapshots,
    manifest: ctx.manifest,
    state: ctx.state,
    output: shapedWriter(setup.output, asset, { runId: ctx.runId, now: ctx.now() }),
    tracker: setup.tracker,
    typing: setup.typing,
    nextSeq: setup.nextSeq,
    configSha256: ctx.loaded.sha256,
    env: ctx.env,
    authAlias: ctx.loaded.authAlias,
    watermarkIn: setup.plan.watermark_in,
    secrets: ctx.secrets,
    onRecord: (record) => ctx.report.request(record),
  };
  const firstPage = useFirst ? setup.first!.page : undefined;
  if (firstPage === "end") return;
  await walkPartition(pageCtx, {
    client: ctx.client,
    state: ctx.state,
    paginator,
    base,
    firstRequest,
    firstPage,
    spec: setup.spec,
    batchRows: asset.batch_size,
    now: () => ctx.now().getTime(),
    signal,
    onPage,
    beforeCommit: setup.beforeCommit,
    keepStaged: (error) => error instanceof RateLimitedError || ctx.signal?.aborted === true,
    onPageFailed: (request, error) =>
      ctx.report.failedPage(asset.name, {
        partition: partition.key,
        page: request.page,
        cursor: request.cursor ?? null,
        error: ctx.client.redactText((error as Error)?.message ?? String(error)),
      }),
  });
}

function paginatorOptions(
  ctx: RunContext,
  asset: AssetConfig,
  key: string,
  plan: AssetPlan | null,
) {
  const auth = ctx.loaded.config.auth;
  return {
    maxPages: asset.max_pages,
    label: key ? `${asset.name} [${key}]` : asset.name,
    stripParams: auth.type === "query" ? [auth.name] : [],
    sinceId: plan?.since_id ?? null,
    untilId: plan?.until_id ?? null,
  };
}

/**
 * The boundary self-check: a `>= W` walk that saw no row at `W`, although the last run wrote rows
 * there, most likely sent `W` in a form the source does not compare as the same instant (text
 * against text of another shape). Null when the boundary was seen, or there is nothing to check.
 */
function boundaryMissing(asset: AssetConfig, setup: AssetSetup): string | null {
  const tracker = setup.tracker;
  const inc = asset.incremental;
  if (!tracker || !inc?.param || isTimeline(asset)) return null;
  const expected = tracker.previousAtValue;
  if (expected === 0 || tracker.atPreviousValue > 0) return null;
  if (setup.plan.watermark_in !== tracker.previousValue) return null;
  const sent = setup.params[inc.param];
  return `${inc.param}=${sent} returned no row at the watermark ${setup.plan.watermark_in}, ` +
    `although the last run wrote ${expected} there; if those rows still exist, the source ` +
    `does not read the parameter as that instant: set incremental.param_format (now ` +
    `${inc.param_format}; auto sends the source's own text of the value)`;
}

/** After every partition ended: output, watermark and boundary, plan complete, pages complete. */
async function finishAsset(
  ctx: RunContext,
  asset: AssetConfig,
  setup: AssetSetup,
  result: AssetResult,
): Promise<AssetResult["watermark"]> {
  const state = ctx.state;
  await setup.recordPlan();
  checkRejectRatio({ rejected: result.rejected, total: result.records }, {
    asset: asset.name,
    maxRejectRatio: asset.max_reject_ratio,
    minRejectsToFail: asset.min_rejects_to_fail,
  });
  const files = await setup.output.finish();
  // Every column the asset wrote, also those first seen after the first page.
  const written = { ...setup.typing.columns, ...setup.output.schema };
  for (const change of setup.typing.laterColumns(written)) {
    ctx.log.child({ asset: asset.name }).info("schema.change", { msg: change });
    ctx.report.note(asset.name, `schema change: ${change}`);
  }
  if (Object.keys(written).length > 0) await saveColumnTypes(state, asset.name, written);
  let watermark: AssetResult["watermark"] = null;
  const tracker = setup.tracker;
  if (asset.incremental && tracker) {
    const kind = watermarkKind(asset);
    if (isTimeline(asset)) {
      const newest = await state.getWatermark(asset.name, WATERMARK_TYPES.newest);
      const oldest = await state.getWatermark(asset.name, WATERMARK_TYPES.oldest);
      const x = newerWatermark(newest?.lastId, tracker.newest, { kind: "id" });
      const xOldest = olderWatermark(oldest?.lastId, tracker.oldest, { kind: "id" });
      if (x !== null) {
        await state.setWatermark({
          assetId: asset.name,
          dataType: WATERMARK_TYPES.newest,
          lastId: x,
        });
      }
      if (xOldest !== null) {
        await state.setWatermark({
          assetId: asset.name,
          dataType: WATERMARK_TYPES.oldest,
          lastId: xOldest,
        });
      }
      watermark = { before: newest?.lastId ?? null, after: x };
    } else {
      const stored = await state.getWatermark(asset.name, WATERMARK_TYPES.default);
      const before = (kind === "id" ? stored?.lastId : stored?.lastTimestamp) ?? null;
      const after = newerWatermark(before, tracker.newest, { kind });
      if (after !== null && after !== before) {
        await state.setWatermark(
          kind === "id"
            ? { assetId: asset.name, lastId: after }
            : { assetId: asset.name, lastTimestamp: after },
        );
      }
      watermark = { before, after };
    }
    const boundary = tracker.boundary();
    const previousValue = watermark.before;
    if (
      boundary &&
      (previousValue === null || isTimeline(asset) ||
        compareWatermarks(boundary.value, previousValue, { kind }) >= 0)
    ) {
      await saveBoundary(state, asset.name, boundary);
    }
  }
  await recordComplete(
    ctx,
    asset,
    files && await setup.output.describe(files),
    ctx.outputs?.uploader(asset.output),
  );
  await savePlan(state, asset.name, { ...setup.plan, status: "complete" });
  await state.completeAsset(asset.name, ctx.runId);
  await state.clearSkip(asset.name);
  return watermark;
}

/** The asset's query parameters: templates rendered, the watermark in `incremental.param`. */
export function renderBaseParams(
  ctx: RunContext,
  asset: AssetConfig,
  start: AssetStart,
): Record<string, string> {
  const params = renderParams(asset.params, {
    watermark: start.watermark ?? start.sinceId,
    runId: ctx.runId,
    now: ctx.now(),
  });
  const inc = asset.incremental;
  if (inc?.param && start.watermark !== null && !isTimeline(asset)) {
    params[inc.param] = watermarkParam(start.watermark, {
      kind: inc.kind,
      format: inc.param_format,
      samples: start.samples,
    });
  }
  return params;
}

/** Params for the plan: values holding a secret are not stored (null), only their names. */
function storedParams(
  params: Record<string, string>,
  secrets: readonly string[],
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(params)) {
    out[name] = secrets.some((s) => s.length > 0 && value.includes(s)) ? null : value;
  }
  return out;
}

function restoreParams(
  stored: Record<string, string | null>,
  current: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(stored)) {
    const restored = value ?? current[name];
    if (restored !== undefined) out[name] = restored;
  }
  return out;
}

/** The URL of an asset's path: itself when absolute, else below `base_url`. */
export function absoluteUrl(path: string, baseUrl: string | undefined): string {
  if (/^https?:\/\//.test(path)) return path;
  const base = (baseUrl ?? "").replace(/\/+$/, "");
  return `${base}${path}`;
}
