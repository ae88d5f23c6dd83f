/**
 * The SQLite state store (`node:sqlite`): one file, WAL mode, one transaction per committed
 * page, a schema version table so later versions can migrate old files in place.
 *
 * Tables (docs/design.md §4): `ingestion_state` (upserts never overwrite with NULL),
 * `runs`, `pages` (the committed cursor and outputs of each page, for resume and verify) and
 * `skips` (assets skipped for rate limits, retried first next run).
 * @module
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
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

/** The schema version this code writes; older files are migrated on open. */
export const STATE_SCHEMA_VERSION = 1;

/** Ordered migrations: entry `i` brings a file from version `i` to `i + 1`. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS ingestion_state (
     asset_id TEXT NOT NULL,
     data_type TEXT NOT NULL,
     last_id TEXT,
     last_timestamp TEXT,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (asset_id, data_type));
   CREATE TABLE IF NOT EXISTS runs (
     run_id TEXT PRIMARY KEY,
     started_at TEXT NOT NULL,
     finished_at TEXT,
     status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'partial')),
     config_sha256 TEXT NOT NULL,
     command TEXT NOT NULL,
     assets TEXT NOT NULL,
     counts TEXT NOT NULL DEFAULT '{}');
   CREATE TABLE IF NOT EXISTS pages (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     run_id TEXT NOT NULL,
     asset_id TEXT NOT NULL,
     "partition" TEXT NOT NULL,
     page INTEGER NOT NULL,
     cursor_in TEXT,
     cursor_out TEXT,
     rows INTEGER NOT NULL,
     snapshot TEXT NOT NULL,
     outputs TEXT NOT NULL,
     sha256 TEXT NOT NULL,
     done INTEGER NOT NULL,
     committed_at TEXT NOT NULL,
     completed INTEGER NOT NULL DEFAULT 0,
     completed_by TEXT,
     UNIQUE (run_id, asset_id, "partition", page));
   CREATE INDEX IF NOT EXISTS pages_resume ON pages (asset_id, "partition", completed, seq);
   CREATE TABLE IF NOT EXISTS skips (
     asset_id TEXT PRIMARY KEY,
     run_id TEXT NOT NULL,
     reason TEXT NOT NULL,
     retry_at TEXT,
     recorded_at TEXT NOT NULL);`,
];

/** Options of {@link openSqliteState}. */
export interface SqliteStateOptions {
  /** Clock for `updated_at`, `committed_at`, `recorded_at`. @default () => new Date() */
  now?: () => Date;
  /**
   * `full` syncs every commit to disk (a committed page survives power loss); `normal` only
   * survives a process crash (faster). @default "full"
   */
  synchronous?: "full" | "normal";
  /** How long to wait for another process holding the write lock, in ms. @default 5000 */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating or migrating) a SQLite state file. `":memory:"` gives a private in-memory store.
 * @example
 * ```ts
 * const state = openSqliteState("out/state.sqlite");
 * await state.setWatermark({ assetId: "Orders", lastTimestamp: "1997-01-01 00:00:00.000" });
 * (await state.getWatermark("Orders"))?.lastTimestamp; // "1997-01-01T00:00:00.000Z"
 * await state.close();
 * ```
 */
export function openSqliteState(path: string, options: SqliteStateOptions = {}): StateStore {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new StateError(
      `cannot open state file ${path}: ${
        (error as Error).message
      }; check the folder exists and is writable`,
      { cause: error },
    );
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
    migrate(db, path);
  } catch (error) {
    db.close();
    if (error instanceof StateError) throw error;
    throw new StateError(
      `cannot use state file ${path}: ${
        (error as Error).message
      }; it may be corrupt or not a Tidemark state file (move it aside to start fresh)`,
      { cause: error },
    );
  }
  return new SqliteState(db, path, options.now ?? (() => new Date()));
}

