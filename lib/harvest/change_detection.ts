/**
 * Change detection before a scheduled run: decide with as little as one
 * request whether an asset changed since its last harvest, and when it did not, end the asset at
 * once — nothing fetched, nothing written, the report says why.
 *
 * - `latest` (`change_detection: { params: { orderby: modified, order: desc, per_page: 1 } }`):
 *   one request for the newest record; the asset changed when its `cursor_field` is after the
 *   watermark in state.
 * - `etag` (the default): the pages of the last complete walk are requested again, following the
 *   cursors stored from that walk, with the `If-None-Match` validators stored per URL. An
 *   unchanged source answers 304 to every page: no body, no rate-limit token, no line written
 *   but the 304s themselves (`unchanged: true` in the manifest). The first 200 means "changed".
 *
 * The validators are recorded on every run by {@link RecordingHttpClient} and kept in state
 * ({@link WALK_DATA_TYPE}) by {@link saveWalkRecords} once an asset completes a whole walk.
 * @module
 */
import { z } from "zod";
import { type AssetConfig, dataOptional } from "../config/schema.ts";
import { renderParams } from "../config/templating.ts";
import { ConfigError, type ConfigIssue } from "../core/errors.ts";
import {
  HttpClient,
  type HttpClientOptions,
  type HttpClientRequestOptions,
} from "../http/client.ts";
import { buildUrl, type HttpRequest, type HttpResult, requestKey } from "../http/request.ts";
import { createPaginator, type PageRequest, type Paginator } from "../paginate/mod.ts";
import type { ManifestRecordInput } from "../provenance/manifest.ts";
import { select } from "../core/select.ts";
import { compareWatermarks, normalizeWatermark } from "../state/mod.ts";
import type { StateStore } from "../state/mod.ts";
import { readBoundary, readPlan } from "./asset_plan.ts";
import type { AssetResult, RunContext } from "./asset_run.ts";
import { absoluteUrl, emptyAssetResult, renderBaseParams } from "./asset_run.ts";
import { responseFields } from "./page_step.ts";
import { recordProbe } from "./run_outputs.ts";
import { responseBody, selectRecords } from "../pipeline/page_rows.ts";
import { type AssetStart } from "./plan.ts";
import { watermarkKind } from "../pipeline/watermark_tracker.ts";
import { scanManifest } from "./manifest_scan.ts";
import { WatermarkTracker } from "../pipeline/watermark_tracker.ts";
import { PARSE_ONCE } from "../core/parse_once.ts";

/** `data_type` of the state row holding an asset's last complete walk and its validators. */
export const WALK_DATA_TYPE = "change_walk";

/** One page of a recorded walk. */
export const walkPageSchema = z.strictObject({
  /** The request's key ({@link walkKey}: method, path and sorted query, no credential). */
  key: z.string().min(1),
  /** The validator the server sent with the page. */
  etag: z.string().min(1),
  /** The cursor of the next page; null on the last page. */
  cursor_out: z.string().nullable(),
});

/** An asset's last complete walk: every page's request key, validator and next cursor. */
export const walkRecordSchema = z.strictObject({
  version: z.literal(1),
  /** The run that walked it. */
  run_id: z.string(),
  /** The config it was walked with (another config may send other requests). */
  config_sha256: z.string(),
  /** The pages, in walk order. */
  pages: z.array(walkPageSchema).min(1),
});
/** A recorded walk. */
export type WalkRecord = z.infer<typeof walkRecordSchema>;

/** How an asset's change detection is done: `latest`, `etag` or `off`. */
export type ChangeMode = "latest" | "etag" | "off";

/** The mode of an asset: `change_detection.mode`, else `latest` when it gives params, else `etag`. */
export function changeMode(asset: AssetConfig): ChangeMode {
  const cd = asset.change_detection;
  return cd?.mode ?? (cd?.params ? "latest" : "etag");
}

