/**
 * `tidemark worker`: takes units (one asset of one run, or one key range of it) from the queue and
 * harvests each with the ordinary engine into `<out>/units/<asset>/` (a range into
 * `<out>/units/<asset>/range-<i>-of-<n>/`) on the shared folder — or, for `--out s3://…`, into
 * a scratch copy of that folder in the bucket (lib/queue/unit_out.ts) — its state in PostgreSQL (one
 * schema per out folder × unit, so two units never take each other's runs for crashed ones).
 * A unit's pages, parts and watermark commit exactly as in a local run, so a unit whose worker
 * was killed is resumed by the next attempt from its last committed page: nothing lost, nothing
 * doubled. The lease is a heartbeat: a worker that stops sending it loses the unit after the
 * lease, and pg-boss hands it to another worker.
 * @module
 */
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import type { JobWithMetadata } from "pg-boss";
import { loadConfig, type LoadedConfig } from "../config/load.ts";
import { harvest, type HarvestOptions } from "../harvest/run.ts";
import { newRunId } from "../core/stamps.ts";
import { openPostgresState } from "../state/postgres.ts";
import { sharedLimiterFactory } from "./shared_limiter.ts";
import { unitAsset, type UnitSpec } from "./split.ts";
import { Queue, UNIT_QUEUE, unitsOf } from "./store.ts";
import { isBucketOut, openUnitOut, type UnitOutOptions } from "./unit_out.ts";
import { warmUp } from "./warm_up.ts";

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** Units harvested at once by this process. @default 1 */
  concurrency?: number;
  /** Seconds without a heartbeat after which a unit goes to another worker (≥ 10). @default 30 */
  leaseSeconds?: number;
  /** PostgreSQL URL of the state. @default the queue's URL */
  state?: string;
  /** This worker's name in the units table. @default `host:pid` */
  name?: string;
  /** Harvest options every unit gets (a test's transport, logs). */
  harvest?: Partial<HarvestOptions>;
  /** A line per unit started and ended. @default nothing */
  log?: (line: string) => void;
  /** How often an idle worker asks for work, in seconds. @default 1 */
  pollSeconds?: number;
  /**
   * Share each (origin, credential)'s `requests_per_second` budget with every other worker
   * through the queue's database; `false` keeps a budget per worker. `time: "clock"` refills the
   * buckets by the harvest's clock instead of the database's (tests). @default { time: "database" }
   */
  sharedRateLimit?: false | { time?: "database" | "clock" };
  /**
   * Harvest a tiny offline page before taking units, so the first unit does not pay the
   * process's warm-up (lib/queue/warm_up.ts). @default true
   */
  warmUp?: boolean;
  /** How a run with `--out s3://…` reaches its bucket (env, tests' in-memory bucket, scratch). */
  bucketOut?: UnitOutOptions;
}

/** A running worker. */
export interface WorkerHandle {
  /** This worker's name. */
  name: string;
  /** Units this worker ended (any final status), in order. */
  done: string[];
  /**
   * Stops taking units, waits for those in hand (unless `graceful: false`: they are left to
   * their leases), disconnects.
   */
  stop(options?: { graceful?: boolean }): Promise<void>;
}

/** The job a unit travels in. */
interface UnitJob {
  runId: string;
  asset: string;
}

/**
 * The state schema of one unit (an asset, or one key range of it) of one out folder: a stable,
 * plain identifier. A range's schema is named by its bounds, so a later run cut the same way
 * continues from the same watermark. An `s3://` out is named by its URL (no trailing slash),
 * the same from every worker and every machine.
 */
export function unitStateSchema(out: string, unit: string): string {
  const where = isBucketOut(out) ? out.replace(/\/+$/, "") : resolve(out);
  return "tm_" + createHash("sha256").update(`${where}\n${unit}`).digest("hex").slice(0, 24);
}

/** The folder a unit harvests into, relative to the run's out folder. */
export function unitFolder(asset: string, range: UnitSpec["range"] = null): string {
  return range === null
    ? join("units", asset)
    : join("units", asset, `range-${range.index}-of-${range.count}`);
}

/**
 * Connects to the queue and starts taking units; throws QueueUnavailableError (exit 2) when the
 * queue cannot be used.
 *
 * @example
 * ```ts
 * import { startWorker } from "./worker.ts";
 * const worker = await startWorker("postgres://etl@db/ops", { concurrency: 2 });
 * Deno.addSignalListener("SIGTERM", () => worker.stop());
 * ```
 */