function migrate(db: DatabaseSync, path: string): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = db.prepare("SELECT version FROM schema_version").get() as
    | { version: number }
    | undefined;
  const current = row?.version ?? 0;
  if (current > STATE_SCHEMA_VERSION) {
    throw new StateError(
      `state file ${path} has schema version ${current}, newer than this Tidemark understands (${STATE_SCHEMA_VERSION}); upgrade Tidemark`,
    );
  }
  if (current === STATE_SCHEMA_VERSION) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    for (let v = current; v < STATE_SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
    db.exec("DELETE FROM schema_version");
    db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(STATE_SCHEMA_VERSION);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

interface PageDbRow {
  run_id: string;
  asset_id: string;
  partition: string;
  page: number;
  cursor_in: string | null;
  cursor_out: string | null;
  rows: number;
  snapshot: string;
  outputs: string;
  sha256: string;
  done: number;
  committed_at: string;
  completed: number;
}

const PAGE_COLUMNS =
  `run_id, asset_id, "partition" AS partition, page, cursor_in, cursor_out, rows, snapshot,
   outputs, sha256, done, committed_at, completed`;

class SqliteState implements StateStore {
  #db: DatabaseSync;
  #path: string;
  #now: () => Date;
  #closed = false;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync, path: string, now: () => Date) {
    this.#db = db;
    this.#path = path;
    this.#now = now;
  }

  #open(): DatabaseSync {
    if (this.#closed) throw new StateError(`state store ${this.#path} is closed`);
    return this.#db;
  }

  /** A prepared statement, compiled once per store (commits run one per page). */
  #prepare(sql: string): StatementSync {
    const db = this.#open();
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #stamp(): string {
    return this.#now().toISOString();
  }

  /** Runs `fn` in one IMMEDIATE transaction (the write lock is taken up front, so no deadlock upgrade). */
  #transaction<T>(fn: () => T): T {
    const db = this.#open();
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  }

  getWatermark(assetId: string, dataType = "default"): Promise<Watermark | undefined> {
    return this.#run(() => {
      const row = this.#prepare(
        `SELECT asset_id, data_type, last_id, last_timestamp, updated_at
           FROM ingestion_state WHERE asset_id = ? AND data_type = ?`,
      ).get(assetId, dataType) as WatermarkDbRow | undefined;
      return row ? toWatermark(row) : undefined;
    });
  }

  setWatermark(update: WatermarkUpdate): Promise<void> {
    return this.#run(() => {
      const lastTimestamp = update.lastTimestamp === undefined || update.lastTimestamp === null
        ? null
        : normalizeTimestamp(update.lastTimestamp);
      const lastId = update.lastId ?? null;
      this.#prepare(
        `INSERT INTO ingestion_state (asset_id, data_type, last_id, last_timestamp, updated_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (asset_id, data_type) DO UPDATE SET
           last_id = COALESCE(excluded.last_id, ingestion_state.last_id),
           last_timestamp = COALESCE(excluded.last_timestamp, ingestion_state.last_timestamp),
           updated_at = excluded.updated_at`,
      ).run(update.assetId, update.dataType ?? "default", lastId, lastTimestamp, this.#stamp());
    });
  }

  listWatermarks(): Promise<Watermark[]> {
    return this.#run(() =>
      (this.#prepare(
        `SELECT asset_id, data_type, last_id, last_timestamp, updated_at
           FROM ingestion_state ORDER BY asset_id, data_type`,
      ).all() as unknown as WatermarkDbRow[]).map(toWatermark)
    );
  }

  startRun(run: RunStart): Promise<void> {
    return this.#run(() => {
      try {
        this.#prepare(
          `INSERT INTO runs (run_id, started_at, status, config_sha256, command, assets)
           VALUES (?, ?, 'running', ?, ?, ?)`,
        ).run(run.runId, run.startedAt, run.configSha256, run.command, JSON.stringify(run.assets));
      } catch (error) {
        if (isConstraint(error)) {
          throw new StateError(`run ${run.runId} was already started; use a new run id`);
        }
        throw error;
      }
    });
  }

  finishRun(runId: string, result: RunFinish): Promise<void> {
    return this.#run(() => {
      const changed = this.#prepare(
        `UPDATE runs SET status = ?, finished_at = ?, counts = ? WHERE run_id = ?`,
      ).run(result.status, result.finishedAt, JSON.stringify(result.counts), runId);
      if (Number(changed.changes) === 0) {
        throw new StateError(`run ${runId} was never started; call startRun first`);
      }
    });
  }

  listRuns(limit = 20): Promise<RunRow[]> {
    return this.#run(() =>
      (this.#prepare(
        `SELECT run_id, started_at, finished_at, status, config_sha256, command, assets, counts
           FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?`,
      ).all(Math.max(0, Math.floor(limit))) as unknown as RunDbRow[]).map((r) => ({
        runId: r.run_id,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        status: r.status as RunRow["status"],
        configSha256: r.config_sha256,
        command: r.command,
        assets: JSON.parse(r.assets),
        counts: JSON.parse(r.counts),
      }))
    );
  }

  commitPage(p: PageCommit): Promise<void> {
    return this.commitPages([p]);
  }

  commitPages(pages: readonly PageCommit[]): Promise<void> {
    return this.#run(() => {
      for (const p of pages) checkPageCommit(p);
      if (pages.length === 0) return;
      // One transaction (one WAL sync) for the batch: every page lands, or none.
      this.#transaction(() => {
        for (const p of pages) this.#insertPage(p);
      });
    });
  }

  #insertPage(p: PageCommit): void {
    const run = this.#prepare("SELECT status FROM runs WHERE run_id = ?").get(p.runId) as
      | { status: string }
      | undefined;
    if (!run) {
      throw new StateError(
        `cannot commit a page of run ${p.runId}: the run was never started (call startRun first)`,
      );
    }
    try {
      this.#prepare(
        `INSERT INTO pages (run_id, asset_id, "partition", page, cursor_in, cursor_out, rows,
                            snapshot, outputs, sha256, done, committed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        p.runId,
        p.assetId,
        p.partition,
        p.page,
        p.cursorIn,
        p.cursorOut,
        p.rows,
        p.snapshot,
        JSON.stringify(p.outputs),
        p.sha256,
        p.done ? 1 : 0,
        this.#stamp(),
      );
    } catch (error) {
      if (isConstraint(error)) {
        throw new StateError(
          `page ${p.page} of ${p.assetId}${
            p.partition ? ` [${p.partition}]` : ""
          } in run ${p.runId} is already committed; a page is committed once`,
        );
      }
      throw error;
    }
  }

  resumePoint(assetId: string, partition: string): Promise<PageRow | undefined> {
    return this.#run(() => {
      const row = this.#prepare(
        `SELECT ${PAGE_COLUMNS} FROM pages
          WHERE asset_id = ? AND "partition" = ? AND completed = 0
          ORDER BY seq DESC LIMIT 1`,
      ).get(assetId, partition) as PageDbRow | undefined;
      return row ? toPage(row) : undefined;
    });
  }

  pendingPages(assetId: string): Promise<PageRow[]> {
    return this.#run(() =>
      (this.#prepare(
        `SELECT ${PAGE_COLUMNS} FROM pages WHERE asset_id = ? AND completed = 0 ORDER BY seq`,
      ).all(assetId) as unknown as PageDbRow[]).map(toPage)
    );
  }

  committedOutputs(assetId: string): Promise<Set<string>> {
    return this.#run(() => {
      const out = new Set<string>();
      const rows = this.#prepare(
        "SELECT outputs FROM pages WHERE asset_id = ?",
      ).iterate(assetId) as Iterable<{ outputs: string }>;
      for (const row of rows) for (const path of JSON.parse(row.outputs)) out.add(path);
      return out;
    });
  }

  completeAsset(assetId: string, runId: string): Promise<void> {
    return this.#run(() => {
      this.#transaction(() => {
        this.#prepare(
          `UPDATE pages SET completed = 1, completed_by = ? WHERE asset_id = ? AND completed = 0`,
        ).run(runId, assetId);
      });
    });
  }

  recordSkip(s: SkipRecord): Promise<void> {
    return this.#run(() => {
      const retryAt = s.retryAt === null ? null : normalizeTimestamp(s.retryAt);
      this.#prepare(
        `INSERT INTO skips (asset_id, run_id, reason, retry_at, recorded_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (asset_id) DO UPDATE SET run_id = excluded.run_id, reason = excluded.reason,
           retry_at = excluded.retry_at, recorded_at = excluded.recorded_at`,
      ).run(s.assetId, s.runId, s.reason, retryAt, this.#stamp());
    });
  }

  listSkips(): Promise<SkipRow[]> {
    return this.#run(() =>
      (this.#prepare(
        `SELECT asset_id, run_id, reason, retry_at, recorded_at FROM skips
          ORDER BY recorded_at, asset_id`,
      ).all() as unknown as SkipDbRow[]).map((r) => ({
        assetId: r.asset_id,
        runId: r.run_id,
        reason: r.reason,
        retryAt: r.retry_at,
        recordedAt: r.recorded_at,
      }))
    );
  }

  clearSkip(assetId: string): Promise<void> {
    return this.#run(() => {
      this.#prepare("DELETE FROM skips WHERE asset_id = ?").run(assetId);
    });
  }

  resetAsset(assetId: string): Promise<void> {
    return this.#run(() => {
      this.#transaction(() => {
        for (const table of ["ingestion_state", "pages", "skips"]) {
          this.#prepare(`DELETE FROM ${table} WHERE asset_id = ?`).run(assetId as SQLInputValue);
        }
      });
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#statements.clear();
      this.#db.close();
    }
    return Promise.resolve();
  }

  /** Runs a synchronous body as a promise, turning SQLite failures into {@link StateError}. */
  #run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      if (error instanceof StateError) return Promise.reject(error);
      return Promise.reject(
        new StateError(`state file ${this.#path}: ${(error as Error).message}`, { cause: error }),
      );
    }
  }
}

