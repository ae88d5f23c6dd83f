/**
 * `tidemark replay`: rebuilds every output of an out folder from its raw snapshots, its
 * `manifest.jsonl` and its config stamps (`configs/<config_sha256>.json`) alone — no network, no
 * state. The manifest is read in order and each step of the harvest is done again, offline:
 *
 * - a `plan` event starts a harvest of an asset with the boundary its de-duplication dropped;
 * - each response line: its snapshot is re-hashed (a mismatch stops the replay, naming the file),
 *   turned into records at `data_path`, stripped of the rows the previous harvest wrote (the
 *   plan's boundary), checked against the contract (rejects written again), shaped by
 *   `transform:`, and written as the same parts the harvest wrote (pages batched as they were,
 *   the same part names), in the asset's format, partitions and write mode;
 * - a `complete` event ends the asset: replace swaps, merge merges by key;
 * - a `discard` event's pages are skipped (they were fetched again by a later run);
 * - a `derive` event rebuilds its derived dataset from the replayed inputs.
 *
 * The result is built in a temporary folder beside the target and renamed into place, so a
 * failed replay leaves nothing half-written. `compareOuts` then proves it holds the same
 * rows as the original (`lib/replay/compare_outs.ts`).
 * @module
 */
import { dirname, join } from "node:path";
import {
  type AssetConfig,
  assetSchema,
  dataOptional,
  deriveStepSchema,
  writeModeOf,
} from "../config/schema.ts";
import type { AssetTyping } from "../contracts/mod.ts";
import { writeRejects } from "../contracts/rejects.ts";
import { ContractError, UsageError, VerifyError } from "../core/errors.ts";
import { type AssetOutput, openAssetOutput } from "../pipeline/asset_output.ts";
import { rowsFromBytes, rowsOfPage, type RowTyping } from "../pipeline/page_rows.ts";
import { assetTypingOf, sinkColumnsOf } from "../pipeline/asset_columns.ts";
import { shapedWriter } from "../pipeline/record_shape.ts";
import { configStampPath } from "../provenance/config_stamp.ts";
import { boundarySchema, watermarkKind, WatermarkTracker } from "../pipeline/watermark_tracker.ts";
import { runDeriveStep } from "../transform/derive_step.ts";
import { discardedSnapshots } from "../provenance/live_outputs.ts";
import { loadManifest, type ManifestRecord, outputsOf } from "../provenance/manifest.ts";
import { resolveOutPath } from "../provenance/snapshot.ts";
import { runIdTime, sha256Hex } from "../core/stamps.ts";

/** Options of {@link replayOut}. */
export interface ReplayOptions {
  /** Only these assets and derived datasets (a derived one brings its inputs). @default every one in the manifest */
  assets?: string[];
}

/** What replay rebuilt for one asset or derived dataset. */
export interface ReplayedAsset {
  /** Asset (or derived dataset) name. */
  asset: string;
  /** Snapshots read. */
  pages: number;
  /** Records in them. */
  records: number;
  /** Rows written (before any merge). */
  rows: number;
  /** Records dropped as written by the previous harvest (boundary). */
  dropped: number;
  /** Records the contract rejected. */
  rejected: number;
  /** Pages skipped because a `discard` event voided them. */
  discarded: number;
  /** Output folder relative to the out folder (`parquet/Orders`). */
  folder: string;
  /** Primary key columns (for comparing). */
  primaryKey: string[];
  /** `true` for a derived dataset. */
  derived: boolean;
}

/** What {@link replayOut} did. */
export interface ReplayResult {
  /** The original out folder. */
  out: string;
  /** The folder rebuilt. */
  to: string;
  /** Manifest lines read. */
  manifestLines: number;
  /** Per asset, in the order first met. */
  assets: ReplayedAsset[];
  /** Things worth knowing (old lines without a plan event, SQL parts not replayable). */
  warnings: string[];
}

interface Batch {
  runId: string;
  outputs: string;
  firstOutput: string | null;
  rows: Record<string, unknown>[];
}

