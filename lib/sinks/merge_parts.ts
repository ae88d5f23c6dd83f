/**
 * A merge by key that rewrites only the parts holding a changed key. Both engines run this one
 * procedure (`merge_polars.ts`, `merge_js.ts` supply the reading and writing):
 *
 * 1. The run's staged rows are read (they are small: one run's change).
 * 2. Each existing part is ruled out by its Parquet min/max statistics of the first key column,
 *    or else its key columns alone are read, to find the parts that hold a key the run brings.
 * 3. Each such part is read whole — one at a time, so a merge holds one part and the run, never
 *    the asset — merged with the run's rows of its keys, and written back under its own name (a
 *    part grown past `partRows` splits into new parts beside it). A row whose partition changed
 *    moves to a new part of its new partition.
 * 4. The run's new keys are appended to their partition folder's smallest merged part that the
 *    run leaves untouched and that has room for them (read and written under its own name), else
 *    written as new part(s), so that many small merges do not leave many tiny parts.
 * 5. Every other part is carried into the new generation unread: a hard link, or a copy where
 *    the file system has no hard links.
 *
 * The whole asset is read and rewritten instead (the same decision, over every row) when its
 * keys may not be unique across parts — parts not written by a merge (an asset that was appended
 * to, or a plain folder made a merge asset) — or when the run's columns differ from the asset's,
 * so that the widened or narrowed schema reaches every part, as a merge always did.
 * @module
 */
import { basename, dirname, join, relative } from "node:path";
import type { MergeEngine, MergeFrame, PartWriteOptions } from "./merge_engine.ts";
import type { CellValue } from "./column_types.ts";
import { applyToPart, checkDecisionColumns, chooseRows, keyId } from "./merge_rows.ts";
import { columnsShape, locateKeys, type Part } from "./merge_locate.ts";
import { parquetFooter } from "./parquet_js.ts";
import { groupByPartition, parsePartitionSpecs, type PartitionSpec } from "./partition.ts";

/** What a merge needs to know (see `MergeOptions` in write_mode.ts). */
export interface MergeSpec extends PartWriteOptions {
  /** Columns that identify a row. */
  primaryKey: string[];
  /** Column deciding which row of a key is newest. */
  orderBy?: string;
  /** Partitions of the merged output. */
  partitionBy?: string[];
  /** Most rows of a part the merge writes. @default 100_000 */
  partRows?: number;
}

/** What a merge wrote into its generation. */
export interface MergedGeneration {
  /** Rows in the generation. */
  rows: number;
  /** Rows the run brought. */
  incoming: number;
  /** Every part of the generation, relative to it, sorted. */
  parts: string[];
  /** The parts this merge wrote (rewritten or new); the others were carried unread. */
  written: string[];
}

/** Most rows of a part a merge writes: one part is what a merge holds in memory at a time. */
export const DEFAULT_PART_ROWS = 100_000;

const MERGED_PART = /^part-merged-(\d+)\.parquet$/;

/** How written parts get their columns when the run's differ from the asset's. */
interface Reshape<F extends MergeFrame> {
  /** No row, the asset's and the run's columns: concatenated to every frame written; null when the columns are the same. */
  template: F | null;
  /** Rewrite every part (the run widens the asset's columns). */
  rewriteAll: boolean;
}

/** The state of one merge while it writes its generation. */
interface Writing<F extends MergeFrame> {
  engine: MergeEngine<F>;
  spec: MergeSpec;
  specs: PartitionSpec[];
  generation: string;
  /** Next free part number of each partition folder. */
  next: Map<string, number>;
  rows: number;
  written: string[];
  carried: string[];
}

/**
 * Merges the run's staged files into the asset's parts and writes the result into the empty
 * folder `generation`; null when there is no row at all.
 *
 * @example
 * ```ts
 * import { mergeIntoGeneration } from "./merge_parts.ts";
 * import { jsMergeEngine } from "./merge_js.ts";
 * await mergeIntoGeneration(jsMergeEngine, {
 *   asset: "out/parquet/Orders",
 *   currentFiles: [],
 *   incomingFiles: ["out/parquet/.Orders.staging/r1/part-00001.parquet"],
 *   generation: "out/parquet/.Orders.generations/gen-00001",
 * }, { primaryKey: ["OrderID"] });
 * ```
 */