/**
 * Problems of `change_detection:` that need more than its own field (exit 2 before any
 * request): `latest` reads the newest `incremental.cursor_field`, so it needs `incremental`.
 */
export function checkChangeDetection(assets: readonly AssetConfig[], all: readonly AssetConfig[]) {
  const issues: ConfigIssue[] = [];
  for (const asset of assets) {
    if (changeMode(asset) === "latest" && !asset.incremental) {
      issues.push({
        path: `assets[${all.indexOf(asset)}].change_detection`,
        message:
          `mode latest compares the newest record with the watermark; asset "${asset.name}" has no incremental: (use mode etag)`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError("invalid change_detection", issues);
}

/** Validators seen during a run, by request key, for {@link saveWalkRecords}. */
export class EtagRecorder {
  readonly #etags = new Map<string, string>();

  /** Records the validator of a response. */
  record(key: string, etag: string): void {
    this.#etags.set(key, etag);
  }

  /** The validator last recorded for `key`. */
  get(key: string): string | undefined {
    return this.#etags.get(key);
  }

  /** Number of keys recorded. */
  get size(): number {
    return this.#etags.size;
  }
}

/**
 * The run's HTTP session, also recording the ETag of every successful GET (page requests are
 * sent unconditionally, so the session's own ETag store never sees them).
 */
export class RecordingHttpClient extends HttpClient {
  /** Where validators go. */
  readonly recorder: EtagRecorder;
  readonly #baseUrl: string | URL | undefined;

  /** A session like `new HttpClient(options)` that records into `recorder`. */
  constructor(options: HttpClientOptions, recorder: EtagRecorder = new EtagRecorder()) {
    super(options);
    this.recorder = recorder;
    this.#baseUrl = options.baseUrl;
  }

  /** Sends like {@link HttpClient.fetch}, recording the response's validator. */
  override async fetch(
    request: HttpRequest | string | URL,
    options: HttpClientRequestOptions = {},
  ): Promise<HttpResult> {
    const result = await super.fetch(request, options);
    if (result.etag !== undefined && result.status >= 200 && result.status < 300) {
      const req: HttpRequest = typeof request === "string" || request instanceof URL
        ? { url: request }
        : request;
      const method = (req.method ?? "GET").toUpperCase();
      if (method === "GET") {
        try {
          this.recorder.record(walkKey(method, buildUrl(req, this.#baseUrl)), result.etag);
        } catch {
          // A URL that cannot be rebuilt cannot be asked again: nothing to record.
        }
      }
    }
    return result;
  }
}

/** What change detection found for one asset. */
export interface ChangeCheck {
  /** Whether the asset must be harvested. */
  changed: boolean;
  /** Why, in words, for the report and the log. */
  reason: string;
  /** Requests sent to decide. */
  requests: number;
  /** Manifest lines of the 304s of an unchanged `etag` re-walk (written only when unchanged). */
  lines: ManifestRecordInput[];
}

/** The verdict "harvest it", with why and how many requests it took to decide. */
function changed(reason: string, requests = 0): ChangeCheck {
  return { changed: true, reason, requests, lines: [] };
}

/** Reads an asset's recorded walk; undefined when none (or unreadable: then it is ignored). */
export async function readWalkRecord(
  state: StateStore,
  asset: string,
): Promise<WalkRecord | undefined> {
  const row = await state.getWatermark(asset, WALK_DATA_TYPE);
  if (!row?.lastId) return undefined;
  try {
    const parsed = walkRecordSchema.safeParse(JSON.parse(row.lastId), PARSE_ONCE);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decides whether `asset` changed since its last harvest, with its configured mode. Never
 * writes; a failure of the check itself says "changed" (the harvest then runs and reports any
 * real failure).
 *
 * @example
 * ```ts
 * import { detectChange } from "./change_detection.ts";
 * const check = await detectChange(ctx, asset, start, { skipped: [] });
 * if (!check.changed) console.log(check.reason); // "newest modified_gmt ... is not after ..."
 * ```
 */
export async function detectChange(
  ctx: RunContext,
  asset: AssetConfig,
  start: AssetStart,
  options: DetectChangeOptions = {},
): Promise<ChangeCheck> {
  const mode = changeMode(asset);
  if (mode === "off") return changed("change detection is off for this asset");
  if ((options.skipped ?? []).includes(asset.name)) {
    return changed("skipped for a rate limit last time: it runs first");
  }
  const plan = await readPlan(ctx.state, asset.name).catch(() => undefined);
  if (plan?.status === "active") return changed("an unfinished harvest resumes");
  if (plan === undefined) return changed("never harvested");
  if (asset.for_each !== undefined) {
    return changed(`takes its parameters from "${asset.for_each}" (for_each): it runs every time`);
  }
  const source = start.decision.source;
  if (source === "full_refresh" || source === "since") {
    return changed(`--${source === "full_refresh" ? "full-refresh" : "since"} was given`);
  }
  try {
    return mode === "latest"
      ? await latestCheck(ctx, asset, start, options.signal)
      : await etagCheck(ctx, asset, start, options.signal);
  } catch (error) {
    const message = ctx.client.redactText((error as Error)?.message ?? String(error));
    return changed(`the check failed (${message}): harvesting`, 1);
  }
}

/** Options of {@link detectChange}. */
export interface DetectChangeOptions {
  /** Assets a rate limit skipped last time (they always run). @default [] */
  skipped?: readonly string[];
  /** Aborts the check. */
  signal?: AbortSignal;
}

async function latestCheck(
  ctx: RunContext,
  asset: AssetConfig,
  start: AssetStart,
  signal?: AbortSignal,
): Promise<ChangeCheck> {
  const inc = asset.incremental!;
  const stored = start.decision.source === "state" ? start.decision.value : null;
  if (stored === null) return changed("no watermark in state yet");
  const kind = watermarkKind(asset);
  // The asset's own parameters without the watermark filter, then the probe's.
  const context = { watermark: null, runId: ctx.runId, now: ctx.now() };
  const params = renderParams(asset.params, context);
  if (inc.param) delete params[inc.param];
  Object.assign(params, renderParams(asset.change_detection?.params ?? {}, context));
  const result = await ctx.client.fetch({
    url: absoluteUrl(asset.path, ctx.baseUrl),
    params,
    method: asset.method,
    headers: asset.headers,
    body: asset.body,
    conditional: false,
    scope: asset.name,
  }, { signal });
  const body = responseBody(result, asset.name);
  const records = selectRecords(body, asset.data_path, asset.name, {
    optional: dataOptional(asset),
  });
  await recordProbe(ctx, asset.name, "latest", { result, params, records: records.length });
  const query = Object.entries(asset.change_detection?.params ?? {}).map(([k, v]) => `${k}=${v}`)
    .join("&");
  const watermark = String(stored);
  if (records.length === 0) {
    return {
      changed: false,
      reason: `1 request (${query}) found no record at all; the watermark ${watermark} stands`,
      requests: 1,
      lines: [],
    };
  }
  const value = select(records[0], inc.cursor_field);
  if (value === undefined || value === null || value === "") {
    return changed(`the newest record has no ${inc.cursor_field}: harvesting`, 1);
  }
  const newest = normalizeWatermark(String(value), kind);
  const after = compareWatermarks(newest, watermark, { kind }) > 0;
  if (after) {
    return changed(
      `1 request (${query}): newest ${inc.cursor_field} ${newest} is after the watermark ${watermark}`,
      1,
    );
  }
  // A record tied at the watermark is new unless the last run wrote it (its boundary says which).
  const tied = await unwrittenAtWatermark(ctx, asset, records, watermark);
  if (tied !== null) {
    return changed(
      `1 request (${query}): record ${tied} has the watermark's ${inc.cursor_field} ${watermark} ` +
        "but the last run did not write it",
      1,
    );
  }
  return {
    changed: false,
    reason:
      `1 request (${query}): newest ${inc.cursor_field} ${newest} is not after the watermark ${watermark}; nothing changed, nothing fetched`,
    requests: 1,
    lines: [],
  };
}

/**
 * The key of a record of `records` whose cursor value equals the watermark and which the last
 * run's boundary does not hold (so it was inserted since, tied with the newest), or null. Null
 * too when there is no boundary to tell: the ordinary `>` check stands.
 */
async function unwrittenAtWatermark(
  ctx: RunContext,
  asset: AssetConfig,
  records: readonly Record<string, unknown>[],
  watermark: string,
): Promise<string | null> {
  const inc = asset.incremental!;
  const boundary = await readBoundary(ctx.state, asset.name);
  if (!boundary || boundary.value !== watermark || boundary.keys.length === 0) return null;
  const kind = watermarkKind(asset);
  const tracker = new WatermarkTracker(inc.cursor_field, {
    kind,
    primaryKey: asset.primary_key,
    lookback: inc.lookback,
    previous: boundary,
  });
  for (const record of tracker.visit(records).kept) {
    const value = select(record, inc.cursor_field);
    if (value === undefined || value === null || value === "") continue;
    if (compareWatermarks(normalizeWatermark(String(value), kind), watermark, { kind }) === 0) {
      const key = asset.primary_key?.map((k) => String(select(record, k))).join(", ");
      return key ? `${asset.primary_key!.join(", ")} = ${key}` : JSON.stringify(record);
    }
  }
  return null;
}

function walkPaginator(
  ctx: RunContext,
  asset: AssetConfig,
  since: string | null,
  until: string | null,
) {
  const auth = ctx.loaded.config.auth;
  return createPaginator(asset.pagination, {
    maxPages: asset.max_pages,
    label: asset.name,
    stripParams: auth.type === "query" ? [auth.name] : [],
    sinceId: since,
    untilId: until,
  });
}

/**
 * The key of a walk's request: method, path and sorted query, without the origin — a job that
 * serves its mock on a new port each run keeps its keys, and a validator only matches the same
 * content anyway.
 */
export function walkKey(method: string, url: URL): string {
  const key = requestKey(method, url);
  return key.replace(`${url.origin}`, "");
}

function keyOf(method: string, request: PageRequest): string {
  return walkKey(method, buildUrl({ url: request.url, params: request.params }));
}

async function etagCheck(
  ctx: RunContext,
  asset: AssetConfig,
  start: AssetStart,
  signal?: AbortSignal,
): Promise<ChangeCheck> {
  if (asset.partition) return changed("partitioned assets are not re-walked conditionally");
  const record = await readWalkRecord(ctx.state, asset.name);
  if (!record) return changed("no complete walk with validators recorded yet");
  if (record.config_sha256 !== ctx.loaded.sha256) {
    return changed("the config changed since the last complete walk");
  }
  const method = asset.method.toUpperCase();
  if (method !== "GET") return changed(`${method} requests are not conditional`);
  const etagStore = ctx.client.etagStore;
  if (!etagStore) return changed("conditional requests are off");
  const paginator: Paginator = walkPaginator(ctx, asset, start.sinceId, start.untilId);
  const base = {
    url: absoluteUrl(asset.path, ctx.baseUrl),
    params: renderBaseParams(ctx, asset, start),
  };
  let request = paginator.first(base);
  const lines: ManifestRecordInput[] = [];
  for (const [i, page] of record.pages.entries()) {
    if (keyOf(method, request) !== page.key) {
      return changed(
        i === 0
          ? "its first request differs from the last walk's (a new watermark or parameters)"
          : `request ${i + 1} differs from the last walk's`,
        i,
      );
    }
    etagStore.set(
      requestKey(method, buildUrl({ url: request.url, params: request.params })),
      page.etag,
    );
    const result = await ctx.client.fetch({
      url: request.url,
      params: request.params,
      method,
      headers: asset.headers,
      conditional: true,
      scope: asset.name,
    }, { signal });
    if (!result.unchanged) {
      await recordProbe(ctx, asset.name, "changed", {
        result,
        params: request.params,
        records: recordCount(result, asset),
      });
      return changed(
        `page ${i + 1} of ${record.pages.length} changed (${result.status}, not 304)`,
        i + 1,
      );
    }
    lines.push(unchangedLine(ctx, asset, result, request, page.cursor_out, i + 1, start));
    if (page.cursor_out === null) break;
    request = paginator.resume(base, { cursor: page.cursor_out, page: request.page });
  }
  const n = lines.length;
  return {
    changed: false,
    reason: `${n} conditional request${n === 1 ? "" : "s"} (the pages of run ${record.run_id}) ${
      n === 1 ? "was" : "were all"
    } answered 304 Not Modified; nothing changed, nothing fetched or written`,
    requests: n,
    lines,
  };
}

function unchangedLine(
  ctx: RunContext,
  asset: AssetConfig,
  result: HttpResult,
  request: PageRequest,
  cursorOut: string | null,
  page: number,
  start: AssetStart,
): ManifestRecordInput {
  return {
    kind: "http",
    run_id: ctx.runId,
    asset: asset.name,
    page,
    ...responseFields(result, request.params, ctx.secrets, ctx.now().getTime()),
    sha256: null,
    bytes: 0,
    rows: 0,
    cursor_in: request.cursor,
    cursor_out: cursorOut,
    watermark_in: start.watermark ?? start.sinceId ?? start.untilId,
    snapshot: null,
    output: null,
    unchanged: true,
    auth: ctx.loaded.authAlias,
    config_sha256: ctx.loaded.sha256,
    env: ctx.env,
    partition: null,
  };
}

/**
 * The result of an asset that change detection ended: reported (its start, the reason, the
 * 304s) and returned as `unchanged`, its state untouched.
 */
export async function finishUnchanged(
  ctx: RunContext,
  asset: AssetConfig,
  start: AssetStart,
  check: ChangeCheck,
): Promise<AssetResult> {
  ctx.report.startAsset(asset.name, start.decision);
  if (check.lines.length > 0) {
    for (const record of await ctx.manifest.appendAll(check.lines)) ctx.report.request(record);
  }
  ctx.report.note(asset.name, `change detection: ${check.reason}`);
  ctx.report.finishAsset(asset.name, "unchanged");
  ctx.log.info("asset.unchanged", { asset: asset.name, msg: `change detection: ${check.reason}` });
  ctx.progress.done(asset.name, "unchanged");
  const value = start.decision.value === null ? null : String(start.decision.value);
  return {
    ...emptyAssetResult(asset.name, "unchanged"),
    watermark: asset.incremental ? { before: value, after: value } : null,
    changeDetection: check.reason,
  };
}

/** Options of {@link saveWalkRecords}. */
export interface SaveWalkRecordsOptions {
  /** Manifest byte offset taken before the run (only the run's lines are read). @default 0 */
  manifestStart?: number;
}

/**
 * After a run: for each asset that completed one whole unpartitioned walk in this run, stores its
 * pages' request keys, validators and cursors (what an `etag` check re-walks); an asset whose
 * walk cannot be re-walked (resumed, partitioned, a page without a validator, ended by an end
 * status) has its old record removed, so a stale record never answers for it.
 */
export async function saveWalkRecords(
  ctx: RunContext,
  assets: readonly AssetConfig[],
  results: readonly AssetResult[],
  recorder: EtagRecorder,
  options: SaveWalkRecordsOptions = {},
): Promise<void> {
  const candidates = new Map<string, AssetConfig>();
  const drop: string[] = [];
  for (const [i, result] of results.entries()) {
    const asset = assets[i];
    if (isDetectionResult(result) || result.status === "failed" || result.status === "skipped") {
      continue;
    }
    if (
      result.resumed || result.partitions !== 1 || asset.for_each !== undefined ||
      asset.method.toUpperCase() !== "GET" || changeMode(asset) === "off"
    ) {
      drop.push(asset.name);
    } else candidates.set(asset.name, asset);
  }
  const lines = new Map<string, { cursor_out: string | null }[]>();
  if (candidates.size > 0) {
    for await (const line of scanManifest(ctx.out, { fromByte: options.manifestStart })) {
      if (line.run_id !== ctx.runId || line.kind !== "http" || line.snapshot === null) continue;
      if (!candidates.has(line.asset)) continue;
      const list = lines.get(line.asset) ?? [];
      list.push({ cursor_out: line.cursor_out === null ? null : String(line.cursor_out) });
      lines.set(line.asset, list);
    }
  }
  for (const [name, asset] of candidates) {
    const record = await walkRecordOf(ctx, asset, lines.get(name) ?? [], recorder);
    if (record) {
      await ctx.state.setWatermark({
        assetId: name,
        dataType: WALK_DATA_TYPE,
        lastId: JSON.stringify(walkRecordSchema.parse(record, PARSE_ONCE)),
      });
    } else drop.push(name);
  }
  for (const name of drop) await forgetWalk(ctx.state, name);
}

async function walkRecordOf(
  ctx: RunContext,
  asset: AssetConfig,
  pages: { cursor_out: string | null }[],
  recorder: EtagRecorder,
): Promise<WalkRecord | undefined> {
  if (pages.length === 0 || pages[pages.length - 1].cursor_out !== null) return undefined;
  const plan = await readPlan(ctx.state, asset.name).catch(() => undefined);
  if (!plan || plan.run_id !== ctx.runId || plan.partitions.length !== 1) return undefined;
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(plan.params)) {
    // A parameter holding a secret was not stored: the walk cannot be rebuilt without it.
    if (value === null) return undefined;
    params[name] = value;
  }
  const base = {
    url: absoluteUrl(asset.path, ctx.baseUrl),
    params: { ...params, ...plan.partitions[0].params },
  };
  const paginator = walkPaginator(ctx, asset, plan.since_id, plan.until_id);
  const method = asset.method.toUpperCase();
  let request = paginator.first(base);
  const out: WalkRecord["pages"] = [];
  for (const page of pages) {
    const key = keyOf(method, request);
    const etag = recorder.get(key);
    if (etag === undefined) return undefined;
    out.push({ key, etag, cursor_out: page.cursor_out });
    if (page.cursor_out === null) break;
    request = paginator.resume(base, { cursor: page.cursor_out, page: request.page });
  }
  return { version: 1, run_id: ctx.runId, config_sha256: ctx.loaded.sha256, pages: out };
}

async function forgetWalk(state: StateStore, asset: string): Promise<void> {
  const row = await state.getWatermark(asset, WALK_DATA_TYPE);
  // Watermark rows are never overwritten with null; an empty record marks "none".
  if (row?.lastId) {
    await state.setWatermark({ assetId: asset, dataType: WALK_DATA_TYPE, lastId: "" });
  }
}

/** True when the result is that of an asset ended by change detection. */
export function isDetectionResult(result: AssetResult): boolean {
  return result.changeDetection !== undefined;
}

/** Records in a response at the asset's `data_path`, 0 when its body cannot be read as such. */
function recordCount(result: HttpResult, asset: AssetConfig): number {
  try {
    const body = responseBody(result, asset.name);
    return selectRecords(body, asset.data_path, asset.name, { optional: dataOptional(asset) })
      .length;
  } catch {
    return 0;
  }
}
