/**
 * An out folder in object storage, harvested through a local scratch copy: the harvest engine
 * writes its usual layout on local disk (a Deploy slice: the only writable place is a temporary
 * folder; a queued unit with `--out s3://…`: the worker's temporary folder), and
 * {@link OutMirror.flush} copies what changed to the bucket — and deletes there what the engine
 * deleted — before every state write (see {@link mirroredState}). So whatever the state (Deno KV,
 * PostgreSQL) claims (a committed page, a watermark, a finished run) is in the bucket first, and
 * a slice or unit killed at any point resumes from the bucket and its state alone, exactly as a
 * local run resumes from its folder after `kill -9`.
 *
 * Within one flush, data files (snapshots, parts, rejects) go before `manifest.jsonl`, so the
 * manifest never names a snapshot the bucket lacks, and deletions go last, so a flush cut short
 * leaves the union of the old and new files, which the engine's resume treats like a crash
 * between its own steps (orphan parts deleted, staged rows merged again idempotently).
 * @module
 */
import { join } from "node:path";
import { deferWrites } from "../state/deferred.ts";
import type { StateStore } from "../state/mod.ts";
import { type Bucket, downloadObject } from "./bucket.ts";
import { readDirIfExists } from "../core/atomic_file.ts";

/** The size and modification time a file had when it was last copied. */
type Signature = string;

/** Files never copied: the local lock, temporary names, generation folders of an asset switch. */
function skipped(rel: string, isDirectory: boolean): boolean {
  const name = rel.slice(rel.lastIndexOf("/") + 1);
  if (name.startsWith(".tidemark.lock")) return true;
  if (!isDirectory && name.endsWith(".tmp")) return true;
  if (isDirectory && /^\..+\.(generations|previous|link\.tmp)$/.test(name)) return true;
  return false;
}

/** Order of uploads in one flush: data first, the manifest after it, the report last. */
function rank(rel: string): number {
  if (rel === "manifest.jsonl") return 2;
  if (rel.startsWith("reports/")) return 3;
  return 1;
}

/** Options of {@link OutMirror.hydrate}. */
export interface HydrateOptions {
  /** Runs whose snapshots are fetched too (unfinished runs: resume re-reads their pages). */
  runIds?: ReadonlySet<string>;
  /**
   * Snapshots of this run and every later one are fetched too (run ids sort by time): an
   * unfinished asset's harvest, resumed slice after slice, re-reads pages its earlier slices
   * committed under their own run ids.
   */
  sinceRunId?: string;
}

/** A local out folder kept in step with a bucket folder. */
export class OutMirror {
  readonly dir: string;
  readonly bucket: Bucket;
  readonly #known = new Map<string, Signature>();
  /** Objects uploaded and deleted so far (for logs and tests). */
  readonly stats = { uploaded: 0, deleted: 0, downloaded: 0, bytesUp: 0 };

  /** A mirror of `bucket` in `dir` (an empty folder; fill it with {@link hydrate}). */
  constructor(dir: string, bucket: Bucket) {
    this.dir = dir;
    this.bucket = bucket;
  }

  /**
   * Copies the bucket folder into the local folder: everything but the reports and the raw
   * snapshots, except those of `runIds` (a resumed page is re-read from its snapshot).
   */
  async hydrate(options: HydrateOptions = {}): Promise<void> {
    const runIds = options.runIds ?? new Set<string>();
    for (const object of await this.bucket.list()) {
      const rel = object.path;
      if (rel.startsWith("reports/")) continue;
      if (rel.startsWith("raw/")) {
        const run = rel.split("/")[2];
        const since = options.sinceRunId !== undefined && run >= options.sinceRunId;
        if (!runIds.has(run) && !since) continue;
      }
      if (!await downloadObject(this.bucket, rel, this.dir)) continue;
      this.#known.set(rel, signature(await Deno.stat(join(this.dir, rel))));
      this.stats.downloaded++;
    }
  }

  /** Copies new and changed files to the bucket, then deletes there what is gone here. */
  async flush(): Promise<void> {
    const now = await this.#scan();
    const changed = [...now].filter(([rel, sig]) => this.#known.get(rel) !== sig)
      .map(([rel]) => rel)
      .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const rel of changed) {
      let data: Uint8Array;
      try {
        data = await Deno.readFile(join(this.dir, rel));
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) continue; // renamed away meanwhile
        throw error;
      }
      await this.bucket.put(rel, data);
      this.#known.set(rel, now.get(rel)!);
      this.stats.uploaded++;
      this.stats.bytesUp += data.length;
    }
    const gone = [...this.#known.keys()].filter((rel) => !now.has(rel));
    if (gone.length > 0) {
      await this.bucket.delete(gone);
      for (const rel of gone) this.#known.delete(rel);
      this.stats.deleted += gone.length;
    }
  }

  async #scan(): Promise<Map<string, Signature>> {
    const found = new Map<string, Signature>();
    const walk = async (folder: string, prefix: string): Promise<void> => {
      const entries = await readDirIfExists(folder);
      for (const entry of entries) {
        const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
        const path = join(folder, entry.name);
        let info: Deno.FileInfo;
        try {
          // A replace/merge asset folder may be a symlink to its generation: follow it.
          info = await Deno.stat(path);
        } catch (error) {
          if (error instanceof Deno.errors.NotFound) continue;
          throw error;
        }
        if (skipped(rel, info.isDirectory)) continue;
        if (info.isDirectory) await walk(path, rel);
        else if (info.isFile) found.set(rel, signature(info));
      }
    };
    await walk(this.dir, "");
    return found;
  }
}

function signature(info: Deno.FileInfo): Signature {
  return `${info.size}:${info.mtime?.getTime() ?? 0}`;
}

/**
 * A state store whose every write first flushes the mirror: the state never claims what the bucket
 * lacks. `close()` flushes once more and leaves the underlying store open (its owner closes it).
 *
 * @example
 * ```ts
 * const state = mirroredState(await openKvState(undefined, { prefix: ["tidemark", "jobs", "northwind"] }), mirror);
 * ```
 */
export function mirroredState(
  store: StateStore,
  mirror: OutMirror,
  options: { fence?: () => Promise<void> } = {},
): StateStore {
  let queue: Promise<unknown> = Promise.resolve();
  // One flush at a time: concurrent workers commit pages in parallel. The fence (a queue unit
  // that must still be this attempt's) is asked before each one, so an attempt that lost its
  // unit uploads nothing more over the attempt that took it.
  const flush = () =>
    (queue = queue.then(async () => {
      await options.fence?.();
      await mirror.flush();
    })) as Promise<void>;
  return deferWrites(store, flush, { runRows: true, close: flush });
}