export async function mergeIntoGeneration<F extends MergeFrame>(
  engine: MergeEngine<F>,
  files: { asset: string; currentFiles: string[]; incomingFiles: string[]; generation: string },
  spec: MergeSpec,
): Promise<MergedGeneration | null> {
  const { asset, currentFiles, incomingFiles, generation } = files;
  if (currentFiles.length + incomingFiles.length === 0) return null;
  const incomingFrames: F[] = [];
  for (const file of incomingFiles) incomingFrames.push(await engine.read(file));
  const parts: Part[] = [];
  for (const file of currentFiles) {
    parts.push({ file, relative: relative(asset, file), footer: await parquetFooter(file) });
  }
  const w: Writing<F> = {
    engine,
    spec,
    specs: parsePartitionSpecs(spec.partitionBy ?? []),
    generation,
    next: new Map(),
    rows: 0,
    written: [],
    carried: [],
  };
  const shape = incomingFrames.length > 0 && parts.length > 0 &&
      parts.every((p) => MERGED_PART.test(basename(p.relative)))
    ? await columnsShape(parts, incomingFiles)
    : "mixed";
  if (shape === "mixed") await mergeWhole(w, parts, incomingFrames);
  else {
    const incoming = engine.concat(incomingFrames);
    // Where the run's columns differ, every written part takes the asset's and the run's columns
    // (types widened), as one merge of every row would give them.
    const template = shape === "same" ? null : engine.concat([
      engine.gather(await engine.read(parts[0].file), []),
      engine.gather(incoming, []),
    ]);
    await mergeParts(w, parts, incoming, { template, rewriteAll: shape === "wider" });
  }
  return {
    rows: w.rows,
    incoming: incomingFrames.reduce((n, f) => n + f.length, 0),
    parts: [...w.written, ...w.carried].sort(),
    written: w.written.sort(),
  };
}

/** Every row of the asset and the run decided at once, written as fresh parts. */
async function mergeWhole<F extends MergeFrame>(
  w: Writing<F>,
  parts: readonly Part[],
  incomingFrames: readonly F[],
): Promise<void> {
  const frames: F[] = [];
  for (const part of parts) frames.push(await w.engine.read(part.file));
  const held = frames.reduce((n, f) => n + f.length, 0);
  frames.push(...incomingFrames);
  const combined = w.engine.concat(frames);
  await writeRows(w, combined, sourcesOf(held, combined.length - held));
}

/** The partial merge: find the touched parts, rewrite them one by one, add the new keys. */
async function mergeParts<F extends MergeFrame>(
  w: Writing<F>,
  parts: readonly Part[],
  incoming: F,
  columns: Reshape<F>,
): Promise<void> {
  const keys = decisionKeys(w, incoming);
  const ids = Array.from({ length: incoming.length }, (_, r) => keyId(keys, r));
  const home = await locateKeys(w.engine, w.spec.primaryKey, parts, incoming);
  for (const part of parts) {
    const folder = folderOf(part.relative);
    const n = Number(MERGED_PART.exec(basename(part.relative))?.[1] ?? 0);
    w.next.set(folder, Math.max(w.next.get(folder) ?? 1, n + 1));
  }
  const byPart = new Map<number, number[]>();
  // Rows written as new parts: new keys, then the run's rows that left their part's partition.
  const rest: number[] = [];
  ids.forEach((id, r) => {
    const at = home.get(id);
    if (at === undefined) rest.push(r);
    else if (byPart.has(at)) byPart.get(at)!.push(r);
    else byPart.set(at, [r]);
  });
  // The new keys are decided before any part is carried, so that a small part they are appended
  // to is rewritten instead of carried. `rest` is in the run's order here (ties go to the later).
  const fresh = rest.length > 0 ? newKeyGroups(w, parts, byPart, incoming, rest, columns) : null;
  const into = new Set(fresh?.groups.flatMap((g) => g.into === null ? [] : [g.into]));
  const moved: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const mine = byPart.get(i) ?? [];
    if (mine.length > 0 || columns.rewriteAll) {
      const theirs = w.engine.gather(incoming, mine);
      await rewritePart(w, parts[i], { theirs, mine, moved }, columns);
    } else if (!into.has(i)) await carry(w, parts[i]);
  }
  if (fresh) await writeNewKeys(w, parts, fresh);
  if (moved.length === 0) return;
  // Original order, so ties between the run's rows still go to the later one.
  moved.sort((a, b) => a - b);
  const rows = reshaped(w, columns, w.engine.gather(incoming, moved));
  await writeRows(w, rows, sourcesOf(0, moved.length));
}

