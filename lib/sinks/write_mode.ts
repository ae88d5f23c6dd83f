/**
 * Write modes of an asset's output folder (`output.mode`):
 *
 * - `append` (default): each run adds its parts to the folder.
 * - `replace`: the run writes to a staging folder; at the end of a successful run the asset
 *   folder is swapped to it atomically.
 * - `merge` on `primary_key`: the run writes its rows to a staging folder; at the end the asset
 *   is rewritten to hold exactly one row per key — the newest by `orderBy` (the incremental
 *   field), ties going to the latest run — sorted by key, so merging the same rows twice gives
 *   byte-identical files.
 *
 * Crash safety comes from generations and one symlink: for replace and merge the asset path
 * (`parquet/Orders`) is a symlink to a complete generation folder
 * (`parquet/.Orders.generations/gen-00003`). A new generation is written beside the current one
 * and the symlink is switched with one `rename` — readers see the old version or the new one,
 * never a mix, and a crash at any step leaves the previous version readable.
 * {@link recoverAsset} (run at the start of every mode operation) finishes or rolls back an
 * interrupted switch and removes unreferenced generations.
 * @module
 */
import type { DataFrame } from "nodejs-polars";
import { basename, dirname, join } from "node:path";
import { ContractError, TidemarkError } from "../core/errors.ts";
import { groupByPartition, parsePartitionSpecs } from "./partition.ts";
import { pathExists } from "../core/atomic_file.ts";

/** How a run's output joins the asset's existing output. */
export type WriteMode = "append" | "replace" | "merge";

/** Steps of a replace or merge, reported to {@link MergeOptions.onStep} (tests inject failures there). */
export type SwitchStep =
  | "converted" // a plain asset folder became generation 0 behind a symlink
  | "generation-written" // the new generation is complete, not yet visible
  | "switched" // the symlink points at the new generation
  | "cleaned"; // old generation and staging removed

/** Folders of an asset's generations (all beside the asset path). */
export interface AssetLayout {
  /** The asset path readers use, e.g. `out/parquet/Orders`. */
  dir: string;
  /** Folder holding generation folders: `out/parquet/.Orders.generations`. */
  generations: string;
  /** Folder holding staging folders of runs: `out/parquet/.Orders.staging`. */
  staging: string;
  /** Temporary symlink used for the atomic switch. */
  link: string;
}

/** The folders used for the asset at `dir`. */
export function assetLayout(dir: string): AssetLayout {
  const parent = dirname(dir);
  const name = basename(dir);
  return {
    dir,
    generations: join(parent, `.${name}.generations`),
    staging: join(parent, `.${name}.staging`),
    link: join(parent, `.${name}.link.tmp`),
  };
}

/** Options of {@link beginWrite}. */
export interface BeginWriteOptions {
  /** The write mode. @default "append" */
  mode?: WriteMode;
  /** The run id; names the staging folder of replace and merge. */
  runId: string;
}

/**
 * Prepares an asset for a run and returns the folder the run's sink writes to: the asset folder
 * itself for `append`, else the run's staging folder (kept if it exists, so a resumed run finds
 * the parts it already wrote).
 *
 * @example
 * ```ts
 * import { beginWrite } from "./write_mode.ts";
 * const target = await beginWrite("out/parquet/Orders", { mode: "merge", runId: "r2" });
 * // → out/parquet/.Orders.staging/r2 — open the sink there, then call mergeByKey.
 * ```
 */
export async function beginWrite(dir: string, options: BeginWriteOptions): Promise<string> {
  await recoverAsset(dir);
  if ((options.mode ?? "append") === "append") {
    await Deno.mkdir(dir, { recursive: true });
    return dir;
  }
  const staging = join(assetLayout(dir).staging, options.runId);
  await Deno.mkdir(staging, { recursive: true });
  return staging;
}

/** Options of {@link commitReplace}. */
export interface CommitReplaceOptions {
  /** The run id whose staging folder becomes the asset. */
  runId: string;
  /** Called after each step (tests inject crashes here). */
  onStep?: (step: SwitchStep) => void | Promise<void>;
}