interface WatermarkDbRow {
  asset_id: string;
  data_type: string;
  last_id: string | null;
  last_timestamp: string | null;
  updated_at: string;
}

interface RunDbRow {
  run_id: string;
  started_at: string;
  finished_at: string | null;
  status: string;
  config_sha256: string;
  command: string;
  assets: string;
  counts: string;
}

interface SkipDbRow {
  asset_id: string;
  run_id: string;
  reason: string;
  retry_at: string | null;
  recorded_at: string;
}

function toWatermark(r: WatermarkDbRow): Watermark {
  return {
    assetId: r.asset_id,
    dataType: r.data_type,
    lastId: r.last_id,
    lastTimestamp: r.last_timestamp,
    updatedAt: r.updated_at,
  };
}

function toPage(r: PageDbRow): PageRow {
  return {
    runId: r.run_id,
    assetId: r.asset_id,
    partition: r.partition,
    page: r.page,
    cursorIn: r.cursor_in,
    cursorOut: r.cursor_out,
    rows: r.rows,
    snapshot: r.snapshot,
    outputs: JSON.parse(r.outputs),
    sha256: r.sha256,
    done: r.done === 1,
    committedAt: r.committed_at,
    completed: r.completed === 1,
  };
}

function isConstraint(error: unknown): boolean {
  return /constraint/i.test(String((error as Error)?.message)) ||
    (error as { code?: string })?.code === "ERR_SQLITE_ERROR" &&
      /UNIQUE|PRIMARY/i.test(String((error as Error)?.message));
}
