/**
 * The Deno KV state store: the same {@link StateStore} as the SQLite one, for Deno Deploy where
 * there is no writable disk (`Deno.openKv()`), or a local KV file (`--unstable-kv`).
 *
 * Layout under a key prefix (`["tidemark"]` by default, so several stores can share one KV):
 * - `wm, asset, dataType` → watermark (read, merged, written with a versionstamp check: an
 *   upsert never overwrites a field with null, even against a concurrent writer);
 * - `run, runId` and `run_by_start, startedAt, runId` → the run row, written together;
 * - `page, asset, partition, runId, page` → every committed page, kept (outputs, verify);
 * - `pending, asset, partition, runId, page` → the same row, written in the same atomic commit,
 *   so it carries the same versionstamp: the commit order that resume points follow;
 * - `done, asset` → the completion marker: its own versionstamp is the cut-off, so pages
 *   committed before it are complete. One write marks any number of pages complete atomically
 *   (an atomic KV commit takes at most 1000 mutations); stale `pending` rows are then removed
 *   in batches, and are ignored if a crash leaves some behind;
 * - `skip, asset` → the rate-limit skip.
 * @module
 */
import { StateError } from "../core/errors.ts";
import type {
  PageCommit,
  PageRow,
  RunFinish,
  RunRow,
  RunStart,
  SkipRecord,
  SkipRow,
  StateStore,
  Watermark,
  WatermarkUpdate,
} from "./mod.ts";
import { checkPageCommit } from "./pages.ts";
import { normalizeTimestamp } from "./watermark.ts";

/** The layout version this code writes, stored under `meta`; a newer one is refused. */
export const KV_STATE_VERSION = 1;

/** Options of {@link openKvState}. */
export interface KvStateOptions {
  /** Clock for `updatedAt`, `committedAt`, `recordedAt`. @default () => new Date() */
  now?: () => Date;
  /** Key prefix of every entry (lets several stores share one KV database). @default ["tidemark"] */
  prefix?: Deno.KvKeyPart[];
  /** Attempts of an optimistic write that keeps meeting a concurrent writer. @default 50 */
  maxAttempts?: number;
}

/** Largest number of mutations sent in one atomic commit (Deno KV's limit is 1000). */
const BATCH = 500;

/** Tries of an operation that finds the local database locked (about 1.2 s of pauses in all). */
const LOCKED_ATTEMPTS = 20;

function isLocked(error: unknown): boolean {
  return /database is locked|SQLITE_BUSY/i.test(String((error as Error)?.message));
}

/**
 * Opens a {@link StateStore} over Deno KV: a local file path, `":memory:"`, a remote KV URL, or
 * (no argument) the default database, which on Deno Deploy is the project's KV.
 * Needs `--unstable-kv` outside Deploy.
 * @example
 * ```ts
 * const state = await openKvState("out/state.kv");
 * await state.setWatermark({ assetId: "Orders", lastTimestamp: "1997-01-01 00:00:00.000" });
 * (await state.getWatermark("Orders"))?.lastTimestamp; // "1997-01-01T00:00:00.000Z"
 * await state.close();
 * ```
 */
