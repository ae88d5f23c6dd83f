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
import type { z } from "zod";
import { dirname, join } from "node:path";
import {
  type AssetConfig,
  assetSchema,
  dataOptional,
  deriveStepSchema,
  writeModeOf,
} from "../config/schema.ts";
import { contractColumnTypes, getContract } from "../contracts/mod.ts";
import { writeRejects } from "../contracts/rejects.ts";
import { UsageError, VerifyError } from "../core/errors.ts";
import { type AssetOutput, openAssetOutput } from "../pipeline/asset_output.ts";
import { rowsFromBytes, rowsOfPage } from "../pipeline/page_rows.ts";
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
  const discarded = discardedSnapshots(entries);
  const only = options.assets ? new Set(options.assets) : null;
  const warnings = new Set<string>();
  const stamps = new Map<string, Record<string, unknown>>();
  const states = new Map<string, AssetState>();
  const derivedStats = new Map<string, ReplayedAsset>();

  const stampOf = async (sha: string): Promise<Record<string, unknown>> => {
    let stamp = stamps.get(sha);
    if (!stamp) {
      const path = resolveOutPath(out, configStampPath(sha));
      try {
        stamp = JSON.parse(await Deno.readTextFile(path)) as Record<string, unknown>;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        throw new UsageError(
          `${path} is missing: replay needs the config stamp of config_sha256 ${sha}, written ` +
            `by every harvest of this version; harvest once more with this version, or restore it`,
        );
      }
      stamps.set(sha, stamp);
    }
    return stamp;
  };
  const assetConfig = async (record: ManifestRecord): Promise<AssetConfig> => {
    const stamp = await stampOf(record.config_sha256);
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
  };
  const stateOf = async (record: ManifestRecord): Promise<AssetState> => {
    let state = states.get(record.asset);
    const config = await assetConfig(record);
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
      };
      states.set(record.asset, state);
    }
    state.config = config;
    return state;
  };
  const writerOf = async (state: AssetState, runId: string, firstOutput: string | null) => {
    let writer = state.writers.get(runId);
    if (!writer) {
      const config = state.config;
      writer = await openAssetOutput(to, config.name, {
        output: { ...config.output, mode: writeModeOf(config).mode },
        runId,
        planRunId: state.planRunId ?? runId,
        columns: config.contract ? contractColumnTypes(config.contract) : {},
        batchRows: config.batch_size,
        loadTime: loadTimeOf(firstOutput, runId),
        primaryKey: config.primary_key,
        orderBy: config.incremental?.cursor_field,
      });
      state.writers.set(runId, writer);
      state.stats.folder = writer.assetDir.slice(to.length + 1).replaceAll("\\", "/");
    }
    return writer;
  };
  const flush = async (state: AssetState) => {
    const batch = state.batch;
    state.batch = null;
    if (!batch || batch.rows.length === 0) return;
    const writer = await writerOf(state, batch.runId, batch.firstOutput);
    const key = batch.firstOutput ? partKeyOf(batch.firstOutput, batch.runId) : null;
    if (key === null) {
      warnings.add(
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
  };

  if (only) {
    // A derived dataset is rebuilt from its inputs: replay them too (later steps first, so a
    // step reading an earlier one brings that one's inputs as well).
    const derives = entries.filter((e) => e.record.event === "derive").reverse();
    for (const { record } of derives) {
      if (!only.has(record.asset)) continue;
      const stamp = await stampOf(record.config_sha256);
      const step = (stamp.derive as { name: string; from: string[] }[] | undefined)?.find((d) =>
        d.name === record.asset
      );
      for (const input of step?.from ?? []) only.add(input);
    }
  }
  for (const { record } of entries) {
    if (only && !only.has(record.asset)) continue;
    if (record.kind === "sql") {
      warnings.add(
        `${record.asset}: SQL extraction parts have no snapshots to replay; run the extract again`,
      );
      continue;
    }
    if (record.kind === "event") {
      if (record.event === "derive") {
        for (const state of states.values()) await flush(state);
        const stamp = await stampOf(record.config_sha256);
        const step = (stamp.derive as { name: string }[] | undefined)?.find((d) =>
          d.name === record.asset
        );
        if (!step) {
          throw new UsageError(
            `${configStampPath(record.config_sha256)} has no derive step "${record.asset}"`,
          );
        }
        const first = outputsOf(record)[0] ?? null;
        const result = await runDeriveStep(to, deriveStepSchema.parse(step), {
          runId: record.run_id,
          loadTime: loadTimeOf(first, record.run_id),
        });
        derivedStats.set(record.asset, {
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
        continue;
      }
      // Discarded pages and probes (planning requests) hold no rows of the outputs.
      if (record.event === "discard" || record.event === "probe") continue;
      const state = await stateOf(record);
      await flush(state);
      if (record.event === "plan") {
        state.writers.clear();
        state.planRunId = record.run_id;
        state.tracker = trackerOf(state.config, record.boundary ?? null);
      } else if (record.event === "complete") {
        const writer = await writerOf(state, record.run_id, null);
        await writer.finish();
        state.writers.clear();
      }
      continue;
    }
    if (record.snapshot === null) continue; // 304: nothing new, nothing written
    const state = await stateOf(record);
    if (discarded.has(record.snapshot)) {
      state.stats.discarded++;
      continue;
    }
    if (state.planRunId === null) {
      warnings.add(
        `${record.asset}: lines written before plan events existed; replayed without the ` +
          `previous boundary (rows re-read at a watermark boundary may appear twice)`,
      );
      state.planRunId = record.run_id;
      state.tracker = trackerOf(state.config, null);
    }
    const bytes = await Deno.readFile(resolveOutPath(out, record.snapshot));
    const sha256 = sha256Hex(bytes);
    if (sha256 !== record.sha256) {
      throw new VerifyError(
        `${record.snapshot}: sha256 ${sha256} differs from the manifest's ${record.sha256}; ` +
          `the snapshot was altered, so its rows cannot be trusted (run tidemark verify)`,
      );
    }
    const config = state.config;
    const contract: z.ZodType | undefined = config.contract
      ? getContract(config.contract)
      : undefined;
    const { records } = rowsFromBytes(bytes, {
      dataPath: config.data_path,
      dataOptional: dataOptional(config),
      label: record.asset,
    });
    const { rows, rejects, dropped } = rowsOfPage(records, {
      tracker: state.tracker,
      contract,
      cursorField: config.incremental?.cursor_field,
    });
    state.stats.pages++;
    state.stats.records += records.length;
    state.stats.dropped += dropped;
    state.stats.rejected += rejects.length;
    state.stats.rows += rows.length;
    if (rejects.length > 0) {
      await writeRejects(to, rejects, {
        asset: record.asset,
        runId: record.run_id,
        provenance: { snapshot: record.snapshot, page: record.page, sha256 },
      });
    }
    const parts = outputsOf(record);
    const key = JSON.stringify(parts);
    if (state.batch && (state.batch.outputs !== key || state.batch.runId !== record.run_id)) {
      await flush(state);
    }
    if (parts.length === 0 && rows.length === 0) continue;
    state.batch ??= { runId: record.run_id, outputs: key, firstOutput: parts[0] ?? null, rows: [] };
    for (const row of rows) state.batch.rows.push(row);
    if (parts.length === 0) await flush(state);
  }
  for (const state of states.values()) await flush(state);
  return {
    out,
    manifestLines: entries.length,
    assets: [...[...states.values()].map((s) => s.stats), ...derivedStats.values()],
    warnings: [...warnings],
  };
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