/** The run's new-key rows, decided, by partition folder, each with the part they join, if any. */
interface NewKeys<F extends MergeFrame> {
  frame: F;
  groups: { path: string; rows: number[]; into: number | null }[];
}

/**
 * Decides the run's new-key rows `rest` and picks, for each partition folder, the part they are
 * appended to: its smallest merged part that the run leaves untouched and that has room for
 * them, so that an asset merged many times with a few new keys each does not gather one tiny
 * part per run. One such part at most per folder, so a merge reads at most one extra part each.
 */
function newKeyGroups<F extends MergeFrame>(
  w: Writing<F>,
  parts: readonly Part[],
  byPart: ReadonlyMap<number, number[]>,
  incoming: F,
  rest: readonly number[],
  columns: Reshape<F>,
): NewKeys<F> {
  const frame = reshaped(w, columns, w.engine.gather(incoming, rest));
  const size = Math.max(1, w.spec.partRows ?? DEFAULT_PART_ROWS);
  const groups = partitionGroups(w, frame, decide(w, frame, sourcesOf(0, rest.length)));
  return {
    frame,
    groups: groups.map((group) => {
      let into: number | null = null;
      // A part whose columns change is rewritten anyway; it is not appended to.
      if (!columns.rewriteAll) {
        parts.forEach((part, i) => {
          const rows = Number(part.footer.num_rows);
          if (
            folderOf(part.relative) === group.path && !byPart.has(i) &&
            MERGED_PART.test(basename(part.relative)) && rows + group.rows.length <= size &&
            (into === null || rows < Number(parts[into].footer.num_rows))
          ) into = i;
        });
      }
      return { ...group, into };
    }),
  };
}

/** Writes the new keys: appended to their folder's chosen part under its name, else as new parts. */
async function writeNewKeys<F extends MergeFrame>(
  w: Writing<F>,
  parts: readonly Part[],
  fresh: NewKeys<F>,
): Promise<void> {
  for (const group of fresh.groups) {
    if (group.into === null) {
      await writeSplit(w, group.path, fresh.frame, group.rows, null);
      continue;
    }
    const part = parts[group.into];
    const own = await w.engine.read(part.file);
    const added = w.engine.gather(fresh.frame, group.rows);
    const combined = w.engine.concat([own, added]);
    const all = Array.from({ length: combined.length }, (_, r) => r);
    await writeSplit(w, group.path, combined, all, basename(part.relative));
    w.engine.release?.([own, added, combined]);
  }
}

/** `frame` with the asset's and the run's columns where they differ (see `Reshape`). */
function reshaped<F extends MergeFrame>(w: Writing<F>, columns: Reshape<F>, frame: F): F {
  return columns.template ? w.engine.concat([columns.template, frame]) : frame;
}

/**
 * Rewrites a part holding keys the run brings (`theirs`, rows `mine` of the run): its rows with
 * the run's applied, under its own name. Survivors of the run whose partition is not the part's
 * join `moved` (written with the new keys); a part whose rows all stand is carried instead,
 * unless its columns must change.
 */
async function rewritePart<F extends MergeFrame>(
  w: Writing<F>,
  part: Part,
  run: { theirs: F; mine: readonly number[]; moved: number[] },
  columns: Reshape<F>,
): Promise<void> {
  const { theirs, mine, moved } = run;
  const own = await w.engine.read(part.file);
  const combined = w.engine.concat(
    columns.template ? [own, theirs, columns.template] : [own, theirs],
  );
  const keys = w.spec.primaryKey.map((k) => w.engine.values(combined, k));
  const order = w.spec.orderBy ? w.engine.values(combined, w.spec.orderBy) : undefined;
  const sources = sourcesOf(own.length, theirs.length);
  const chosen = applyToPart({ keys, order, sources }, own.length);
  if (!columns.rewriteAll && chosen.every((j, r) => j === r)) {
    w.engine.release?.([own, combined]);
    await carry(w, part);
    return;
  }
  const folder = folderOf(part.relative);
  for (const group of partitionGroups(w, combined, chosen)) {
    if (group.path === folder) {
      await writeSplit(w, folder, combined, group.rows, basename(part.relative));
      continue;
    }
    const stray: number[] = [];
    for (const j of group.rows) {
      if (j >= own.length) moved.push(mine[j - own.length]);
      else stray.push(j);
    }
    if (stray.length > 0) await writeSplit(w, group.path, combined, stray, null);
  }
  w.engine.release?.([own, combined]);
}

