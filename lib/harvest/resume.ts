/**
 * Picking up after a crash (`kill -9` at any instant). Three repairs, all idempotent so a crash
 * during them is harmless too:
 *
 * 1. {@link adoptManifestPages}: a run killed after a page's manifest line was appended but
 *    before the page was committed in state left a complete page (snapshot, parts, line). It is
 *    committed now, under its own run, when its asset is still in progress and it is exactly the
 *    page after its partition's last committed one — with every other page of its batch (pages
 *    that share parts are adopted together or not at all). Runs that never finished are then
 *    marked failed.
 * 2. {@link removeOrphanParts}: part files of an asset that no committed page names (written
 *    just before a crash) and temporary files are deleted, so the resumed walk, which fetches
 *    those pages again, writes no duplicate.
 * 3. {@link replayCommittedPages}: the watermark of an unfinished asset is rebuilt from the
 *    snapshots of its committed pages, so the watermark advanced at the end covers every page.
 * @module
 */
import { join } from "node:path";
import { loadManifest, type ManifestRecord, outputsOf } from "../provenance/manifest.ts";
import { resolveOutPath } from "../provenance/snapshot.ts";
import { sha256File } from "../core/stamps.ts";
import type { StateStore } from "../state/mod.ts";
import { readPlan } from "./asset_plan.ts";
import { rowsFromBytes } from "../pipeline/page_rows.ts";
import { pagesOfPart } from "./page_step.ts";
import type { WatermarkTracker } from "../pipeline/watermark_tracker.ts";
import { readDirIfExists } from "../core/atomic_file.ts";

/** What {@link adoptManifestPages} did. */
export interface AdoptResult {
  /** Runs found unfinished (killed), now marked failed. */
  crashedRuns: string[];
  /** Pages committed from their manifest lines. */
  adopted: { runId: string; asset: string; partition: string; page: number }[];
}

/** Options of {@link adoptManifestPages}. */
export interface AdoptOptions {
  /** The run doing the repair (never treated as crashed). */
  runId: string;
  /** Clock for the failed runs' finish time. @default () => new Date() */
  now?: () => Date;
}

/**
 * Commits the pages that runs killed between manifest line and commit left behind, then marks
 * those runs failed.
 */
export async function adoptManifestPages(
  out: string,
  state: StateStore,
  options: AdoptOptions,
): Promise<AdoptResult> {
  const crashed = (await state.listRuns(Number.MAX_SAFE_INTEGER))
    .filter((r) => r.status === "running" && r.runId !== options.runId && r.command === "harvest")
    .map((r) => r.runId);
  const result: AdoptResult = { crashedRuns: crashed, adopted: [] };
  if (crashed.length === 0) return result;
  const wanted = new Set(crashed);
  const { entries } = await loadManifest(resolveOutPath(out, "manifest.jsonl"));
  const lines = entries.map((e) => e.record).filter((r) =>
    wanted.has(r.run_id) && r.kind === "http" && r.snapshot !== null
  );
  const committed = new Map<string, Set<string> | null>();
  for (let i = 0; i < lines.length;) {
    const group = batchAt(lines, i);
    i += group.length;
    const first = group[0];
    let snapshots = committed.get(first.asset);
    if (snapshots === undefined) {
      // Only an asset still in progress can have a page waiting; a completed one has none.
      const plan = await readPlan(state, first.asset).catch(() => undefined);
      snapshots = plan?.status === "active"
        ? new Set((await state.pendingPages(first.asset)).map((p) => p.snapshot))
        : null;
      committed.set(first.asset, snapshots);
    }
    if (snapshots === null) continue;
    const outputs = outputsOf(first);
    const range = outputs.length > 0 ? pagesOfPart(outputs[0], first.run_id) : null;
    // Pages that shared parts are adopted together or not at all: every line of the batch must
    // be there, or its part holds rows of pages that will be fetched again.
    if (outputs.length > 0 && (range === null || range.last - range.first + 1 !== group.length)) {
      continue;
    }
    if (!await intact(out, group, outputs)) continue;
    for (const [k, record] of group.entries()) {
      if (snapshots.has(record.snapshot!)) continue;
      const partition = record.partition ?? "";
      const point = await state.resumePoint(record.asset, partition);
      const cursorIn = record.cursor_in === null ? null : String(record.cursor_in);
      const follows = point === undefined
        ? cursorIn === null
        : !point.done && point.cursorOut !== null && point.cursorOut === cursorIn;
      const page = (point?.page ?? 0) + 1;
      if (!follows || (range !== null && page !== range.first + k)) break;
      const cursorOut = record.cursor_out === null ? null : String(record.cursor_out);
      await state.commitPage({
        runId: record.run_id,
        assetId: record.asset,
        partition,
        page,
        cursorIn,
        cursorOut,
        rows: record.rows,
        snapshot: record.snapshot!,
        outputs,
        sha256: record.sha256!,
        done: cursorOut === null,
      });
      snapshots.add(record.snapshot!);
      result.adopted.push({ runId: record.run_id, asset: record.asset, partition, page });
    }
  }
  const now = (options.now ?? (() => new Date()))().toISOString();
  for (const runId of crashed) {
    await state.finishRun(runId, {
      status: "failed",
      finishedAt: now,
      counts: { crashed: 1, adopted_pages: result.adopted.filter((a) => a.runId === runId).length },
    });
  }
  return result;
}