interface AssetState {
  stats: ReplayedAsset;
  config: AssetConfig;
  tracker: WatermarkTracker | null;
  planRunId: string | null;
  writers: Map<string, AssetOutput>;
  batch: Batch | null;
  /** The asset's typing in the run being replayed, and that run. */
  typing: { runId: string; typing: AssetTyping } | null;
}

/**
 * Rebuilds the outputs of `out` into the new folder `to` (which must not exist, or be empty),
 * offline. Throws {@link UsageError} for a missing out folder or config stamp and
 * {@link VerifyError} when a snapshot does not match its manifest line.
 *
 * @example
 * ```ts
 * import { compareOuts } from "./compare_outs.ts";
 * import { replayOut } from "./replay.ts";
 * const replayed = await replayOut("demo-out", "demo-replay");
 * const comparison = await compareOuts("demo-out", "demo-replay", replayed.assets);
 * console.log(comparison.identical);
 * ```
 */
export async function replayOut(
  out: string,
  to: string,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const manifestPath = resolveOutPath(out, "manifest.jsonl");
  if (!(await Deno.stat(manifestPath).catch(() => null))?.isFile) {
    throw new UsageError(
      `"${out}" holds no manifest.jsonl; pass the --out folder of a harvest`,
    );
  }
  await checkTarget(out, to);
  const tmp = join(dirname(to), `.${to.split(/[\\/]/).pop()}.replay-${Deno.pid}.tmp`);
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  try {
    const result = await replayInto(out, tmp, manifestPath, options);
    await Deno.writeTextFile(
      join(tmp, "replay.json"),
      JSON.stringify(
        { out, manifest_lines: result.manifestLines, assets: result.assets },
        null,
        2,
      ) +
        "\n",
    );
    await Deno.remove(to).catch(() => {}); // an empty target folder
    await Deno.rename(tmp, to);
    return { ...result, to };
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  }
}

async function checkTarget(out: string, to: string): Promise<void> {
  const [a, b] = await Promise.all([Deno.realPath(out), Deno.realPath(to).catch(() => null)]);
  if (a === b) {
    throw new UsageError(`--to "${to}" is the out folder itself; replay into a new folder`);
  }
  const stat = await Deno.stat(to).catch(() => null);
  if (!stat) return;
  if (!stat.isDirectory) throw new UsageError(`--to "${to}" is a file; name a new folder`);
  for await (const _ of Deno.readDir(to)) {
    throw new UsageError(
      `--to "${to}" is not empty; replay into a new or empty folder (delete it to replay again)`,
    );
  }
}

async function replayInto(
  out: string,
  to: string,
  manifestPath: string,
  options: ReplayOptions,
): Promise<Omit<ReplayResult, "to">> {
  const { entries } = await loadManifest(manifestPath);
  const walk = new ReplayWalk(out, to, discardedSnapshots(entries));
  const only = options.assets ? await walk.withDeriveInputs(entries, options.assets) : null;
  for (const { record } of entries) {
    if (only && !only.has(record.asset)) continue;
    if (record.kind === "sql") {
      walk.warnings.add(
        `${record.asset}: SQL extraction parts have no snapshots to replay; run the extract again`,
      );
    } else if (record.kind === "event") {
      await walk.event(record);
    } else if (record.snapshot !== null) { // 304: nothing new, nothing written
      await walk.page(record, record.snapshot);
    }
  }
  for (const state of walk.states.values()) await walk.flush(state);
  return {
    out,
    manifestLines: entries.length,
    assets: [...[...walk.states.values()].map((s) => s.stats), ...walk.derived.values()],
    warnings: [...walk.warnings],
  };
}

/**
 * One replay's walk over the manifest, line by line: each asset's state (its config from the
 * run's config stamp, watermark tracker, writers per run, the batch of rows of one part), the
 * pages re-read from their snapshots through the pipeline, the events that open and complete a
 * run, and the derived datasets rebuilt from their inputs.
 */
