/**
 * Write modes of an asset's output folder (`output.mode`):
 *
 * - `append` (default): each run adds its parts to the folder.
 * - `replace`: the run writes to a staging folder; at the end of a successful run the asset
 *   folder is swapped to it atomically.
 * - `merge` on `primary_key`: the run writes its rows to a staging folder; at the end the asset
 *   holds exactly one row per key — the newest by `orderBy` (the incremental field), ties going
 *   to the latest run. Only the parts holding a key the run brings are rewritten (each sorted by
 *   key, under its own name), new keys go to new parts, and every other part is carried into the
 *   new generation unread (hard link, else copy): a merge holds one part at a time, not the
 *   asset (`merge_parts.ts`). Merging the same rows twice gives byte-identical files.
 *
 * Crash safety comes from generations and one symlink: for replace and merge the asset path
 * (`parquet/Orders`) is a symlink to a complete generation folder
 * (`parquet/.Orders.generations/gen-00003`). A new generation is written beside the current one
 * and the symlink is switched with one `rename` — readers see the old version or the new one,
 * never a mix, and a crash at any step leaves the previous version readable.
 * {@link recoverAsset} (run at the start of every mode operation) finishes or rolls back an
 * interrupted switch and removes unreferenced generations.
 *
 * Deno allows `Deno.symlink` only with unscoped read and write. A process that may write only
 * some folders (Deno Deploy's scratch folder, `deno task deploy:local`) keeps the asset path a
 * plain folder instead: the new generation replaces it by two renames (the old folder moves to
 * `.<asset>.previous`, the generation takes its place), which {@link recoverAsset} rolls back if a
 * crash falls between them. There the out folder is a scratch copy of object storage, which
 * sees only the finished result.
 *
 * The merge reads and writes parts with polars when FFI is permitted, else with hyparquet
 * (`merge_js.ts`): polars is imported only on the first path. Which rows survive and which parts
 * are rewritten is decided the same way for both (`merge_rows.ts`, `merge_parts.ts`).
 * @module
 */
import { basename, dirname, join } from "node:path";
import { TidemarkError } from "../core/errors.ts";
import { pathExists } from "../core/atomic_file.ts";
import { parquetEngine } from "./ffi.ts";
import type { MergeFrame } from "./merge_engine.ts";
import type { MergeSpec } from "./merge_parts.ts";

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
  /** Where the previous content waits during a switch without symlinks. */
  previous: string;
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
    previous: join(parent, `.${name}.previous`),
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
 * the parts it already wrote; made by the first part written, not here).
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
  // The staging folder is made by the first part written into it (a run that fails before
  // writing a row leaves the asset's folders as they were); a replace that staged no part
  // replaces the asset with an empty one.
  return join(assetLayout(dir).staging, options.runId);
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
  // A run that staged no part (an empty source) replaces the asset with an empty generation.
  await Deno.mkdir(staging, { recursive: true });
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
  /**
   * Most rows of a part the merge writes; a bigger rewritten part splits. A merge holds one part
   * (and the run's rows) in memory at a time. @default 100_000
   */
  partRows?: number;
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
  /** The parts this merge wrote (rewritten or new); the others were carried over unread. */
  written: string[];
}

/**
 * Merges the run's staged rows into the asset: one row per primary key, the newest by
 * `orderBy` (ties: the run's row, then the later row), written as a new generation and switched
 * in atomically. Only the parts holding a key the run brings are read and rewritten; new keys
 * become new parts; the other parts are hard-linked (or copied) into the new generation.
 * Merging the same rows again changes nothing (same rows, same bytes).
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
    return { rows: null, incoming: 0, parts: [], written: [] };
  }
  if (incomingFiles.length === 0) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    return { rows: 0, incoming: 0, parts: [], written: [] };
  }
  const spec: MergeSpec = {
    primaryKey: options.primaryKey,
    orderBy: options.orderBy,
    partitionBy: options.partitionBy,
    compression: options.compression,
    rowGroupRows: options.rowGroupRows,
    partRows: options.partRows,
  };
  // The merge's modules (and the Parquet reader they use) load only when a merge runs: a
  // replace, an append or an extraction never pays for them at start-up.
  const { mergeIntoGeneration } = await import("./merge_parts.ts");
  const engine = parquetEngine() === "polars"
    ? (await import("./merge_polars.ts")).polarsMergeEngine
    : (await import("./merge_js.ts")).jsMergeEngine;
  await convertToGenerations(layout, options.onStep);
  await Deno.mkdir(layout.generations, { recursive: true });
  const generation = join(layout.generations, await nextGeneration(layout));
  await Deno.remove(generation, { recursive: true }).catch(() => {});
  await Deno.mkdir(generation, { recursive: true });
  const files = { asset: dir, currentFiles, incomingFiles, generation };
  const merged = await mergeIntoGeneration<MergeFrame>(engine, files, spec)
    .catch(async (error) => {
      // A refused run (a null key, a missing column) leaves no half-written generation behind.
      await Deno.remove(generation, { recursive: true }).catch(() => {});
      throw error;
    });
  await options.onStep?.("generation-written");
  await switchTo(layout, generation, options.onStep, staging);
  // Not null: the run staged at least one file.
  return {
    rows: merged!.rows,
    incoming: merged!.incoming,
    parts: merged!.parts,
    written: merged!.written,
  };
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
  if (await lstat(layout.previous)) {
    // A switch without symlinks crashed: roll back if the new content never took the asset path.
    if (!await lstat(dir)) await Deno.rename(layout.previous, dir);
    else await Deno.remove(layout.previous, { recursive: true });
  }
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
  if (!current || current.isSymlink || !symlinksAllowed()) return;
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
  if (!symlinksAllowed() && !(await lstat(layout.dir))?.isSymlink) {
    await switchByRename(layout, generation, onStep, staging);
    return;
  }
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

/**
 * The switch of a process that may not create symlinks: the asset folder moves aside, the new
 * generation takes its path, the old folder goes. A crash between the renames leaves no asset
 * folder and `.<asset>.previous`, which {@link recoverAsset} moves back.
 */
async function switchByRename(
  layout: AssetLayout,
  generation: string,
  onStep: MergeOptions["onStep"],
  staging?: string,
): Promise<void> {
  await Deno.remove(layout.previous, { recursive: true }).catch(() => {});
  const had = await lstat(layout.dir) !== null;
  if (had) await Deno.rename(layout.dir, layout.previous);
  await Deno.mkdir(dirname(layout.dir), { recursive: true });
  await Deno.rename(generation, layout.dir);
  await onStep?.("switched");
  if (had) await Deno.remove(layout.previous, { recursive: true }).catch(() => {});
  if (staging) await Deno.remove(staging, { recursive: true }).catch(() => {});
  await Deno.remove(layout.generations, { recursive: true }).catch(() => {});
  await onStep?.("cleaned");
}

/** Deno creates symlinks only with unscoped read and write permission. */
function symlinksAllowed(): boolean {
  return Deno.permissions.querySync({ name: "write" }).state === "granted" &&
    Deno.permissions.querySync({ name: "read" }).state === "granted";
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
