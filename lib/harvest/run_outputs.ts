/**
 * What a harvest does for its outputs beyond pages, hooked into the engine at a few
 * points so the engine files stay about fetching:
 *
 * - before any request: `derive:` steps and write modes are checked and every
 *   `output.destination` is preflighted (missing bucket, bad credentials: exit 2, nothing
 *   harvested) — {@link openRunOutputs};
 * - at the start of a run: the effective config (secrets stripped) is stamped as
 *   `<out>/configs/<config_sha256>.json`, which `tidemark replay` reads, and the manifest lines of
 *   pages a killed run never committed are discarded by a `discard` event —
 *   {@link RunOutputs.start};
 * - when an asset plans a new harvest: a `plan` event with the boundary its de-duplication drops
 *   ({@link recordPlan}); when it completes: a `complete` event, listing (after replace/merge)
 *   the files the asset now holds, hashed and uploaded ({@link recordComplete});
 * - at the end of a run: the `derive:` steps whose inputs were harvested, each recorded by a
 *   `derive` event and uploaded — {@link RunOutputs.derive}.
 * @module
 */
import { configStampPath } from "../provenance/config_stamp.ts";
import type { Env, LoadedConfig } from "../config/load.ts";
import {
  type AssetConfig,
  type Config,
  type DeriveStepConfig,
  type OutputConfig,
  writeModeOf,
} from "../config/schema.ts";
import { ConfigError, type ConfigIssue } from "../core/errors.ts";
import type { Clock } from "../core/clock.ts";
import type { HttpResult } from "../http/request.ts";
import { type Destination, parseDestination } from "../object_store/destination.ts";
import { openObjectStore } from "../object_store/open.ts";
import type { ObjectStore } from "../object_store/store.ts";
import { loadManifest, type ManifestRecordInput } from "../provenance/manifest.ts";
import { discardedSnapshots, type ManifestEntry } from "../provenance/live_outputs.ts";
import { pruneRejects } from "../contracts/rejects.ts";
import { probeSnapshotPath, resolveOutPath } from "../provenance/snapshot.ts";
import { canonicalJson } from "../core/json_text.ts";
import { writeFileAtomic } from "../core/atomic_file.ts";
import { REDACTED } from "../core/redact.ts";
import { checkDeriveSteps, runDeriveStep } from "../transform/derive_step.ts";
import { FfiUnavailableError } from "../sinks/ffi.ts";
import { readBoundary, readPlan } from "./asset_plan.ts";
import type { AssetPlan } from "./asset_plan.ts";
import type { AssetResult, RunContext } from "./asset_run.ts";
import {
  describeFiles,
  type FileFacts,
  objectKeyOf,
  type UploadFile,
} from "../pipeline/output_files.ts";
import { responseFields } from "./page_step.ts";

/** Options of {@link openRunOutputs}. */
export interface RunOutputsOptions {
  /** Environment holding endpoint, region and credentials of destinations. @default Deno.env.toObject() */
  env?: Env;
  /** The run's load time, stamped into object keys (`load_date=…/load_time=…`). */
  loadTime: Date;
  /** Clock of upload retries. @default systemClock */
  clock?: Clock;
}

/** How one `derive:` step went in a run. */
export interface DeriveOutcome {
  /** The derived dataset. */
  name: string;
  /** `ok` (rebuilt), `unchanged` (no input changed), `skipped` (an input failed), `failed`. */
  status: "ok" | "unchanged" | "skipped" | "failed";
  /** Rows written (ok). */
  rows: number;
  /** Files written, relative to the out folder (ok). */
  files: string[];
  /** Why it was skipped or failed. */
  error?: string;
}

/**
 * Checks what needs no request — `derive:` steps, write modes — and preflights every
 * `output.destination` of the assets (and derive steps) of the run. Throws {@link ConfigError}
 * (exit 2) listing every problem; nothing is written and no API request made.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config/load.ts";
 * import { openRunOutputs } from "./run_outputs.ts";
 * const loaded = await loadConfig("jobs/northwind.yaml");
 * const outputs = await openRunOutputs(loaded.config, loaded.config.assets, { loadTime: new Date() });
 * await outputs.close();
 * ```
 */