/** Decides `frame`'s rows and writes the survivors as new parts of their partitions. */
async function writeRows<F extends MergeFrame>(
  w: Writing<F>,
  frame: F,
  sources: Uint8Array,
): Promise<void> {
  for (const group of partitionGroups(w, frame, decide(w, frame, sources))) {
    await writeSplit(w, group.path, frame, group.rows, null);
  }
}

/**
 * Writes rows `rows` of `frame` as parts of at most `partRows` rows in `folder`, the first under
 * `name` when given. Each part is gathered, written and released before the next, so a merge of
 * the whole asset never holds a second copy of it; and an asset never collapses into one big
 * part, so a later merge holds one part at a time.
 */
async function writeSplit<F extends MergeFrame>(
  w: Writing<F>,
  folder: string,
  frame: F,
  rows: readonly number[],
  name: string | null,
): Promise<void> {
  const size = Math.max(1, w.spec.partRows ?? DEFAULT_PART_ROWS);
  for (let from = 0; from < rows.length; from += size) {
    const slice = rows.slice(from, from + size);
    const whole = slice.length === frame.length && slice.every((r, i) => r === i);
    const chunk = whole ? frame : w.engine.gather(frame, slice);
    let file = from === 0 && name ? name : null;
    if (!file) {
      const n = w.next.get(folder) ?? 1;
      w.next.set(folder, n + 1);
      file = `part-merged-${String(n).padStart(5, "0")}.parquet`;
    }
    const path = join(folder, file);
    await w.engine.write(chunk, join(w.generation, path), w.spec);
    if (!whole) w.engine.release?.([chunk]);
    w.written.push(path);
    w.rows += chunk.length;
  }
}

/**
 * Puts an untouched part into the new generation without reading it. A hard link costs no copy
 * and is safe because parts are never changed in place (each is written once, under a temporary
 * name, then renamed); where links are refused — another file system, one without hard links, or
 * Deploy's in-memory scratch folder — the file is copied.
 */
async function carry<F extends MergeFrame>(w: Writing<F>, part: Part): Promise<void> {
  const target = join(w.generation, part.relative);
  await Deno.mkdir(dirname(target), { recursive: true });
  try {
    await Deno.link(part.file, target);
  } catch {
    await Deno.copyFile(part.file, target);
  }
  w.carried.push(part.relative);
  w.rows += Number(part.footer.num_rows);
}

/** The survivors of `frame` (see `chooseRows`), after checking its key and order columns. */
function decide<F extends MergeFrame>(w: Writing<F>, frame: F, sources: Uint8Array): number[] {
  const keys = decisionKeys(w, frame);
  const order = w.spec.orderBy ? w.engine.values(frame, w.spec.orderBy) : undefined;
  return chooseRows({ keys, order, sources });
}

function decisionKeys<F extends MergeFrame>(w: Writing<F>, frame: F): CellValue[][] {
  const cache = new Map<string, CellValue[]>();
  const values = (name: string) => {
    if (!cache.has(name)) cache.set(name, w.engine.values(frame, name));
    return cache.get(name)!;
  };
  checkDecisionColumns(frame.names, values, w.spec);
  return w.spec.primaryKey.map(values);
}

/** Rows `rows` of `frame` by partition folder, each group's rows (indices into `frame`) in order. */
function partitionGroups<F extends MergeFrame>(
  w: Writing<F>,
  frame: F,
  rows: readonly number[],
): { path: string; rows: number[] }[] {
  const all = w.engine.partitionColumns(frame, w.specs);
  const columns: Record<string, unknown[]> = {};
  for (const [name, values] of Object.entries(all)) columns[name] = rows.map((r) => values[r]);
  return groupByPartition(w.specs, { columns, length: rows.length })
    .map((group) => ({ path: group.path, rows: group.rows.map((r) => rows[r]) }));
}

function sourcesOf(held: number, brought: number): Uint8Array {
  const sources = new Uint8Array(held + brought);
  sources.fill(1, held);
  return sources;
}

/** The partition folder of a part's relative path, as `groupByPartition` writes it (`/`). */
function folderOf(path: string): string {
  const folder = dirname(path).replaceAll("\\", "/");
  return folder === "." ? "" : folder;
}