class ReplayWalk {
  /** Each asset's state, by name. */
  readonly states: Map<string, AssetState> = new Map();
  /** Derived datasets rebuilt, by name. */
  readonly derived: Map<string, ReplayedAsset> = new Map();
  /** Things worth knowing about the replay. */
  readonly warnings: Set<string> = new Set();
  readonly #stamps = new Map<string, Record<string, unknown>>();
  readonly #out: string;
  readonly #to: string;
  readonly #discarded: ReadonlySet<string>;

  constructor(out: string, to: string, discarded: ReadonlySet<string>) {
    this.#out = out;
    this.#to = to;
    this.#discarded = discarded;
  }

  /**
   * `assets` and, for a derived dataset among them, its inputs (later steps first, so a step
   * reading an earlier one brings that one's inputs as well).
   */
  async withDeriveInputs(
    entries: readonly { record: ManifestRecord }[],
    assets: readonly string[],
  ): Promise<Set<string>> {
    const only = new Set(assets);
    const derives = entries.filter((e) => e.record.event === "derive").reverse();
    for (const { record } of derives) {
      if (!only.has(record.asset)) continue;
      const step = await this.#deriveStep(record);
      for (const input of step?.from ?? []) only.add(input);
    }
    return only;
  }

  /** A `plan`, `complete` or `derive` line (discards and probes hold no rows). */
  async event(record: ManifestRecord): Promise<void> {
    if (record.event === "derive") return await this.#derive(record);
    if (record.event === "discard" || record.event === "probe") return;
    const state = await this.#stateOf(record);
    await this.flush(state);
    if (record.event === "plan") {
      state.writers.clear();
      state.planRunId = record.run_id;
      state.tracker = trackerOf(state.config, record.boundary ?? null);
    } else if (record.event === "complete") {
      const writer = await this.#writerOf(state, record.run_id, null);
      await writer.finish();
      state.writers.clear();
    }
  }

  /** A page line: its snapshot re-read, checked, and walked to rows as the harvest walked it. */
  async page(record: ManifestRecord, snapshot: string): Promise<void> {
    const state = await this.#stateOf(record);
    if (this.#discarded.has(snapshot)) {
      state.stats.discarded++;
      return;
    }
    if (state.planRunId === null) {
      this.warnings.add(
        `${record.asset}: lines written before plan events existed; replayed without the ` +
          `previous boundary (rows re-read at a watermark boundary may appear twice)`,
      );
      state.planRunId = record.run_id;
      state.tracker = trackerOf(state.config, null);
    }
    const bytes = await Deno.readFile(resolveOutPath(this.#out, snapshot));
    const sha256 = sha256Hex(bytes);
    if (sha256 !== record.sha256) {
      throw new VerifyError(
        `${snapshot}: sha256 ${sha256} differs from the manifest's ${record.sha256}; ` +
          `the snapshot was altered, so its rows cannot be trusted (run tidemark verify)`,
      );
    }
    const config = state.config;
    const { records } = rowsFromBytes(bytes, {
      dataPath: config.data_path,
      dataOptional: dataOptional(config),
      label: record.asset,
    });
    const { rows, rejects, dropped } = rowsOfPage(records, {
      tracker: state.tracker,
      typing: replayTyping(state, record.run_id),
      cursorField: config.incremental?.cursor_field,
    });
    state.stats.pages++;
    state.stats.records += records.length;
    state.stats.dropped += dropped;
    state.stats.rejected += rejects.length;
    state.stats.rows += rows.length;
    if (rejects.length > 0) {
      await writeRejects(this.#to, rejects, {
        asset: record.asset,
        runId: record.run_id,
        provenance: { snapshot, page: record.page, sha256 },
      });
    }
    await this.#batch(state, record, rows);
  }

  /** Adds a page's rows to the batch of its part (a new part flushes the last one). */
  async #batch(
    state: AssetState,
    record: ManifestRecord,
    rows: Record<string, unknown>[],
  ): Promise<void> {
    const parts = outputsOf(record);
    const key = JSON.stringify(parts);
    if (state.batch && (state.batch.outputs !== key || state.batch.runId !== record.run_id)) {
      await this.flush(state);
    }
    if (parts.length === 0 && rows.length === 0) return;
    state.batch ??= { runId: record.run_id, outputs: key, firstOutput: parts[0] ?? null, rows: [] };
    for (const row of rows) state.batch.rows.push(row);
    if (parts.length === 0) await this.flush(state);
  }