/** The lines of the batch starting at `i`: the following lines of its walk with the same parts. */
function batchAt(lines: readonly ManifestRecord[], i: number): ManifestRecord[] {
  const first = lines[i];
  const outputs = JSON.stringify(outputsOf(first));
  const group = [first];
  if (outputs === "[]") return group;
  for (let j = i + 1; j < lines.length; j++) {
    const line = lines[j];
    if (
      line.run_id !== first.run_id || line.asset !== first.asset ||
      (line.partition ?? "") !== (first.partition ?? "") ||
      JSON.stringify(outputsOf(line)) !== outputs
    ) break;
    group.push(line);
  }
  return group;
}

/** Every snapshot of the batch hashes as recorded and every part is on disk. */
async function intact(
  out: string,
  group: readonly ManifestRecord[],
  outputs: string[],
): Promise<boolean> {
  try {
    for (const record of group) {
      const digest = await sha256File(resolveOutPath(out, record.snapshot!));
      if (digest.sha256 !== record.sha256) return false;
    }
    for (const output of outputs) {
      if (!(await Deno.stat(resolveOutPath(out, output))).isFile) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Deletes, under an asset's output folder (relative to `out`), every part file no committed
 * page names and every temporary file. Resolves to the deleted paths (relative to `out`).
 */
export async function removeOrphanParts(
  out: string,
  relDir: string,
  committed: ReadonlySet<string>,
): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (rel: string) => {
    const entries = await readDirIfExists(join(out, rel));
    for (const entry of entries) {
      const path = `${rel}/${entry.name}`;
      if (entry.isDirectory) {
        await walk(path);
        continue;
      }
      const orphan = entry.name.endsWith(".tmp") ||
        (entry.name.startsWith("part-") && !committed.has(path));
      if (!orphan) continue;
      await Deno.remove(join(out, path)).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
      removed.push(path);
    }
  };
  await walk(relDir);
  return removed;
}

/** Options of {@link replayCommittedPages}. */
export interface ReplayCommittedOptions {
  /** Where the records are in each snapshot. */
  dataPath: string;
  /** A snapshot without `dataPath` holds no records. @default false */
  dataOptional?: boolean;
}

/**
 * Feeds the records of an asset's committed but not yet completed pages (read back from their
 * snapshots) to its watermark tracker. Resolves to the number of pages read.
 */
export async function replayCommittedPages(
  out: string,
  state: StateStore,
  asset: string,
  tracker: WatermarkTracker,
  options: ReplayCommittedOptions,
): Promise<number> {
  const pages = await state.pendingPages(asset);
  for (const page of pages) {
    if (!page.snapshot) continue;
    const bytes = await Deno.readFile(resolveOutPath(out, page.snapshot));
    const { records } = rowsFromBytes(bytes, {
      dataPath: options.dataPath,
      dataOptional: options.dataOptional,
      label: asset,
    });
    tracker.observe(records);
  }
  return pages.length;
}
