/**
 * The queue's PostgreSQL side: pg-boss (its own schema) hands out units with SKIP LOCKED,
 * retries and leases; Tidemark's own tables (`tidemark_queue.runs`, `.units`) say what a run
 * is and how each of its units ended, for `tidemark status` and for a harvest that follows its
 * run; `.rate_limits` holds the rate budgets every worker shares (lib/queue/shared_limiter.ts).
 * A unit is one asset of one run, or one key range of it (lib/queue/split.ts): its pg-boss job
 * carries only the run id and the unit's name (the `asset` column); the run's spec says what the
 * unit is.
 * @module
 */
import pg from "pg";
import { PgBoss } from "pg-boss";
import { TidemarkError } from "../core/errors.ts";
import { redactUrl } from "../core/redact.ts";
import { inTransaction } from "../state/postgres.ts";
import type { UnitSpec } from "./split.ts";

/** The pg-boss queue the units go through. */
export const UNIT_QUEUE = "tidemark-units";
/** The schema of pg-boss's tables. */
export const BOSS_SCHEMA = "tidemark_boss";
/** The schema of Tidemark's run and unit tables. */
export const QUEUE_SCHEMA = "tidemark_queue";
/** The table of the rate budgets workers share (lib/queue/shared_limiter.ts). */
export const RATE_LIMIT_TABLE = `${QUEUE_SCHEMA}.rate_limits`;
/** Its DDL: one token bucket per limiter key, times in epoch ms as the HTTP layer's clock. */
const RATE_LIMIT_DDL = `CREATE TABLE IF NOT EXISTS ${RATE_LIMIT_TABLE} (
  key TEXT PRIMARY KEY,
  tokens DOUBLE PRECISION NOT NULL,
  refilled_at DOUBLE PRECISION NOT NULL,
  paused_until DOUBLE PRECISION NOT NULL DEFAULT 0)`;
/** The channel a worker notifies after it changed a unit, so followers read it at once. */
export const UNIT_CHANNEL = "tidemark_units";

/** The queue cannot be reached or used (bad URL, refused, wrong password): exit 2. */
export class QueueUnavailableError extends TidemarkError {
  override exitCode = 2;

  /** `message` names the URL with its password masked. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "QueueUnavailableError";
  }
}

/** What a run asks of its units (the harvest flags that change what a unit fetches). */
export interface RunSpec {
  /** The run id. */
  runId: string;
  /** Absolute path of the config on the shared folder. */
  config: string;
  /** Absolute path of the run's out folder on the shared folder, or `s3://BUCKET/PREFIX`. */
  out: string;
  /** The assets. */
  assets: string[];
  /** The units: one per asset, or one per key range of a split asset. @default one per asset */
  units?: UnitSpec[];
  /** `--full-refresh`, `--since`, `--direction`, `--base-url` of the harvest. */
  options: { fullRefresh?: boolean; since?: string; direction?: string; baseUrl?: string };
}

/** `queued`, `running`, `retrying` (failed an attempt; pg-boss retries it) or final. */
export type UnitStatus =
  | "queued"
  | "running"
  | "retrying"
  | "ok"
  | "unchanged"
  | "failed"
  | "skipped";

/** One unit as the units table holds it. */
export interface UnitRow {
  /** The run. */
  runId: string;
  /** The unit: the asset's name, or `<asset> [<range>]` for one key range of it. */
  asset: string;
  /** Where it stands. */
  status: UnitStatus;
  /** Attempts started (a killed worker's attempt counts). */
  attempts: number;
  /** The worker of the last attempt (`host:pid`). */
  worker: string | null;
  /** The pg-boss job. */
  jobId: string | null;
  /** The harvest run id of the last attempt (its snapshots, parts and state rows carry it). */
  harvestRunId: string | null;
  /** Pages committed by the attempt that ended it. */
  pages: number | null;
  /** Rows written by that attempt. */
  rows: number | null;
  /** Why it failed (or why its last attempt failed). */
  error: string | null;
  /** Its output folder, relative to the run's out folder. */
  output: string | null;
  /** Start of the last attempt, ISO. */
  startedAt: string | null;
  /** End, ISO. */
  finishedAt: string | null;
}

/** A row of the units table as pg returns it. */
interface UnitDbRow {
  run_id: string;
  asset: string;
  status: UnitStatus;
  attempts: number;
  worker: string | null;
  job_id: string | null;
  harvest_run_id: string | null;
  pages: number | null;
  rows: string | null;
  error: string | null;
  output: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

/** Statuses a unit ends in. */
export const FINAL_STATUSES: ReadonlySet<UnitStatus> = new Set([
  "ok",
  "unchanged",
  "failed",
  "skipped",
]);

/** The units of a run (one per asset for a spec written before key-range units). */
export function unitsOf(spec: RunSpec): UnitSpec[] {
  return spec.units ?? spec.assets.map((asset) => ({ unit: asset, asset, range: null }));
}

/** pg's connection string, with a `PGPASSWORD` fallback that pg applies itself. */
function checkedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueUnavailableError(
      `cannot use queue ${redactUrl(url)}: not a URL; expected postgres://user@host:port/database`,
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new QueueUnavailableError(
      `cannot use queue ${redactUrl(url)}: expected a postgres:// URL`,
    );
  }
  return url;
}

/** Why a connection failed, without the password. */
function explain(error: unknown, url: string): string {
  const password = (() => {
    try {
      return decodeURIComponent(new URL(url).password);
    } catch {
      return "";
    }
  })();
  const secrets = [password, Deno.env.get("PGPASSWORD") ?? ""].filter((s) => s.length >= 3);
  let message = (error as Error)?.message ?? String(error);
  if (!message && (error as { errors?: Error[] })?.errors) {
    message = (error as { errors: Error[] }).errors.map((e) => e.message).join("; ");
  }
  for (const s of secrets) message = message.replaceAll(s, "***");
  return message;
}

/** The queue: pg-boss plus Tidemark's tables, over one URL. */
export class Queue {
  /** pg-boss, started. */
  readonly boss: PgBoss;
  /** A pool for Tidemark's own tables. */
  readonly pool: pg.Pool;
  /** The URL with its password masked, for messages. */
  readonly description: string;
  /** The URL as given (followers open their own LISTEN connection with it). */
  readonly url: string;