export async function openRunOutputs(
  config: Config,
  assets: readonly AssetConfig[],
  options: RunOutputsOptions,
): Promise<RunOutputs> {
  const issues: ConfigIssue[] = [...checkDeriveSteps(config)];
  const wanted = new Map<string, { path: string; destination?: Destination }>();
  const env = options.env ?? Deno.env.toObject();
  const want = (text: string | undefined, path: string) => {
    if (text === undefined || wanted.has(text)) return;
    try {
      wanted.set(text, { path, destination: parseDestination(text, { env, path }) });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
      wanted.set(text, { path });
    }
  };
  for (const asset of assets) {
    const i = config.assets.indexOf(asset);
    const format = asset.output.format;
    if (writeModeOf(asset).mode === "merge" && (format === "csv" || format === "jsonl")) {
      issues.push({
        path: `assets[${i}].output.mode`,
        message: `merge rewrites the asset as Parquet; "${asset.name}" is written as ${format} ` +
          `(use format parquet, or mode append/replace)`,
      });
    }
    want(asset.output.destination, `assets[${i}].output.destination`);
  }
  (config.derive ?? []).forEach((step, i) => {
    want(step.output?.destination, `derive[${i}].output.destination`);
  });
  if (issues.length > 0) throw new ConfigError("cannot start the harvest", issues);

  const stores = new Map<string, ObjectStore>();
  try {
    for (const [text, { path, destination }] of wanted) {
      const store = await openObjectStore(destination!, {
        clock: options.clock,
        loadTime: options.loadTime,
      });
      stores.set(text, store);
      try {
        await store.preflight();
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        // Name the field of the config, not the store's generic "output.destination".
        throw new ConfigError(
          error.message.split("\n")[0],
          error.issues.map((issue) => ({ ...issue, path })),
          { cause: error },
        );
      }
    }
  } catch (error) {
    for (const store of stores.values()) await store.close().catch(() => {});
    throw error;
  }
  return new RunOutputs(config, stores, options.loadTime);
}

/** The run's destinations and end-of-run steps; see {@link openRunOutputs}. */
export class RunOutputs {
  readonly #config: Config;
  readonly #stores: Map<string, ObjectStore>;
  readonly #loadTime: Date;

  /** Use {@link openRunOutputs}. */
  constructor(config: Config, stores: Map<string, ObjectStore>, loadTime: Date) {
    this.#config = config;
    this.#stores = stores;
    this.#loadTime = loadTime;
  }

  /** The upload function of an output's destination, or undefined when it has none. */
  uploader(output: OutputConfig | undefined): UploadFile | undefined {
    const store = output?.destination ? this.#stores.get(output.destination) : undefined;
    if (!store) return undefined;
    return (localPath, relativeKey) => store.upload(localPath, relativeKey);
  }

  /**
   * At the start of a run (after crashed runs' pages were adopted): discards the manifest lines
   * of pages those runs never committed. (The config is stamped with the run's first write.)
   */
  async start(ctx: RunContext, crashedRuns: readonly string[]): Promise<void> {
    if (crashedRuns.length > 0) {
      const { entries } = await loadManifest(resolveOutPath(ctx.out, "manifest.jsonl"));
      const discarded = discardedSnapshots(entries);
      for (const snapshot of await discardUncommitted(ctx, crashedRuns, entries, discarded)) {
        discarded.add(snapshot);
      }
      await pruneCrashedRejects(ctx, crashedRuns, entries, discarded);
    }
  }

  /**
   * Runs the `derive:` steps whose inputs this run harvested (in order), after every asset
   * ended; each result is in the report and, when rebuilt, in a `derive` manifest event.
   */
  async derive(ctx: RunContext, results: readonly AssetResult[]): Promise<DeriveOutcome[]> {
    const outcomes: DeriveOutcome[] = [];
    const ran = new Map<string, AssetResult["status"] | DeriveOutcome["status"]>(
      results.map((r) => [r.asset, r.status]),
    );
    for (const step of this.#config.derive ?? []) {
      const inputs = step.from.filter((name) => ran.has(name));
      if (inputs.length === 0) continue;
      const outcome = await this.#deriveOne(ctx, step, inputs.map((name) => ran.get(name)!));
      ran.set(step.name, outcome.status === "ok" ? "ok" : outcome.status);
      outcomes.push(outcome);
      ctx.report.startAsset(step.name);
      if (outcome.status === "ok") {
        ctx.report.note(
          step.name,
          `derived from ${
            step.from.join(" ⋈ ")
          }: ${outcome.rows} rows in ${outcome.files.length} file(s)`,
        );
      } else if (outcome.error) {
        if (outcome.status === "failed") ctx.report.error(step.name, outcome.error);
        else ctx.report.note(step.name, outcome.error);
      }
      ctx.report.finishAsset(
        step.name,
        outcome.status === "failed" ? "failed" : outcome.status === "ok" ? "ok" : outcome.status,
      );
      const log = ctx.log.child({ asset: step.name });
      if (outcome.status === "failed") log.error("derive.failed", { msg: outcome.error });
      else log.info("derive.done", { msg: `${outcome.status}: ${outcome.rows} rows` });
    }
    return outcomes;
  }