  /** Writes an asset's batch as the part the harvest wrote for it. */
  async flush(state: AssetState): Promise<void> {
    const batch = state.batch;
    state.batch = null;
    if (!batch || batch.rows.length === 0) return;
    const writer = await this.#writerOf(state, batch.runId, batch.firstOutput);
    const key = batch.firstOutput ? partKeyOf(batch.firstOutput, batch.runId) : null;
    if (key === null) {
      this.warnings.add(
        `${state.stats.asset}: rows of run ${batch.runId} that the harvest did not write ` +
          `(its manifest names no part for them) were written by replay`,
      );
    }
    // The harvest's own writer: rows are shaped (`transform:`) exactly as it shaped them.
    const shaped = shapedWriter(writer, state.config, {
      runId: batch.runId,
      now: loadTimeOf(batch.firstOutput, batch.runId),
    });
    await shaped.write(batch.rows, key ?? `replay-${state.stats.pages}`);
  }

  /** Rebuilds a derived dataset from its inputs, after every asset's rows are written. */
  async #derive(record: ManifestRecord): Promise<void> {
    for (const state of this.states.values()) await this.flush(state);
    const step = await this.#deriveStep(record);
    if (!step) {
      throw new UsageError(
        `${configStampPath(record.config_sha256)} has no derive step "${record.asset}"`,
      );
    }
    const first = outputsOf(record)[0] ?? null;
    const result = await runDeriveStep(this.#to, deriveStepSchema.parse(step), {
      runId: record.run_id,
      loadTime: loadTimeOf(first, record.run_id),
    });
    this.derived.set(record.asset, {
      asset: record.asset,
      pages: 0,
      records: 0,
      rows: result.rows,
      dropped: 0,
      rejected: 0,
      discarded: 0,
      folder: `parquet/${record.asset}`,
      primaryKey: [],
      derived: true,
    });
  }

  /** The derive step a `derive` line ran, from its config stamp. */
  async #deriveStep(
    record: ManifestRecord,
  ): Promise<{ name: string; from: string[] } | undefined> {
    const stamp = await this.#stampOf(record.config_sha256);
    return (stamp.derive as { name: string; from: string[] }[] | undefined)?.find((d) =>
      d.name === record.asset
    );
  }

  /** The config stamp of a config hash (read once). */
  async #stampOf(sha: string): Promise<Record<string, unknown>> {
    let stamp = this.#stamps.get(sha);
    if (!stamp) {
      const path = resolveOutPath(this.#out, configStampPath(sha));
      try {
        stamp = JSON.parse(await Deno.readTextFile(path)) as Record<string, unknown>;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        throw new UsageError(
          `${path} is missing: replay needs the config stamp of config_sha256 ${sha}, written ` +
            `by every harvest of this version; harvest once more with this version, or restore it`,
        );
      }
      this.#stamps.set(sha, stamp);
    }
    return stamp;
  }

  /** The asset's config as the line's run had it. */
  async #assetConfig(record: ManifestRecord): Promise<AssetConfig> {
    const stamp = await this.#stampOf(record.config_sha256);
    const found = (stamp.assets as { name: string }[] | undefined)?.find((a) =>
      a.name === record.asset
    );
    if (!found) {
      throw new UsageError(
        `${configStampPath(record.config_sha256)} has no asset "${record.asset}" ` +
          `(manifest line of run ${record.run_id}); the stamp does not belong to this manifest`,
      );
    }
    return assetSchema.parse(found);
  }

  /** The line's asset's state, its config set to the line's run's. */
  async #stateOf(record: ManifestRecord): Promise<AssetState> {
    const config = await this.#assetConfig(record);
    let state = this.states.get(record.asset);
    if (!state) {
      state = {
        stats: {
          asset: record.asset,
          pages: 0,
          records: 0,
          rows: 0,
          dropped: 0,
          rejected: 0,
          discarded: 0,
          folder: "",
          primaryKey: config.primary_key ?? [],
          derived: false,
        },
        config,
        tracker: null,
        planRunId: null,
        writers: new Map(),
        batch: null,
        typing: null,
      };
      this.states.set(record.asset, state);
    }
    state.config = config;
    return state;
  }

  /** The writer of an asset's run (opened once per run). */
  async #writerOf(
    state: AssetState,
    runId: string,
    firstOutput: string | null,
  ): Promise<AssetOutput> {
    let writer = state.writers.get(runId);
    if (!writer) {
      const config = state.config;
      writer = await openAssetOutput(this.#to, config.name, {
        output: { ...config.output, mode: writeModeOf(config).mode },
        runId,
        planRunId: state.planRunId ?? runId,
        columns: () => sinkColumnsOf(config, typingOf(state, runId))(),
        batchRows: config.batch_size,
        loadTime: loadTimeOf(firstOutput, runId),
        primaryKey: config.primary_key,
        orderBy: config.incremental?.cursor_field,
      });
      state.writers.set(runId, writer);
      state.stats.folder = writer.assetDir.slice(this.#to.length + 1).replaceAll("\\", "/");
    }
    return writer;
  }
}