  private constructor(boss: PgBoss, pool: pg.Pool, description: string, url: string) {
    this.boss = boss;
    this.pool = pool;
    this.description = description;
    this.url = url;
  }

  /**
   * Connects, installs pg-boss and Tidemark's tables when missing (idempotent, serialized by an
   * advisory lock), and creates the unit queue (its jobs send a NOTIFY; `listen: true`, for a
   * worker, listens for it). An unreachable server or a refused login is
   * {@link QueueUnavailableError} naming the URL masked.
   *
   * @example
   * ```ts
   * const queue = await Queue.open("postgres://etl@db.example.org/ops");
   * console.log(await queue.units("20261123T101500Z-3fa9c1"));
   * await queue.close();
   * ```
   */
  static async open(
    url: string,
    options: { supervise?: boolean; listen?: boolean; connectTimeoutMs?: number } = {},
  ): Promise<Queue> {
    const connectionString = checkedUrl(url);
    const description = redactUrl(url);
    const pool = new pg.Pool({
      connectionString,
      max: 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      application_name: "tidemark-queue",
    });
    // An idle connection the server drops surfaces on the next query; unheard, it ends the process.
    pool.on("error", () => {});
    try {
      await inTransaction(pool, async (client) => {
        await client.query("SELECT pg_advisory_xact_lock(1952738669, 1)");
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${QUEUE_SCHEMA}`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${QUEUE_SCHEMA}.runs (
          run_id TEXT PRIMARY KEY,
          spec JSONB NOT NULL,
          created_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${QUEUE_SCHEMA}.units (
          run_id TEXT NOT NULL REFERENCES ${QUEUE_SCHEMA}.runs (run_id),
          asset TEXT NOT NULL,
          status TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          worker TEXT,
          job_id TEXT,
          harvest_run_id TEXT,
          pages INTEGER,
          rows BIGINT,
          error TEXT,
          output TEXT,
          started_at TIMESTAMPTZ,
          finished_at TIMESTAMPTZ,
          PRIMARY KEY (run_id, asset))`);
        await client.query(RATE_LIMIT_DDL);
      });
    } catch (error) {
      await pool.end().catch(() => {});
      throw new QueueUnavailableError(
        `cannot connect to queue ${description}: ${explain(error, url)}; check the host, ` +
          "port, database and user, that the server runs, and PGPASSWORD",
        { cause: error },
      );
    }
    const boss = new PgBoss({
      connectionString,
      schema: BOSS_SCHEMA,
      supervise: options.supervise ?? true,
      schedule: false,
      max: 4,
      // A killed worker's unit goes back to the queue at the first supervision after its lease
      // ran out: every 60 s (pg-boss's default) would leave it idle up to a minute longer.
      superviseIntervalSeconds: 10,
      // A worker is woken by the NOTIFY pg-boss sends when a unit is enqueued, rather than at
      // its next poll: idle workers start a run's units at once, and together.
      useListenNotify: options.listen ?? false,
    });
    boss.on("error", () => {});
    try {
      await boss.start();
      const existing = await boss.getQueue(UNIT_QUEUE);
      if (existing && !existing.notify) {
        // A queue made before units sent a NOTIFY: from now on they do.
        await boss.updateQueue(UNIT_QUEUE, { notify: true });
      }
      if (!existing) {
        await boss.createQueue(UNIT_QUEUE, { retryLimit: 5, retryDelay: 1, notify: true }).catch(
          async (error) => {
            // Two processes creating it at once: the other one won.
            if (!(await boss.getQueue(UNIT_QUEUE))) throw error;
          },
        );
      }
    } catch (error) {
      await boss.stop({ graceful: false }).catch(() => {});
      await pool.end().catch(() => {});
      throw new QueueUnavailableError(
        `cannot use queue ${description}: ${explain(error, url)}`,
        { cause: error },
      );
    }
    return new Queue(boss, pool, description, url);
  }