/**
 * Makes the run's staging folder the asset's content, atomically, and removes the previous
 * content.
 *
 * @example
 * ```ts
 * import { beginWrite, commitReplace } from "./write_mode.ts";
 * const target = await beginWrite("out/parquet/Orders", { mode: "replace", runId: "r2" });
 * // ... write the run's parts under `target` ...
 * await commitReplace("out/parquet/Orders", { runId: "r2" });
 * ```
 */
export async function commitReplace(dir: string, options: CommitReplaceOptions): Promise<void> {
  await recoverAsset(dir);
  const layout = assetLayout(dir);
  const staging = join(layout.staging, options.runId);
  if (!await pathExists(staging)) {
    throw new TidemarkError(
      `no staging folder ${staging} for run ${options.runId}; call beginWrite with mode ` +
        `"replace" before writing the run`,
    );
  }
  await convertToGenerations(layout, options.onStep);
  await Deno.mkdir(layout.generations, { recursive: true });
  // The run id in the name lets recoverAsset hand an unswitched generation back to its staging.
  const generation = join(
    layout.generations,
    `${await nextGeneration(layout)}.r-${options.runId}`,
  );
  await Deno.rename(staging, generation);
  await options.onStep?.("generation-written");
  await switchTo(layout, generation, options.onStep);
}

/** Options of {@link mergeByKey}. */
export interface MergeOptions {
  /** The run id whose staging folder holds the new rows. */
  runId: string;
  /** Columns that identify a row. */
  primaryKey: string[];
  /** Column deciding which row of a key is newest (the incremental field); @default none: the latest run wins */
  orderBy?: string;
  /** Partitions of the merged output (same entries as the sink's). @default [] */
  partitionBy?: string[];
  /** Parquet compression. @default "zstd" */
  compression?: "zstd" | "snappy" | "none";
  /** Parquet rows per row group. @default 100_000 */
  rowGroupRows?: number;
  /** Called after each step (tests inject crashes here). */
  onStep?: (step: SwitchStep) => void | Promise<void>;
}

/** What a merge did. */
export interface MergeResult {
  /** Rows in the asset after the merge; null when nothing was staged and the asset was kept. */
  rows: number | null;
  /** Rows the run brought (before de-duplication). */
  incoming: number;
  /** Parts of the new generation, relative to the asset folder. */
  parts: string[];
}

/**
 * Merges the run's staged rows into the asset: one row per primary key, the newest by
 * `orderBy` (ties: the run's row, then the later row), written as a new generation and switched
 * in atomically. Merging the same rows again changes nothing (same rows, same bytes).
 * Throws {@link ContractError} when a staged or existing row has a null key column.
 *
 * @example
 * ```ts
 * import { beginWrite, mergeByKey } from "./write_mode.ts";
 * const target = await beginWrite("out/parquet/Orders", { mode: "merge", runId: "r2" });
 * // ... write the run's parts under `target` with openSink ...
 * await mergeByKey("out/parquet/Orders", {
 *   runId: "r2",
 *   primaryKey: ["OrderID"],
 *   orderBy: "OrderDate",
 * });
 * ```
 */