export async function openKvState(
  pathOrUrl?: string,
  options: KvStateOptions = {},
): Promise<StateStore> {
  const where = pathOrUrl ?? "the default Deno KV database";
  const open = (Deno as { openKv?: (path?: string) => Promise<Deno.Kv> }).openKv;
  if (typeof open !== "function") {
    throw new StateError(
      `cannot open KV state ${where}: Deno KV is not available; run with --unstable-kv (it is built in on Deno Deploy) or use state.backend: sqlite`,
    );
  }
  let kv: Deno.Kv;
  try {
    kv = await open.call(Deno, pathOrUrl);
  } catch (error) {
    throw new StateError(
      `cannot open KV state ${where}: ${
        (error as Error).message
      }; check the folder exists and is writable`,
      { cause: error },
    );
  }
  const prefix = options.prefix ?? ["tidemark"];
  try {
    await checkLayout(kv, prefix, where);
  } catch (error) {
    kv.close();
    if (error instanceof StateError) throw error;
    throw new StateError(`cannot use KV state ${where}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return new KvState(kv, {
    where,
    prefix,
    now: options.now ?? (() => new Date()),
    maxAttempts: Math.max(1, options.maxAttempts ?? 50),
  });
}

async function checkLayout(kv: Deno.Kv, prefix: Deno.KvKeyPart[], where: string): Promise<void> {
  const key = [...prefix, "meta"];
  const meta = await kv.get<{ version: number }>(key);
  if (meta.value === null) {
    // A concurrent opener may write it first; either write says the same.
    await kv.atomic().check(meta).set(key, { version: KV_STATE_VERSION }).commit();
    return;
  }
  if (meta.value.version > KV_STATE_VERSION) {
    throw new StateError(
      `KV state ${where} has layout version ${meta.value.version}, newer than this Tidemark understands (${KV_STATE_VERSION}); upgrade Tidemark`,
    );
  }
}

/** A page as stored (both under `page` and `pending`). */
interface StoredPage extends PageCommit {
  committedAt: string;
}

interface KvStateConfig {
  where: string;
  prefix: Deno.KvKeyPart[];
  now: () => Date;
  maxAttempts: number;
}

class KvState implements StateStore {
  #kv: Deno.Kv;
  #config: KvStateConfig;
  #closed = false;
  #writes: Promise<void> = Promise.resolve();

  constructor(kv: Deno.Kv, config: KvStateConfig) {
    this.#kv = kv;
    this.#config = config;
  }

  #key(...parts: Deno.KvKeyPart[]): Deno.KvKey {
    return [...this.#config.prefix, ...parts];
  }

  #stamp(): string {
    return this.#config.now().toISOString();
  }

  getWatermark(assetId: string, dataType = "default"): Promise<Watermark | undefined> {
    return this.#run(async (kv) => {
      const entry = await kv.get<Omit<Watermark, "assetId" | "dataType">>(
        this.#key("wm", assetId, dataType),
      );
      return entry.value === null ? undefined : { assetId, dataType, ...entry.value };
    });
  }

  setWatermark(update: WatermarkUpdate): Promise<void> {
    return this.#write(async (kv) => {
      const lastTimestamp = update.lastTimestamp === undefined || update.lastTimestamp === null
        ? null
        : normalizeTimestamp(update.lastTimestamp);
      const lastId = update.lastId ?? null;
      const key = this.#key("wm", update.assetId, update.dataType ?? "default");
      await this.#retry(`watermark of ${update.assetId}`, async () => {
        const entry = await kv.get<Omit<Watermark, "assetId" | "dataType">>(key);
        const value = {
          lastId: lastId ?? entry.value?.lastId ?? null,
          lastTimestamp: lastTimestamp ?? entry.value?.lastTimestamp ?? null,
          updatedAt: this.#stamp(),
        };
        return (await kv.atomic().check(entry).set(key, value).commit()).ok;
      });
    });
  }

  listWatermarks(): Promise<Watermark[]> {
    return this.#run(async (kv) => {
      const out: Watermark[] = [];
      const prefix = this.#key("wm");
      for await (
        const entry of kv.list<Omit<Watermark, "assetId" | "dataType">>({ prefix })
      ) {
        const [assetId, dataType] = entry.key.slice(prefix.length) as string[];
        out.push({ assetId, dataType, ...entry.value });
      }
      return out;
    });
  }

  startRun(run: RunStart): Promise<void> {
    return this.#write(async (kv) => {
      const row: RunRow = {
        runId: run.runId,
        startedAt: run.startedAt,
        configSha256: run.configSha256,
        command: run.command,
        assets: [...run.assets],
        status: "running",
        finishedAt: null,
        counts: {},
      };
      const key = this.#key("run", run.runId);
      const result = await kv.atomic()
        .check({ key, versionstamp: null })
        .set(key, row)
        .set(this.#key("run_by_start", run.startedAt, run.runId), row)
        .commit();
      if (!result.ok) {
        throw new StateError(`run ${run.runId} was already started; use a new run id`);
      }
    });
  }

  finishRun(runId: string, result: RunFinish): Promise<void> {
    return this.#write(async (kv) => {
      const key = this.#key("run", runId);
      await this.#retry(`run ${runId}`, async () => {
        const entry = await kv.get<RunRow>(key);
        if (entry.value === null) {
          throw new StateError(`run ${runId} was never started; call startRun first`);
        }
        const row: RunRow = {
          ...entry.value,
          status: result.status,
          finishedAt: result.finishedAt,
          counts: { ...result.counts },
        };
        return (await kv.atomic()
          .check(entry)
          .set(key, row)
          .set(this.#key("run_by_start", row.startedAt, runId), row)
          .commit()).ok;
      });
    });
  }

  listRuns(limit = 20): Promise<RunRow[]> {
    return this.#run(async (kv) => {
      const n = Math.max(0, Math.floor(limit));
      if (n === 0) return [];
      const out: RunRow[] = [];
      const iter = kv.list<RunRow>({ prefix: this.#key("run_by_start") }, {
        reverse: true,
        limit: n,
      });
      for await (const entry of iter) out.push(entry.value);
      return out;
    });
  }

  async commitPages(pages: readonly PageCommit[]): Promise<void> {
    for (const p of pages) checkPageCommit(p);
    // Page by page, each in its own atomic write: a batch is not all-or-none here, which resume
    // does not need (it continues after the last committed page, and adopts manifest lines).
    for (const p of pages) await this.commitPage(p);
  }

  commitPage(p: PageCommit): Promise<void> {
    return this.#write(async (kv) => {
      checkPageCommit(p);
      const where = `page ${p.page} of ${p.assetId}${
        p.partition ? ` [${p.partition}]` : ""
      } in run ${p.runId}`;
      const pageKey = this.#key("page", p.assetId, p.partition, p.runId, p.page);
      const pendingKey = this.#key("pending", p.assetId, p.partition, p.runId, p.page);
      const runKey = this.#key("run", p.runId);
      await this.#retry(where, async () => {
        const [run, existing] = await kv.getMany<[RunRow, StoredPage]>([runKey, pageKey]);
        if (run.value === null) {
          throw new StateError(
            `cannot commit a page of run ${p.runId}: the run was never started (call startRun first)`,
          );
        }
        if (existing.value !== null) {
          throw new StateError(`${where} is already committed; a page is committed once`);
        }
        const stored: StoredPage = {
          runId: p.runId,
          assetId: p.assetId,
          partition: p.partition,
          page: p.page,
          cursorIn: p.cursorIn,
          cursorOut: p.cursorOut,
          rows: p.rows,
          snapshot: p.snapshot,
          outputs: [...p.outputs],
          sha256: p.sha256,
          done: p.done,
          committedAt: this.#stamp(),
        };
        // Checking the run keeps a page from landing on a run that a reset or rewrite replaced.
        return (await kv.atomic()
          .check(run)
          .check(existing)
          .set(pageKey, stored)
          .set(pendingKey, stored)
          .commit()).ok;
      });
    });
  }

  resumePoint(assetId: string, partition: string): Promise<PageRow | undefined> {
    return this.#run(async (kv) => {
      const pages = await this.#pending(kv, this.#key("pending", assetId, partition), assetId);
      return pages.at(-1);
    });
  }

  pendingPages(assetId: string): Promise<PageRow[]> {
    return this.#run((kv) => this.#pending(kv, this.#key("pending", assetId), assetId));
  }

  /** Pending rows under `prefix` committed after the asset's completion marker, in commit order. */
  async #pending(kv: Deno.Kv, prefix: Deno.KvKey, assetId: string): Promise<PageRow[]> {
    const cutoff = (await kv.get(this.#key("done", assetId))).versionstamp ?? "";
    const rows: { versionstamp: string; value: StoredPage }[] = [];
    for await (const entry of kv.list<StoredPage>({ prefix })) {
      if (entry.versionstamp > cutoff) rows.push(entry);
    }
    rows.sort((a, b) => (a.versionstamp < b.versionstamp ? -1 : 1));
    return rows.map((r) => ({ ...r.value, completed: false }));
  }

  committedOutputs(assetId: string): Promise<Set<string>> {
    return this.#run(async (kv) => {
      const out = new Set<string>();
      for await (const entry of kv.list<StoredPage>({ prefix: this.#key("page", assetId) })) {
        for (const path of entry.value.outputs) out.add(path);
      }
      return out;
    });
  }

  completeAsset(assetId: string, runId: string): Promise<void> {
    return this.#write(async (kv) => {
      const marked = await kv.set(this.#key("done", assetId), { runId });
      // The marker alone makes the pages complete; removing the stale pending rows only keeps
      // later listings short.
      const stale: Deno.KvKey[] = [];
      for await (const entry of kv.list({ prefix: this.#key("pending", assetId) })) {
        if (entry.versionstamp < marked.versionstamp) stale.push(entry.key);
      }
      await this.#deleteKeys(kv, stale);
    });
  }

  recordSkip(s: SkipRecord): Promise<void> {
    return this.#write(async (kv) => {
      const row: SkipRow = {
        runId: s.runId,
        assetId: s.assetId,
        reason: s.reason,
        retryAt: s.retryAt === null ? null : normalizeTimestamp(s.retryAt),
        recordedAt: this.#stamp(),
      };
      await kv.set(this.#key("skip", s.assetId), row);
    });
  }

  listSkips(): Promise<SkipRow[]> {
    return this.#run(async (kv) => {
      const out: SkipRow[] = [];
      for await (const entry of kv.list<SkipRow>({ prefix: this.#key("skip") })) {
        out.push(entry.value);
      }
      return out.sort((a, b) =>
        a.recordedAt < b.recordedAt
          ? -1
          : a.recordedAt > b.recordedAt
          ? 1
          : a.assetId < b.assetId
          ? -1
          : a.assetId > b.assetId
          ? 1
          : 0
      );
    });
  }

  clearSkip(assetId: string): Promise<void> {
    return this.#write(async (kv) => {
      await kv.delete(this.#key("skip", assetId));
    });
  }

  resetAsset(assetId: string): Promise<void> {
    return this.#write(async (kv) => {
      // First mark every page complete, so that a reset cut short never revives old pages as
      // resume points; the marker itself goes last.
      await kv.set(this.#key("done", assetId), { runId: null });
      const keys: Deno.KvKey[] = [];
      for (const kind of ["pending", "page", "wm"]) {
        for await (const entry of kv.list({ prefix: this.#key(kind, assetId) })) {
          keys.push(entry.key);
        }
      }
      keys.push(this.#key("skip", assetId), this.#key("done", assetId));
      await this.#deleteKeys(kv, keys);
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#kv.close();
    }
    return Promise.resolve();
  }

  async #deleteKeys(kv: Deno.Kv, keys: Deno.KvKey[]): Promise<void> {
    for (let i = 0; i < keys.length; i += BATCH) {
      const op = kv.atomic();
      for (const key of keys.slice(i, i + BATCH)) op.delete(key);
      await op.commit();
    }
  }

  /** Repeats an optimistic read-check-write until its commit lands. */
  async #retry(what: string, attempt: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < this.#config.maxAttempts; i++) {
      if (await attempt()) return;
    }
    throw new StateError(
      `KV state ${this.#config.where}: ${what} kept changing under ${this.#config.maxAttempts} attempts to write it; another process is writing the same keys, retry later`,
    );
  }

  /**
   * Runs a write after the writes called before it, so that pages commit in call order (as
   * they do in SQLite, whose calls are synchronous) and writers of one store never race.
   */
  #write<T>(fn: (kv: Deno.Kv) => Promise<T>): Promise<T> {
    const result = this.#writes.then(() => this.#run(fn));
    this.#writes = result.then(() => {}, () => {});
    return result;
  }

  /**
   * Runs `fn` on the open KV, turning KV failures into {@link StateError}. A locked database
   * (another process or handle writing the same local file) wrote nothing, so `fn` runs again
   * after a short pause; every operation of this store is safe to repeat.
   */
  async #run<T>(fn: (kv: Deno.Kv) => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      if (this.#closed) throw new StateError(`state store ${this.#config.where} is closed`);
      try {
        return await fn(this.#kv);
      } catch (error) {
        if (error instanceof StateError) throw error;
        if (isLocked(error) && attempt < LOCKED_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, 5 * attempt));
          continue;
        }
        throw new StateError(`KV state ${this.#config.where}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  }
}
