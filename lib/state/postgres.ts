/**
 * The PostgreSQL state store (`npm:pg`): the same {@link StateStore} as the SQLite one, for a
 * state that outlives any one machine's disk (a scheduler on a fresh container each time, a team
 * sharing one database). Same tables as SQLite (docs/design.md §4), in their own schema
 * (`tidemark` unless `?schema=NAME` on the URL or the `schema` option says otherwise), so several
 * states can share one database.
 *
 * - The schema is created on open, idempotently, in one transaction holding a transaction-level
 *   advisory lock: `CREATE … IF NOT EXISTS` alone is not safe against a second worker creating the
 *   same objects at the same instant (it can fail on the catalog's unique index).
 * - Every multi-statement change (a batch of pages, an asset's reset) is one transaction on one
 *   pooled connection: all of it lands, or none.
 * - One store applies its writes one at a time in call order, and a read sees every write called
 *   before it, as SQLite's synchronous calls do: the resume point is the last page committed, so
 *   commit order must be call order. Reads between two writes run side by side on the pool.
 * - Uniqueness is the database's: two processes committing the same page or starting the same run
 *   race on a primary or unique key, and exactly one wins; the other gets the same
 *   {@link StateError} as with SQLite.
 * - Text columns that are sorted use `COLLATE "C"` (byte order), so listings sort as in SQLite
 *   whatever the database's locale.
 * - Ids and timestamps are stored as text: ids beyond 2^53 stay exact, and a timestamp comes back
 *   byte for byte as it was written.
 * @module
 */
import pg from "pg";
import { StateError, StateUnavailableError } from "../core/errors.ts";
import { redactText, redactUrl } from "../core/redact.ts";
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
import {
  PAGE_COLUMNS,
  type PageDbRow,
  type RunDbRow,
  type SkipDbRow,
  toPage,
  toRun,
  toSkip,
  toWatermark,
  type WatermarkDbRow,
} from "./sql_rows.ts";
import { normalizeTimestamp } from "./watermark.ts";

/** The schema version this code writes; older schemas are migrated on open. */
export const POSTGRES_STATE_SCHEMA_VERSION = 1;

/** The schema the tables go in when neither the URL nor the options name one. */
export const DEFAULT_POSTGRES_STATE_SCHEMA = "tidemark";

/** Options of {@link openPostgresState}. */
export interface PostgresStateOptions {
  /** Clock for `updated_at`, `committed_at`, `recorded_at`. @default () => new Date() */
  now?: () => Date;
  /** Schema of the tables; wins over `?schema=` on the URL. @default "tidemark" */
  schema?: string;
  /** Create the schema when it does not exist yet; `false` refuses (for read-only tools). @default true */
  create?: boolean;
  /** How long to wait for a connection, in ms. @default 10000 */
  connectTimeoutMs?: number;
  /** Connections in the pool: reads run side by side, writes one at a time. @default 4 */
  poolSize?: number;
}

/** Ordered migrations: entry `i` brings a schema from version `i` to `i + 1`; `$S` is the schema. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS $S.ingestion_state (
     asset_id TEXT COLLATE "C" NOT NULL,
     data_type TEXT COLLATE "C" NOT NULL,
     last_id TEXT,
     last_timestamp TEXT,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (asset_id, data_type));
   CREATE TABLE IF NOT EXISTS $S.runs (
     run_id TEXT COLLATE "C" PRIMARY KEY,
     started_at TEXT COLLATE "C" NOT NULL,
     finished_at TEXT,
     status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'partial')),
     config_sha256 TEXT NOT NULL,
     command TEXT NOT NULL,
     assets TEXT NOT NULL,
     counts TEXT NOT NULL DEFAULT '{}');
   CREATE TABLE IF NOT EXISTS $S.pages (
     seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     run_id TEXT COLLATE "C" NOT NULL,
     asset_id TEXT COLLATE "C" NOT NULL,
     "partition" TEXT COLLATE "C" NOT NULL,
     page INTEGER NOT NULL,
     cursor_in TEXT,
     cursor_out TEXT,
     rows INTEGER NOT NULL,
     snapshot TEXT NOT NULL,
     outputs TEXT NOT NULL,
     sha256 TEXT NOT NULL,
     done BOOLEAN NOT NULL,
     committed_at TEXT NOT NULL,
     completed BOOLEAN NOT NULL DEFAULT FALSE,
     completed_by TEXT,
     UNIQUE (run_id, asset_id, "partition", page));
   CREATE INDEX IF NOT EXISTS pages_resume ON $S.pages (asset_id, "partition", completed, seq);
   CREATE TABLE IF NOT EXISTS $S.skips (
     asset_id TEXT COLLATE "C" PRIMARY KEY,
     run_id TEXT NOT NULL,
     reason TEXT NOT NULL,
     retry_at TEXT,
     recorded_at TEXT COLLATE "C" NOT NULL);`,
];

/** First key of the advisory lock that serializes schema creation (the second is the schema's hash). */
const SCHEMA_LOCK_CLASS = 0x7469646d; // "tidm"