function trackerOf(config: AssetConfig, boundary: unknown): WatermarkTracker | null {
  const inc = config.incremental;
  if (!inc) return null;
  const previous = boundary === null ? null : boundarySchema.parse(boundary);
  return new WatermarkTracker(inc.cursor_field, {
    kind: watermarkKind(config),
    primaryKey: config.primary_key,
    lookback: inc.lookback,
    previous,
  });
}

/** The part key of an output path written by the harvest (`part-<run>-<key>[-bNNN].<ext>`). */
function partKeyOf(path: string, runId: string): string | null {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const prefix = `part-${runId}-`;
  if (!name.startsWith(prefix)) return null;
  const m = /^(.+?)(?:-b\d{3})?\.[a-z]+$/.exec(name.slice(prefix.length));
  return m ? m[1] : null;
}

/** The load time of a run: from a `load_date=/load_time=` path when it has one, else its id. */
function loadTimeOf(path: string | null, runId: string): Date {
  const m = path
    ? /load_date=(\d{4}-\d{2}-\d{2})\/load_time=(\d{2})(\d{2})(\d{2})/.exec(path)
    : null;
  if (m) return new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`);
  return runIdTime(runId) ?? new Date(0);
}

/**
 * The asset's typing for a replayed run: as the harvest did, each run starts from the types the
 * runs before it wrote.
 */
/**
 * The typing of a replayed run's pages. A type change the harvest would have stopped at cannot
 * be in a run whose pages the manifest holds unless that run was a full refresh, which decided
 * its types anew: replay does the same.
 */
function replayTyping(state: AssetState, runId: string): RowTyping {
  return {
    rows: (records) => {
      const typing = typingOf(state, runId);
      try {
        return typing.rows(records);
      } catch (error) {
        if (!(error instanceof ContractError) || typing.decided) throw error;
        const fresh = assetTypingOf(state.config);
        state.typing = { runId, typing: fresh };
        return fresh.rows(records);
      }
    },
  };
}

function typingOf(state: AssetState, runId: string): AssetTyping {
  if (state.typing?.runId === runId) return state.typing.typing;
  const recorded = { ...state.typing?.typing.columns };
  for (const writer of state.writers.values()) Object.assign(recorded, writer.schema);
  const typing = assetTypingOf(state.config, recorded);
  state.typing = { runId, typing };
  return typing;
}