export async function startWorker(url: string, options: WorkerOptions = {}): Promise<WorkerHandle> {
  const queue = await Queue.open(url, { listen: true });
  const name = options.name ?? `${hostname()}:${Deno.pid}`;
  const lease = Math.max(10, options.leaseSeconds ?? 30);
  const log = options.log ?? (() => {});
  const done: string[] = [];
  const handle = async (job: JobWithMetadata<UnitJob>): Promise<void> => {
    const { runId, asset } = job.data;
    await queue.setLease(job.id, lease);
    // Heartbeats well inside the lease, so a slow database round trip never loses the unit.
    const beat = setInterval(() => {
      queue.boss.touch(UNIT_QUEUE, job.id).catch(() => {});
    }, lease * 1000 / 3);
    try {
      await runUnit(queue, job, { ...options, name, log, url });
      done.push(`${runId}:${asset}`);
    } finally {
      clearInterval(beat);
    }
  };
  if (options.warmUp !== false) await warmUp();
  // Declared before it is known: a unit may start (and end) before `work` resolves.
  // deno-lint-ignore prefer-const
  let workId: string | undefined;
  workId = await queue.boss.work<UnitJob>(
    UNIT_QUEUE,
    {
      localConcurrency: options.concurrency ?? 1,
      batchSize: 1,
      includeMetadata: true,
      pollingIntervalSeconds: options.pollSeconds ?? 1,
      // The poll stays the backstop while NOTIFY wakes the worker: a unit retried after its
      // worker's lease ran out is made ready without one.
      notifyPollingIntervalSeconds: options.pollSeconds ?? 1,
    },
    async (jobs) => {
      // includeMetadata: the jobs carry their retry count and limit.
      for (const job of jobs as unknown as JobWithMetadata<UnitJob>[]) await handle(job);
      // Ask for the next unit at once: otherwise pg-boss waits out what is left of its polling
      // interval (a unit shorter than it leaves the worker idle while units wait).
      if (workId !== undefined) queue.boss.notifyWorker(workId);
    },
  );
  log(`worker ${name}: taking units from ${queue.description}`);
  return {
    name,
    done,
    stop: (stop = {}) => queue.close({ graceful: stop.graceful ?? true }),
  };
}

/** An attempt found its unit taken by another worker (its lease expired while it stalled). */
export class UnitLostError extends Error {}

/** One attempt at one unit; throws to have pg-boss retry it. */
async function runUnit(
  queue: Queue,
  job: JobWithMetadata<UnitJob>,
  options: WorkerOptions & { name: string; log: (line: string) => void; url: string },
): Promise<void> {
  const { runId, asset } = job.data;
  const spec = await queue.run(runId);
  if (spec === undefined) return; // its run was deleted: nothing to do
  const unitSpec = unitsOf(spec).find((u) => u.unit === asset);
  if (unitSpec === undefined) return; // not a unit of its run (a stale job): nothing to do
  const harvestRunId = newRunId();
  const unit = await queue.beginAttempt(runId, asset, options.name, harvestRunId);
  if (unit === undefined) return; // ended by an earlier attempt that was not acknowledged
  options.log(`unit ${runId}:${asset} attempt ${unit.attempts} on ${options.name}`);
  const final = job.retryCount >= job.retryLimit;
  try {
    const loaded = forUnit(await loadConfig(spec.config), unitSpec);
    const folder = unitFolder(unitSpec.asset, unitSpec.range);
    const state = await openPostgresState(options.state ?? options.url, {
      schema: unitStateSchema(spec.out, unitSpec.unit),
    });
    // A stalled worker whose lease expired must not upload over the attempt that took its unit.
    const fence = async () => {
      if (!(await queue.holdsAttempt(runId, asset, harvestRunId))) {
        throw new UnitLostError(
          `unit ${runId}:${asset} was taken by another worker after this attempt's lease ` +
            "expired; this attempt stops without uploading more",
        );
      }
    };
    await using out = await openUnitOut(spec.out, folder, state, {
      ...options.bucketOut,
      fence,
    });
    const result = await harvest(loaded, {
      quiet: true,
      logOutput: null,
      ...options.harvest,
      out: out.dir,
      assets: [unitSpec.asset],
      runId: harvestRunId,
      fullRefresh: spec.options.fullRefresh,
      since: spec.options.since,
      direction: spec.options.direction as HarvestOptions["direction"],
      baseUrl: spec.options.baseUrl ?? options.harvest?.baseUrl,
      limiter: options.sharedRateLimit === false
        ? options.harvest?.limiter
        : sharedLimiterFactory(queue.pool, options.sharedRateLimit),
      openState: () => Promise.resolve(out.state),
    });
    await out.finish();
    const a = result.assets[0];
    await queue.endAttempt(runId, asset, {
      harvestRunId,
      status: a.status,
      pages: a.pages,
      rows: a.rows,
      error: a.error ?? null,
      output: a.output === null ? null : join(folder, a.output),
    });
    options.log(`unit ${runId}:${asset} ${a.status}: ${a.pages} pages, ${a.rows} rows`);
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    const held = await queue.endAttempt(runId, asset, {
      harvestRunId,
      status: final ? "failed" : "retrying",
      error: message,
    });
    if (!held) {
      // Another attempt owns the unit now: it decides how the unit ends.
      options.log(`unit ${runId}:${asset} attempt stopped: ${message}`);
      return;
    }
    options.log(`unit ${runId}:${asset} attempt failed${final ? "" : " (retried)"}: ${message}`);
    if (!final) throw error;
  }
}

/**
 * The config a unit runs: its asset bounded to its key range. Derived datasets join several
 * assets and each unit holds one (or part of one): a queued run harvests the assets only (run
 * `derive:` steps afterwards with a local run over the unit folders).
 */
function forUnit(loaded: LoadedConfig, unit: UnitSpec): LoadedConfig {
  const assets = loaded.config.assets.map((a) => a.name === unit.asset ? unitAsset(a, unit) : a);
  return { ...loaded, config: { ...loaded.config, assets, derive: [] } };
}