  async #deriveOne(
    ctx: RunContext,
    step: DeriveStepConfig,
    inputs: readonly string[],
  ): Promise<DeriveOutcome> {
    const outcome: DeriveOutcome = { name: step.name, status: "ok", rows: 0, files: [] };
    if (inputs.some((s) => s === "failed" || s === "skipped")) {
      outcome.status = "skipped";
      outcome.error = `not rebuilt: an input of ${step.from.join(", ")} did not complete this run`;
      return outcome;
    }
    const folder = `parquet/${step.name}`;
    const exists = (await Deno.stat(resolveOutPath(ctx.out, folder)).catch(() => null)) !== null;
    if (exists && inputs.every((s) => s === "unchanged")) {
      outcome.status = "unchanged";
      return outcome;
    }
    try {
      const result = await runDeriveStep(ctx.out, step, {
        runId: ctx.runId,
        loadTime: this.#loadTime,
      });
      const files = result.parts.map((p) => `${folder}/${p.relativePath}`);
      const facts = await describeFiles(ctx.out, files);
      const urls = await uploadAll(ctx.out, facts, this.uploader(step.output));
      await ctx.manifest.append(eventRecord(ctx, step.name, "derive", {
        source: `derive:${step.from.join("+")}`,
        ...filesFields(facts, urls),
      }));
      outcome.rows = result.rows;
      outcome.files = files;
    } catch (error) {
      // Without FFI (Deno Deploy) a derive step cannot run: skipped and said, not a failure.
      outcome.status = error instanceof FfiUnavailableError ? "skipped" : "failed";
      outcome.error = ctx.client.redactText((error as Error)?.message ?? String(error));
    }
    return outcome;
  }

  /** Closes the destinations. */
  async close(): Promise<void> {
    for (const store of this.#stores.values()) await store.close().catch(() => {});
    this.#stores.clear();
  }
}

/**
 * Appends the `plan` event of a new harvest of an asset: the boundary of the previous harvest
 * whose rows it drops (null when it does not de-duplicate). Called before the plan is saved, so
 * every page of the plan follows its event.
 */
export async function recordPlan(
  ctx: RunContext,
  asset: AssetConfig,
  plan: AssetPlan,
): Promise<void> {
  const boundary = plan.dedupe ? (await readBoundary(ctx.state, asset.name)) ?? null : null;
  await ctx.manifest.append(eventRecord(ctx, asset.name, "plan", {
    watermark_in: plan.watermark_in,
    boundary,
  }));
}

/**
 * Appends the `complete` event of an asset, once its output is finished. `files` are the files a
 * replace/merge asset now holds, described (`AssetOutput.describe`; uploaded here to its
 * destination), null for append.
 */
export async function recordComplete(
  ctx: RunContext,
  asset: AssetConfig,
  files: readonly FileFacts[] | null,
  upload: UploadFile | undefined,
): Promise<void> {
  const facts = files ?? [];
  const urls = await uploadAll(ctx.out, facts, upload);
  await ctx.manifest.append(eventRecord(ctx, asset.name, "complete", {
    mode: writeModeOf(asset).mode,
    ...(files ? filesFields(facts, urls) : {}),
  }));
}

async function uploadAll(
  out: string,
  facts: readonly FileFacts[],
  upload: UploadFile | undefined,
): Promise<string[]> {
  if (!upload) return [];
  const urls: string[] = [];
  for (const file of facts) {
    urls.push((await upload(resolveOutPath(out, file.path), objectKeyOf(file.path))).url);
  }
  return urls;
}

function filesFields(facts: readonly FileFacts[], urls: readonly string[]) {
  return {
    output: facts.length === 0 ? null : facts.map((f) => f.path),
    part_sha256: facts.map((f) => f.sha256),
    bytes: facts.reduce((n, f) => n + f.bytes, 0),
    rows: facts.reduce((n, f) => n + f.rows, 0),
    ...(urls.length > 0 ? { object_url: [...urls] } : {}),
  };
}

/** What a probe asked: see the manifest's `probe` field. */
export type ProbeKind = NonNullable<ManifestRecordInput["probe"]>;

/**
 * Keeps a probe's response like a page's — its bytes durable at
 * `raw/<asset>/<run_id>/probe-<probe>.json`, then a `probe` event line with the request, status,
 * attempts, sha256 and the number of records it held — so every response a run used is on disk
 * and in the manifest, not only the pages.
 */
export async function recordProbe(
  ctx: RunContext,
  asset: string,
  probe: ProbeKind,
  response: { result: HttpResult; params: Record<string, string>; records: number },
): Promise<void> {
  const { result, params, records } = response;
  const snapshot = await ctx.snapshots.writeAt(
    probeSnapshotPath(asset, ctx.runId, probe),
    result.body,
  );
  await ctx.manifest.append(eventRecord(ctx, asset, "probe", {
    probe,
    ...responseFields(result, params, ctx.secrets, ctx.now().getTime()),
    sha256: snapshot.sha256,
    bytes: snapshot.bytes,
    rows: records,
    snapshot: snapshot.path,
    auth: ctx.loaded.authAlias,
  }));
}