  /** Records a run and its units, and enqueues one job per unit (singleton per run × asset). */
  async enqueueRun(spec: RunSpec, jobOptions: { leaseSeconds: number }): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query(`INSERT INTO ${QUEUE_SCHEMA}.runs (run_id, spec) VALUES ($1, $2)`, [
        spec.runId,
        JSON.stringify(spec),
      ]);
      for (const { unit: asset } of unitsOf(spec)) {
        await client.query(
          `INSERT INTO ${QUEUE_SCHEMA}.units (run_id, asset, status) VALUES ($1, $2, 'queued')`,
          [spec.runId, asset],
        );
      }
    });
    for (const { unit: asset } of unitsOf(spec)) {
      const jobId = await this.boss.send(UNIT_QUEUE, { runId: spec.runId, asset }, {
        singletonKey: `${spec.runId}:${asset}`,
        heartbeatSeconds: Math.max(10, Math.ceil(jobOptions.leaseSeconds)),
        // The lease (heartbeat) decides when a silent worker's unit goes to another; expiry
        // only caps a unit that keeps its heartbeat yet never ends.
        expireInSeconds: 24 * 3600,
      });
      await this.pool.query(
        `UPDATE ${QUEUE_SCHEMA}.units SET job_id = $3 WHERE run_id = $1 AND asset = $2`,
        [spec.runId, asset, jobId],
      );
    }
  }

  /** The spec of a run, or undefined. */
  async run(runId: string): Promise<RunSpec | undefined> {
    const { rows } = await this.pool.query(
      `SELECT spec FROM ${QUEUE_SCHEMA}.runs WHERE run_id = $1`,
      [runId],
    );
    return rows[0]?.spec as RunSpec | undefined;
  }

  /**
   * The key-range units of `asset` in the newest run into `out` that split it, or undefined
   * (the next run reuses them: each range keeps its state and folder).
   */
  async lastRanges(out: string, asset: string): Promise<UnitSpec[] | undefined> {
    const { rows } = await this.pool.query(
      `SELECT spec FROM ${QUEUE_SCHEMA}.runs WHERE spec->>'out' = $1
       ORDER BY created_at DESC LIMIT 50`,
      [out],
    );
    for (const { spec } of rows as { spec: RunSpec }[]) {
      const ranges = unitsOf(spec).filter((u) => u.asset === asset);
      if (ranges.length === 0) continue;
      return ranges.every((u) => u.range !== null) ? ranges : undefined;
    }
    return undefined;
  }

  /** The units of a run, by asset. */
  async units(runId: string): Promise<UnitRow[]> {
    const { rows } = await this.pool.query<UnitDbRow>(
      `SELECT * FROM ${QUEUE_SCHEMA}.units WHERE run_id = $1 ORDER BY asset`,
      [runId],
    );
    return rows.map((r: UnitDbRow) => ({
      runId: r.run_id,
      asset: r.asset,
      status: r.status,
      attempts: r.attempts,
      worker: r.worker,
      jobId: r.job_id,
      harvestRunId: r.harvest_run_id,
      pages: r.pages,
      rows: r.rows === null ? null : Number(r.rows),
      error: r.error,
      output: r.output,
      startedAt: r.started_at?.toISOString() ?? null,
      finishedAt: r.finished_at?.toISOString() ?? null,
    }));
  }

  /**
   * Marks an attempt started and returns its unit, or undefined when the unit already ended
   * (a worker killed between its unit's end and its acknowledgement: nothing is left to do).
   */
  async beginAttempt(
    runId: string,
    asset: string,
    worker: string,
    harvestRunId: string,
  ): Promise<UnitRow | undefined> {
    const { rowCount } = await this.pool.query(
      `UPDATE ${QUEUE_SCHEMA}.units SET status = 'running', attempts = attempts + 1,
         worker = $3, harvest_run_id = $4, started_at = now(), error = NULL
       WHERE run_id = $1 AND asset = $2
         AND status NOT IN ('ok', 'unchanged', 'failed', 'skipped')`,
      [runId, asset, worker, harvestRunId],
    );
    await this.notify(runId);
    if (rowCount === 0) return undefined;
    return (await this.units(runId)).find((u) => u.asset === asset);
  }

  /**
   * Records how an attempt ended (a final status, or `retrying`). With `harvestRunId`, only while
   * the unit is still that attempt's: an attempt that lost its unit to another worker does not
   * overwrite the other's row. Returns whether the row was updated.
   */
  async endAttempt(
    runId: string,
    asset: string,
    end: {
      status: UnitStatus;
      pages?: number;
      rows?: number;
      error?: string | null;
      output?: string | null;
      harvestRunId?: string;
    },
  ): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE ${QUEUE_SCHEMA}.units SET status = $3, pages = $4, rows = $5, error = $6,
         output = COALESCE($7, output),
         finished_at = CASE WHEN $3 IN ('ok', 'unchanged', 'failed', 'skipped') THEN now() END
       WHERE run_id = $1 AND asset = $2 AND ($8::text IS NULL OR harvest_run_id = $8)`,
      [
        runId,
        asset,
        end.status,
        end.pages ?? null,
        end.rows ?? null,
        end.error ?? null,
        end.output ?? null,
        end.harvestRunId ?? null,
      ],
    );
    await this.notify(runId);
    return (rowCount ?? 0) > 0;
  }

  /** Whether attempt `harvestRunId` still holds the unit (running, not taken by another). */
  async holdsAttempt(runId: string, asset: string, harvestRunId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `SELECT 1 FROM ${QUEUE_SCHEMA}.units
       WHERE run_id = $1 AND asset = $2 AND harvest_run_id = $3 AND status = 'running'`,
      [runId, asset, harvestRunId],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Sets the lease of a claimed job: a job whose worker sends no heartbeat for that long is
   * taken for abandoned and retried by another worker.
   */
  async setLease(jobId: string, seconds: number): Promise<void> {
    await this.pool.query(
      `UPDATE ${BOSS_SCHEMA}.job SET heartbeat_seconds = $2, heartbeat_on = now()
       WHERE name = $3 AND id = $1`,
      [jobId, Math.max(10, Math.ceil(seconds)), UNIT_QUEUE],
    );
  }

  /** Tells followers of `runId` that one of its units changed. */
  async notify(runId: string): Promise<void> {
    await this.pool.query("SELECT pg_notify($1, $2)", [UNIT_CHANNEL, runId]);
  }

  /**
   * Units whose pg-boss job ended failed (its retries used up: killed again and again) while
   * the unit never recorded an end: they are marked failed so their run can end.
   */
  async settleDeadUnits(runId: string): Promise<void> {
    for (const unit of await this.units(runId)) {
      if (FINAL_STATUSES.has(unit.status) || unit.jobId === null) continue;
      const job = await this.boss.getJobById(UNIT_QUEUE, unit.jobId);
      if (job?.state === "failed" || job?.state === "cancelled") {
        await this.endAttempt(runId, unit.asset, {
          status: "failed",
          error: unit.error ?? `its job ${job.state} after ${unit.attempts} attempt(s)`,
        });
      }
    }
  }

  /** Stops pg-boss (waiting for its workers' units when `graceful`) and closes the pool. */
  async close(options: { graceful?: boolean } = {}): Promise<void> {
    await this.boss.stop({ graceful: options.graceful ?? false, close: true, timeout: 30_000 })
      .catch(() => {});
    await this.pool.end().catch(() => {});
  }
}