/** SQLSTATE of a unique or primary key violation. */
const UNIQUE_VIOLATION = "23505";

/**
 * Opens (creating or migrating) the state in a PostgreSQL database. The password comes from the
 * URL or `PGPASSWORD`; every error names the URL with its credentials masked.
 *
 * @example
 * ```ts
 * import { openPostgresState } from "./postgres.ts";
 * const state = await openPostgresState("postgres://etl@db.example.org:5432/ops?schema=tidemark");
 * await state.setWatermark({ assetId: "Orders", lastTimestamp: "1997-01-01 00:00:00.000" });
 * await state.close();
 * ```
 */
export async function openPostgresState(
  url: string,
  options: PostgresStateOptions = {},
): Promise<PostgresStateStore> {
  let connectionString: string;
  let schema: string;
  let secrets: string[];
  try {
    ({ connectionString, schema, secrets } = parseStateUrl(url, options.schema));
  } catch (error) {
    throw new StateUnavailableError(
      `cannot use PostgreSQL state ${redactUrl(url)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  // Messages name the schema on its own ("(schema x)"), so the URL is shown without it.
  const description = redactUrl(connectionString);
  const pool = new pg.Pool({
    connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    max: options.poolSize ?? 4,
    application_name: "tidemark-state",
  });
  // An idle connection the server drops is reported by the next query that needs one; without a
  // listener the pool's 'error' event would end the process.
  pool.on("error", () => {});
  const store = new PostgresStateStore(pool, {
    description,
    schema,
    secrets,
    now: options.now ?? (() => new Date()),
  });
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new StateUnavailableError(
      `cannot connect to PostgreSQL state ${description}: ${explain(error, secrets)}; check ` +
        "the host, port, database and user, that the server runs, and PGPASSWORD",
      { cause: error },
    );
  }
  try {
    await prepareSchema(client, schema, description, options.create ?? true);
  } catch (error) {
    client.release();
    await pool.end().catch(() => {});
    if (error instanceof StateError) throw error;
    throw new StateUnavailableError(
      `cannot use PostgreSQL state ${description} (schema ${schema}): ${
        explain(error, secrets)
      }; check the user may create the schema, or create it once with a user who may`,
      { cause: error },
    );
  }
  client.release();
  return store;
}

/** The connection string for `pg` (without Tidemark's own `schema` parameter), the schema, the secrets to mask. */
function parseStateUrl(
  url: string,
  schemaOption: string | undefined,
): { connectionString: string; schema: string; secrets: string[] } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error("not a URL; expected postgres://user@host:port/database");
  }
  const schema = schemaOption ?? parsed.searchParams.get("schema") ??
    DEFAULT_POSTGRES_STATE_SCHEMA;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(
      `schema "${schema}" is not a plain identifier (letters, digits, '_', at most 63)`,
    );
  }
  const secrets: string[] = [];
  try {
    const env = Deno.env.get("PGPASSWORD");
    if (env) secrets.push(env);
  } catch {
    // no env permission: `pg` cannot read it either
  }
  if (parsed.password) secrets.push(decodeURIComponent(parsed.password));
  const password = parsed.searchParams.get("password");
  if (password) secrets.push(password);
  // `pg` would pass an unknown parameter on to the server as a setting, which refuses it. The
  // others are kept byte for byte (URLSearchParams would re-encode a space as '+', which `pg`
  // does not read back as a space).
  const kept = parsed.search.slice(1).split("&").filter((pair) => {
    const name = pair.split("=")[0];
    return pair !== "" && safeDecode(name) !== "schema";
  });
  parsed.search = kept.length > 0 ? `?${kept.join("&")}` : "";
  return { connectionString: parsed.href, schema, secrets };
}

/** Creates or migrates the schema, serialized against other workers by an advisory lock. */
async function prepareSchema(
  client: pg.PoolClient,
  schema: string,
  description: string,
  create: boolean,
): Promise<void> {
  const q = quoteIdent(schema);
  const current = await schemaVersion(client, schema);
  if (current === POSTGRES_STATE_SCHEMA_VERSION) return;
  checkNotNewer(current, schema, description);
  if (current === undefined && !create) {
    throw new StateUnavailableError(
      `no PostgreSQL state in ${description} (schema ${schema}): nothing has run with this ` +
        "state yet (check the URL and its ?schema=)",
    );
  }
  await client.query("BEGIN");
  try {
    // Held to the end of the transaction: a second worker waits here, then finds the schema
    // made and at the current version.
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [
      SCHEMA_LOCK_CLASS,
      schema,
    ]);
    const locked = await schemaVersion(client, schema);
    checkNotNewer(locked, schema, description);
    if (locked !== POSTGRES_STATE_SCHEMA_VERSION) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${q}.schema_version (version INTEGER NOT NULL)`,
      );
      for (let v = locked ?? 0; v < POSTGRES_STATE_SCHEMA_VERSION; v++) {
        await client.query(MIGRATIONS[v].replaceAll("$S", q));
      }
      await client.query(`DELETE FROM ${q}.schema_version`);
      await client.query(`INSERT INTO ${q}.schema_version (version) VALUES ($1)`, [
        POSTGRES_STATE_SCHEMA_VERSION,
      ]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** The schema's recorded version; undefined when there is no state there yet. */
async function schemaVersion(client: pg.PoolClient, schema: string): Promise<number | undefined> {
  const exists = await client.query<{ t: string | null }>(
    "SELECT to_regclass($1) AS t",
    [`${quoteIdent(schema)}.schema_version`],
  );
  if (exists.rows[0]?.t === null) return undefined;
  const row = await client.query<{ version: number }>(
    `SELECT version FROM ${quoteIdent(schema)}.schema_version`,
  );
  return row.rows[0]?.version ?? 0;
}

function checkNotNewer(version: number | undefined, schema: string, description: string): void {
  if (version !== undefined && version > POSTGRES_STATE_SCHEMA_VERSION) {
    throw new StateUnavailableError(
      `PostgreSQL state ${description} (schema ${schema}) has schema version ${version}, newer ` +
        `than this Tidemark understands (${POSTGRES_STATE_SCHEMA_VERSION}); upgrade Tidemark`,
    );
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A driver error as one line, credentials masked (a refused connection says so plainly). */
function explain(error: unknown, secrets: string[]): string {
  const e = error as { message?: string; code?: string; errors?: { message: string }[] };
  let message = e?.message || e?.errors?.map((x) => x.message).join("; ") || String(error);
  if (e?.code === "ECONNREFUSED") message = "connection refused";
  // What `pg` says when the server asks for a password and it has none.
  if (/client password must be a string/.test(message)) {
    message = "the server asks for a password and none was given (set PGPASSWORD)";
  }
  return redactText(message.replace(/\s+/g, " ").trim(), secrets);
}

/** What {@link PostgresStateStore} needs besides its pool. */
interface StoreSettings {
  description: string;
  schema: string;
  secrets: string[];
  now: () => Date;
}

/** Anything that runs a query: the pool, or one connection inside a transaction. */
interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

/**
 * A {@link StateStore} in a PostgreSQL schema, over a connection pool. Open it with
 * {@link openPostgresState}, which creates the schema first.
 */
export class PostgresStateStore implements StateStore {
  readonly #pool: pg.Pool;
  readonly #settings: StoreSettings;
  /** The quoted schema, prefixed to every table. */
  readonly #s: string;
  #closed = false;
  /** The last write queued, settled: its outcome is its caller's, not the queue's. */
  #lastWrite: Promise<void> = Promise.resolve();
  /** Settles when every read queued since the last write has. */
  #readsSinceWrite: Promise<void> = Promise.resolve();

  /** Wraps a pool whose schema is ready; use {@link openPostgresState}. */
  constructor(pool: pg.Pool, settings: StoreSettings) {
    this.#pool = pool;
    this.#settings = settings;
    this.#s = quoteIdent(settings.schema);
  }

  /** The URL with credentials masked, and the schema: what messages name. */
  get description(): string {
    return `${this.#settings.description} (schema ${this.#settings.schema})`;
  }

  #stamp(): string {
    return this.#settings.now().toISOString();
  }

  getWatermark(assetId: string, dataType = "default"): Promise<Watermark | undefined> {
    return this.#read(async (db) => {
      const { rows } = await db.query<WatermarkDbRow>(
        `SELECT asset_id, data_type, last_id, last_timestamp, updated_at
           FROM ${this.#s}.ingestion_state WHERE asset_id = $1 AND data_type = $2`,
        [assetId, dataType],
      );
      return rows[0] ? toWatermark(rows[0]) : undefined;
    });
  }

  setWatermark(update: WatermarkUpdate): Promise<void> {
    return this.#write(async (db) => {
      const lastTimestamp = update.lastTimestamp === undefined || update.lastTimestamp === null
        ? null
        : normalizeTimestamp(update.lastTimestamp);
      // One statement: the merge happens under the row's lock, so a concurrent writer's field is
      // never overwritten with null.
      await db.query(
        `INSERT INTO ${this.#s}.ingestion_state AS w
                (asset_id, data_type, last_id, last_timestamp, updated_at)
         VALUES ($1, $2, $3::text, $4::text, $5)
         ON CONFLICT (asset_id, data_type) DO UPDATE SET
           last_id = COALESCE(EXCLUDED.last_id, w.last_id),
           last_timestamp = COALESCE(EXCLUDED.last_timestamp, w.last_timestamp),
           updated_at = EXCLUDED.updated_at`,
        [
          update.assetId,
          update.dataType ?? "default",
          update.lastId ?? null,
          lastTimestamp,
          this.#stamp(),
        ],
      );
    });
  }

  listWatermarks(): Promise<Watermark[]> {
    return this.#read(async (db) =>
      (await db.query<WatermarkDbRow>(
        `SELECT asset_id, data_type, last_id, last_timestamp, updated_at
           FROM ${this.#s}.ingestion_state ORDER BY asset_id, data_type`,
      )).rows.map(toWatermark)
    );
  }

  startRun(run: RunStart): Promise<void> {
    return this.#write(async (db) => {
      try {
        await db.query(
          `INSERT INTO ${this.#s}.runs (run_id, started_at, status, config_sha256, command, assets)
           VALUES ($1, $2, 'running', $3, $4, $5)`,
          [run.runId, run.startedAt, run.configSha256, run.command, JSON.stringify(run.assets)],
        );
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new StateError(`run ${run.runId} was already started; use a new run id`);
        }
        throw error;
      }
    });
  }

  finishRun(runId: string, result: RunFinish): Promise<void> {
    return this.#write(async (db) => {
      const changed = await db.query(
        `UPDATE ${this.#s}.runs SET status = $1, finished_at = $2, counts = $3 WHERE run_id = $4`,
        [result.status, result.finishedAt, JSON.stringify(result.counts), runId],
      );
      if (changed.rowCount === 0) {
        throw new StateError(`run ${runId} was never started; call startRun first`);
      }
    });
  }

  listRuns(limit = 20): Promise<RunRow[]> {
    return this.#read(async (db) =>
      (await db.query<RunDbRow>(
        `SELECT run_id, started_at, finished_at, status, config_sha256, command, assets, counts
           FROM ${this.#s}.runs ORDER BY started_at DESC, run_id DESC LIMIT $1`,
        [Math.max(0, Math.floor(limit))],
      )).rows.map(toRun)
    );
  }

  commitPage(p: PageCommit): Promise<void> {
    return this.commitPages([p]);
  }

  commitPages(pages: readonly PageCommit[]): Promise<void> {
    return this.#write(async () => {
      for (const p of pages) checkPageCommit(p);
      if (pages.length === 0) return;
      // One transaction for the batch: every page lands, or none.
      await this.#transaction(async (db) => {
        for (const p of pages) await this.#insertPage(db, p);
      });
    });
  }

  async #insertPage(db: Queryable, p: PageCommit): Promise<void> {
    // FOR KEY SHARE: the run row cannot vanish under the commit, and concurrent commits of one
    // run do not wait on each other.
    const run = await db.query(
      `SELECT 1 FROM ${this.#s}.runs WHERE run_id = $1 FOR KEY SHARE`,
      [p.runId],
    );
    if (run.rowCount === 0) {
      throw new StateError(
        `cannot commit a page of run ${p.runId}: the run was never started (call startRun first)`,
      );
    }
    try {
      await db.query(
        `INSERT INTO ${this.#s}.pages (run_id, asset_id, "partition", page, cursor_in, cursor_out,
                                       rows, snapshot, outputs, sha256, done, committed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
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
          p.done,
          this.#stamp(),
        ],
      );
    } catch (error) {
      if (isUniqueViolation(error)) {
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
    return this.#read(async (db) => {
      const { rows } = await db.query<PageDbRow>(
        `SELECT ${PAGE_COLUMNS} FROM ${this.#s}.pages
          WHERE asset_id = $1 AND "partition" = $2 AND NOT completed
          ORDER BY seq DESC LIMIT 1`,
        [assetId, partition],
      );
      return rows[0] ? toPage(rows[0]) : undefined;
    });
  }

  pendingPages(assetId: string): Promise<PageRow[]> {
    return this.#read(async (db) =>
      (await db.query<PageDbRow>(
        `SELECT ${PAGE_COLUMNS} FROM ${this.#s}.pages
          WHERE asset_id = $1 AND NOT completed ORDER BY seq`,
        [assetId],
      )).rows.map(toPage)
    );
  }

  committedOutputs(assetId: string): Promise<Set<string>> {
    return this.#read(async (db) => {
      const out = new Set<string>();
      const { rows } = await db.query<{ outputs: string }>(
        `SELECT outputs FROM ${this.#s}.pages WHERE asset_id = $1`,
        [assetId],
      );
      for (const row of rows) for (const path of JSON.parse(row.outputs)) out.add(path);
      return out;
    });
  }

  completeAsset(assetId: string, runId: string): Promise<void> {
    return this.#write(async (db) => {
      await db.query(
        `UPDATE ${this.#s}.pages SET completed = TRUE, completed_by = $1
          WHERE asset_id = $2 AND NOT completed`,
        [runId, assetId],
      );
    });
  }

  recordSkip(s: SkipRecord): Promise<void> {
    return this.#write(async (db) => {
      const retryAt = s.retryAt === null ? null : normalizeTimestamp(s.retryAt);
      await db.query(
        `INSERT INTO ${this.#s}.skips (asset_id, run_id, reason, retry_at, recorded_at)
         VALUES ($1, $2, $3, $4::text, $5)
         ON CONFLICT (asset_id) DO UPDATE SET run_id = EXCLUDED.run_id, reason = EXCLUDED.reason,
           retry_at = EXCLUDED.retry_at, recorded_at = EXCLUDED.recorded_at`,
        [s.assetId, s.runId, s.reason, retryAt, this.#stamp()],
      );
    });
  }

  listSkips(): Promise<SkipRow[]> {
    return this.#read(async (db) =>
      (await db.query<SkipDbRow>(
        `SELECT asset_id, run_id, reason, retry_at, recorded_at FROM ${this.#s}.skips
          ORDER BY recorded_at, asset_id`,
      )).rows.map(toSkip)
    );
  }

  clearSkip(assetId: string): Promise<void> {
    return this.#write(async (db) => {
      await db.query(`DELETE FROM ${this.#s}.skips WHERE asset_id = $1`, [assetId]);
    });
  }

  resetAsset(assetId: string): Promise<void> {
    return this.#write(() =>
      this.#transaction(async (db) => {
        for (const table of ["ingestion_state", "pages", "skips"]) {
          await db.query(`DELETE FROM ${this.#s}.${table} WHERE asset_id = $1`, [assetId]);
        }
      })
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Calls made before close still run: they were queued while the store was open.
    await Promise.all([this.#lastWrite, this.#readsSinceWrite]);
    await this.#pool.end().catch(() => {});
  }

  /**
   * Queues a read: it runs after every write called before it (so it sees them, as a SQLite
   * store's synchronous calls do), alongside other reads.
   */
  #read<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const result = this.#lastWrite.then(() => this.#run(fn));
    this.#readsSinceWrite = Promise.all([this.#readsSinceWrite, settled(result)]).then(() => {});
    return result;
  }

  /**
   * Queues a write: it runs after every call made before it, one write at a time. Commit order
   * is what a resume point follows (the last page committed), so pages committed concurrently
   * land in the order they were called, as with SQLite, never in the order connections of the
   * pool happen to finish.
   */
  #write<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const before = Promise.all([this.#lastWrite, this.#readsSinceWrite]);
    const result = before.then(() => this.#run(fn));
    this.#lastWrite = settled(result);
    this.#readsSinceWrite = Promise.resolve();
    return result;
  }

  #closedError(): StateError {
    return new StateError(`state store ${this.description} is closed`);
  }

  /** Runs `fn` in one transaction on one connection of the pool, rolled back if it throws. */
  #transaction<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, fn);
  }

  /** Runs a body against the pool, turning driver failures into {@link StateError}. */
  async #run<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#pool);
    } catch (error) {
      if (error instanceof StateError) throw error;
      throw new StateError(
        `PostgreSQL state ${this.description}: ${explain(error, this.#settings.secrets)}`,
        { cause: error },
      );
    }
  }
}

/** A promise that fulfils when `p` settles, whichever way. */
function settled(p: Promise<unknown>): Promise<void> {
  return p.then(() => {}, () => {});
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === UNIQUE_VIOLATION;
}

/**
 * Runs `fn` in one transaction on one connection of `pool`, committed when it returns and rolled
 * back if it throws; a connection whose ROLLBACK fails is in an unknown state and leaves the
 * pool. Shared by the state store and the queue.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => (broken = true));
    throw error;
  } finally {
    client.release(broken);
  }
}