function eventRecord(
  ctx: RunContext,
  asset: string,
  event: NonNullable<ManifestRecordInput["event"]>,
  fields: Partial<ManifestRecordInput>,
): ManifestRecordInput {
  return {
    kind: "event",
    event,
    run_id: ctx.runId,
    asset,
    page: 0,
    timestamp: ctx.now().toISOString(),
    method: event.toUpperCase(),
    source: `tidemark:${event}`,
    status: null,
    elapsed_ms: 0,
    sha256: null,
    bytes: 0,
    rows: 0,
    snapshot: null,
    output: null,
    auth: null,
    config_sha256: ctx.loaded.sha256,
    env: ctx.env,
    ...fields,
  };
}

/**
 * `<out>/configs/<config_sha256>.json`: the effective config as canonical JSON, with auth
 * reduced to its type and alias, header values and every secret value masked. Replay reads it
 * to turn snapshots into rows exactly as the harvest did.
 */
export async function writeConfigStamp(out: string, loaded: LoadedConfig): Promise<string> {
  const secrets = loaded.secretValues.filter((s) => s.length > 0);
  const mask = (value: unknown): unknown => {
    if (typeof value === "string") {
      return secrets.reduce((text, secret) => text.replaceAll(secret, REDACTED), value);
    }
    if (Array.isArray(value)) return value.map(mask);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v)]));
    }
    return value;
  };
  const config = loaded.config;
  const stripped = {
    ...config,
    auth: { type: config.auth.type, alias: loaded.authAlias },
    assets: config.assets.map((asset) => ({
      ...asset,
      ...(asset.headers
        ? { headers: Object.fromEntries(Object.keys(asset.headers).map((k) => [k, REDACTED])) }
        : {}),
    })),
  };
  const path = configStampPath(loaded.sha256);
  await writeFileAtomic(resolveOutPath(out, path), canonicalJson(mask(stripped)) + "\n");
  return path;
}

/**
 * The rejects killed runs wrote for pages that are fetched again (their manifest line was never
 * written, or was discarded) are dropped: the resumed asset writes them again with the page.
 */
async function pruneCrashedRejects(
  ctx: RunContext,
  crashedRuns: readonly string[],
  entries: readonly ManifestEntry[],
  discarded: ReadonlySet<string>,
): Promise<void> {
  const live = new Set<string>();
  for (const { record } of entries) {
    if (record.kind === "http" && record.snapshot !== null && !discarded.has(record.snapshot)) {
      live.add(record.snapshot);
    }
  }
  for (const runId of crashedRuns) {
    const dropped = await pruneRejects(
      ctx.out,
      runId,
      (line) => line.provenance.snapshot === null || live.has(line.provenance.snapshot),
    );
    if (dropped > 0) {
      ctx.log.info("resume.rejects_pruned", {
        msg: `${dropped} reject(s) of run ${runId} belonged to pages fetched again; dropped`,
      });
    }
  }
}

/**
 * After crashed runs' pages were adopted: their lines whose page is still not committed (its
 * asset still in progress) describe parts the resumed asset deletes and pages it fetches again.
 * One `discard` event per asset names their snapshots; resolves to the snapshots discarded.
 * `entries` are the manifest's lines, `already` the snapshots earlier discard events named.
 */
async function discardUncommitted(
  ctx: RunContext,
  crashedRuns: readonly string[],
  entries: readonly ManifestEntry[],
  already: ReadonlySet<string>,
): Promise<string[]> {
  const crashed = new Set(crashedRuns);
  const discarded: string[] = [];
  const byAsset = new Map<string, string[]>();
  for (const { record } of entries) {
    if (record.kind !== "http" || record.snapshot === null || !crashed.has(record.run_id)) continue;
    if (already.has(record.snapshot)) continue;
    byAsset.set(record.asset, [...(byAsset.get(record.asset) ?? []), record.snapshot]);
  }
  for (const [asset, snapshots] of byAsset) {
    const plan = await readPlan(ctx.state, asset).catch(() => undefined);
    // A completed plan committed every page it wrote; only an active one can have lost some.
    if (plan?.status !== "active") continue;
    const committed = new Set((await ctx.state.pendingPages(asset)).map((p) => p.snapshot));
    const dead = snapshots.filter((s) => !committed.has(s));
    if (dead.length === 0) continue;
    await ctx.manifest.append(eventRecord(ctx, asset, "discard", { discarded: dead }));
    discarded.push(...dead);
    ctx.log.child({ asset }).info("resume.discarded", {
      msg: `${dead.length} manifest line(s) of killed runs describe pages that are fetched again`,
    });
  }
  return discarded;
}