export async function mergeByKey(dir: string, options: MergeOptions): Promise<MergeResult> {
  if (options.primaryKey.length === 0) {
    throw new TidemarkError("merge needs a primary_key; list the columns that identify a row");
  }
  await recoverAsset(dir);
  const layout = assetLayout(dir);
  const staging = join(layout.staging, options.runId);
  const incomingFiles = await pathExists(staging) ? await parquetFiles(staging) : [];
  const currentFiles = await pathExists(dir) ? await parquetFiles(dir) : [];
  if (incomingFiles.length === 0 && currentFiles.length > 0) {
    // The run brought no row (an unchanged incremental source): the asset already is the merge.
    // Rewriting it would cost a read of every row and leave a new generation with no change.
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    return { rows: null, incoming: 0, parts: [] };
  }
  // Loaded here, not at the top: replace and append (the extractor's modes) never need polars.
  const { default: pl } = await import("nodejs-polars");
  const frames: DataFrame[] = [];
  let incoming = 0;
  for (const [source, files] of [[0, currentFiles], [1, incomingFiles]] as const) {
    for (const file of files) {
      const frame = pl.readParquet(file);
      if (source === 1) incoming += frame.height;
      frames.push(frame.withColumns(pl.lit(source).cast(pl.Int32).alias("__source")));
    }
  }
  if (frames.length === 0) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    return { rows: 0, incoming: 0, parts: [] };
  }
  const combined = pl.concat(frames, { how: "diagonalRelaxed" }).withRowIndex("__seq");
  for (const key of options.primaryKey) {
    if (!combined.columns.includes(key)) {
      throw new ContractError(
        `merge key column "${key}" is not in the data (columns: ${
          combined.columns.filter((c) => !c.startsWith("__")).join(", ")
        }); fix primary_key`,
      );
    }
    const nulls = combined.getColumn(key).nullCount();
    if (nulls > 0) {
      throw new ContractError(
        `merge needs a value in every key column but ${nulls} row(s) have null "${key}"; ` +
          `fix the source or the asset's primary_key`,
      );
    }
  }
  if (options.orderBy && !combined.columns.includes(options.orderBy)) {
    throw new ContractError(
      `merge order column "${options.orderBy}" is not in the data; fix the incremental field`,
    );
  }
  const order = [...(options.orderBy ? [options.orderBy] : []), "__source", "__seq"];
  const merged = combined
    .sort({ by: order, nullsLast: false, maintainOrder: true })
    .unique({ subset: options.primaryKey, keep: "last", maintainOrder: true })
    .sort({ by: options.primaryKey, maintainOrder: true })
    .drop("__source", "__seq");

  await convertToGenerations(layout, options.onStep);
  await Deno.mkdir(layout.generations, { recursive: true });
  const generation = join(layout.generations, await nextGeneration(layout));
  const parts = await writeGeneration(merged, generation, options);
  await options.onStep?.("generation-written");
  await switchTo(layout, generation, options.onStep, staging);
  return { rows: merged.height, incoming, parts };
}

async function writeGeneration(
  frame: DataFrame,
  generation: string,
  options: MergeOptions,
): Promise<string[]> {
  const { default: pl } = await import("nodejs-polars");
  const { writeParquetFile } = await import("./parquet.ts");
  await Deno.remove(generation, { recursive: true }).catch(() => {});
  await Deno.mkdir(generation, { recursive: true });
  const specs = parsePartitionSpecs(options.partitionBy ?? []);
  const columns: Record<string, unknown[]> = {};
  for (const spec of specs) {
    if (!spec.column) continue;
    const series = frame.getColumn(spec.column);
    // Int64 through text so partition values of ids beyond 2^53 stay exact.
    columns[spec.column] = series.dtype.equals(pl.Int64)
      ? series.cast(pl.Utf8).toArray()
      : series.toArray();
  }
  const groups = groupByPartition(specs, { columns, length: frame.height });
  const parts: string[] = [];
  const write = { compression: options.compression, rowGroupRows: options.rowGroupRows };
  if (groups.length === 1) {
    const relative = join(groups[0].path, "part-merged-00001.parquet");
    await writeParquetFile(frame, join(generation, relative), write);
    return [relative];
  }
  const groupOf = new Int32Array(frame.height);
  groups.forEach((group, g) => {
    for (const row of group.rows) groupOf[row] = g;
  });
  const indexed = frame.withColumns(pl.Series("__group", groupOf));
  for (let g = 0; g < groups.length; g++) {
    const relative = join(groups[g].path, "part-merged-00001.parquet");
    const subset = indexed.filter(pl.col("__group").eq(pl.lit(g))).drop("__group");
    await writeParquetFile(subset, join(generation, relative), write);
    parts.push(relative);
  }
  return parts;
}

/**
 * Brings an asset back to a consistent state after a crash: finishes a switch whose asset path
 * is missing, drops an unfinished one, and removes generations the asset path does not point
 * at. Staging folders stay (a resumed run needs them). Safe to call any time; a no-op on a
 * consistent asset.
 *
 * @example
 * ```ts
 * import { recoverAsset } from "./write_mode.ts";
 * await recoverAsset("out/parquet/Orders");
 * ```
 */
export async function recoverAsset(dir: string): Promise<void> {
  const layout = assetLayout(dir);
  const link = await lstat(layout.link);
  const current = await lstat(dir);
  if (link?.isSymlink && !current) {
    // Crashed between moving the old folder into generation 0 and linking it: finish the link.
    await Deno.rename(layout.link, dir);
  } else if (link) {
    await Deno.remove(layout.link);
  }
  if (!await pathExists(layout.generations)) return;
  const after = await lstat(dir);
  const target = after?.isSymlink ? basename(await Deno.readLink(dir)) : null;
  const targetNumber = target ? generationOf(target)?.number ?? -1 : -1;
  for await (const entry of Deno.readDir(layout.generations)) {
    if (entry.name === target) continue;
    const path = join(layout.generations, entry.name);
    const generation = generationOf(entry.name);
    const staging = generation?.runId ? join(layout.staging, generation.runId) : null;
    if (
      generation && staging && generation.number > targetNumber && !await pathExists(staging)
    ) {
      // A replace that crashed before its switch: give the run its staged parts back.
      await Deno.mkdir(layout.staging, { recursive: true });
      await Deno.rename(path, staging);
    } else {
      await Deno.remove(path, { recursive: true });
    }
  }
}

function generationOf(name: string): { number: number; runId?: string } | null {
  const m = /^gen-(\d+)(?:\.r-(.+))?$/.exec(name);
  return m ? { number: Number(m[1]), runId: m[2] } : null;
}

async function convertToGenerations(
  layout: AssetLayout,
  onStep: MergeOptions["onStep"],
): Promise<void> {
  const current = await lstat(layout.dir);
  if (!current || current.isSymlink) return;
  await Deno.mkdir(layout.generations, { recursive: true });
  const first = "gen-00000";
  // Link first, move second: a crash in between leaves the link, which recoverAsset completes.
  await Deno.symlink(join(basename(layout.generations), first), layout.link);
  await Deno.rename(layout.dir, join(layout.generations, first));
  await Deno.rename(layout.link, layout.dir);
  await onStep?.("converted");
}

async function switchTo(
  layout: AssetLayout,
  generation: string,
  onStep: MergeOptions["onStep"],
  staging?: string,
): Promise<void> {
  await convertToGenerations(layout, onStep);
  const previous = (await lstat(layout.dir))?.isSymlink ? await Deno.readLink(layout.dir) : null;
  await Deno.symlink(join(basename(layout.generations), basename(generation)), layout.link);
  // rename(2) replaces the old symlink in one step: readers see one generation or the other.
  await Deno.rename(layout.link, layout.dir);
  await onStep?.("switched");
  if (previous) {
    await Deno.remove(join(dirname(layout.dir), previous), { recursive: true }).catch(() => {});
  }
  if (staging) await Deno.remove(staging, { recursive: true }).catch(() => {});
  await onStep?.("cleaned");
}

async function nextGeneration(layout: AssetLayout): Promise<string> {
  let highest = 0;
  if (await pathExists(layout.generations)) {
    for await (const entry of Deno.readDir(layout.generations)) {
      highest = Math.max(highest, generationOf(entry.name)?.number ?? 0);
    }
  }
  return `gen-${String(highest + 1).padStart(5, "0")}`;
}

/** Every `.parquet` file under `dir` (following the asset symlink), sorted by path. */
export async function parquetFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(folder: string): Promise<void> {
    for await (const entry of Deno.readDir(folder)) {
      const path = join(folder, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".parquet")) out.push(path);
    }
  }
  if (await pathExists(dir)) await walk(dir);
  return out.sort();
}

async function lstat(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
