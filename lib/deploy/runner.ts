/**
 * The work of a deployment: start a job's run (a cron fire or `POST /jobs/{name}/run`), and run
 * each slice a queue message asks for. A slice is one harvest into a scratch copy of the job's
 * bucket folder (see `lib/object_store/mirror.ts`), with state in Deno KV, stopped by its time budget at a page
 * boundary; when it stopped early the next slice is enqueued and resumes from the committed pages.
 * @module
 */
import type { Env } from "../config/load.ts";
import { harvest, type HarvestResult } from "../harvest/run.ts";
import type { FetchFunction } from "../http/fetch_resilient.ts";
import { newRunId } from "../core/stamps.ts";
import { createLogger, type Logger, type LogOutput } from "../report/logger.ts";
import type { ScheduledJob } from "../schedule/jobs.ts";
import { openKvState } from "../state/kv.ts";
import type { StateStore } from "../state/mod.ts";
import type { Bucket } from "../object_store/bucket.ts";
import { mirroredState, OutMirror } from "../object_store/mirror.ts";
import { acquireScratchFs, SCRATCH_ROOT } from "./fs_overlay.ts";
import { parquetEngine } from "../sinks/ffi.ts";
import { readPlan } from "../harvest/asset_plan.ts";
import {
  endSlice,
  isSliceMessage,
  renewLock,
  type RunRecord,
  type SliceMessage,
  startRun,
  takeLock,
  type Trigger,
} from "./runs.ts";

/** Options of a {@link DeployRunner}. */
export interface DeployRunnerOptions {
  /** The KV database of locks, runs and job states. */
  kv: Deno.Kv;
  /** Path or URL given to `Deno.openKv` for the job states (undefined: the default database). */
  kvPath?: string;
  /** The bucket folder holding one folder per job (`s3://BUCKET/PREFIX`). */
  bucket: Bucket;
  /** The valid jobs, by name. */
  jobs: ReadonlyMap<string, ScheduledJob>;
  /** Time a slice harvests before it stops at a page boundary, ms. @default 50_000 */
  sliceMs?: number;
  /** Lease of a job lock, renewed every third of it while a slice works, ms. @default 30_000 */
  leaseMs?: number;
  /** Environment of the configs' S3 destinations. @default Deno.env.toObject() */
  env?: Env;
  /** Transport of the harvests (tests). @default fetch */
  fetch?: FetchFunction;
  /** Log output of the runner and its harvests; null for none. @default stderr */
  logOutput?: LogOutput | null;
  /** Clock. @default Date.now */
  now?: () => number;
  /** Called with each slice's harvest, before its outcome is recorded. */
  onSlice?: (result: HarvestResult, message: SliceMessage) => void;
  /**
   * The signal that ends a slice's time budget (tests end it after some requests instead of
   * waiting). @default a timer of `sliceMs`
   */
  sliceBudget?: (message: SliceMessage) => AbortSignal;
}

/** Starts runs and works slices; see the module doc. */
export class DeployRunner {
  readonly #o: DeployRunnerOptions;
  readonly #log: Logger;
  readonly #sliceMs: number;
  readonly #leaseMs: number;
  readonly #now: () => number;

  /** A runner over `options.jobs`. */
  constructor(options: DeployRunnerOptions) {
    this.#o = options;
    this.#sliceMs = options.sliceMs ?? 50_000;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#log = createLogger({ format: "json", output: options.logOutput });
  }

  /**
   * Starts a run of a job: takes its lock and enqueues its first slice, or throws
   * `JobBusyError` while another run owns the job.
   */
  async start(job: string, trigger: Trigger): Promise<RunRecord> {
    if (!this.#o.jobs.has(job)) throw new Error(`no job named ${job}`);
    const record = await startRun(this.#o.kv, job, newRunId(this.#now), trigger, {
      leaseMs: this.#leaseMs,
      now: this.#now,
    });
    this.#log.info("deploy.run_queued", { job, msg: `run ${record.run_id} (${trigger})` });
    return record;
  }

  /** The queue handler: runs the slice a message asks for (other messages are ignored). */
  async handle(message: unknown): Promise<void> {
    if (!isSliceMessage(message)) return;
    await this.runSlice(message);
  }

  /** Runs one slice of a run; see the module doc. */
  async runSlice(message: SliceMessage, signal?: AbortSignal): Promise<void> {
    const { kv } = this.#o;
    const job = this.#o.jobs.get(message.job);
    const holder = crypto.randomUUID();
    const taken = await takeLock(kv, message, holder, this.#leaseMs, this.#now);
    if (!taken.taken) {
      if (taken.reason === "held") {
        // A slice of this run is at work, or its isolate died and its lease has to run out.
        await kv.enqueue(message, { delay: taken.retryInMs });
      }
      return;
    }
    const log = this.#log.child({ job: message.job });
    const renew = setInterval(() => {
      renewLock(kv, message.job, holder, this.#leaseMs, this.#now).catch(() => {});
    }, Math.max(1000, Math.floor(this.#leaseMs / 3)));
    let result: HarvestResult | null = null;
    let error: unknown = null;
    const budget = new AbortController();
    const timer = setTimeout(() => budget.abort(), this.#sliceMs);
    const injected = this.#o.sliceBudget?.(message);
    injected?.addEventListener("abort", () => budget.abort(), { once: true });
    const stop = signal ? AbortSignal.any([budget.signal, signal]) : budget.signal;
    try {
      if (!job) throw new Error(`job ${message.job} is not in this deployment's schedule`);
      result = await this.#harvestSlice(job, message, stop);
    } catch (e) {
      error = e;
    } finally {
      clearTimeout(timer);
      clearInterval(renew);
    }
    if (result) this.#o.onSlice?.(result, message);
    const stopped = result !== null && budget.signal.aborted &&
      result.assets.some((a) =>
        a.status === "failed" && /stopped before it completed/.test(a.error ?? "")
      );
    if (signal?.aborted && !budget.signal.aborted) {
      // The isolate is shutting down: leave the lock to lapse; the run resumes after restart.
      return;
    }
    const slice = {
      run_id: result?.runId ?? message.run_id,
      status: stopped ? "stopped" : result?.status ?? "failed",
      records: result?.report.totals.records ?? 0,
      pages: result?.report.totals.pages ?? 0,
    };
    const outcome = stopped ? { next: true as const } : {
      next: false as const,
      status: (result?.status ?? "failed") as RunRecord["status"],
      error: error ? String((error as Error)?.message ?? error) : undefined,
    };
    await endSlice(kv, message, holder, slice, outcome, {
      leaseMs: this.#leaseMs,
      now: this.#now,
    });
    if (error) log.error("deploy.slice_failed", { msg: String((error as Error)?.message) });
    else {
      log.info("deploy.slice_done", {
        msg:
          `run ${message.run_id}: slice ${slice.run_id} ${slice.status}, ${slice.records} records${
            stopped ? "; next slice queued" : ""
          }`,
      });
    }
  }

  async #harvestSlice(
    job: ScheduledJob,
    message: SliceMessage,
    signal: AbortSignal,
  ): Promise<HarvestResult> {
    const bucket = this.#o.bucket.child(job.name);
    const prefix = ["tidemark", "jobs", job.name];
    if (parquetEngine() === "polars") {
      // nodejs-polars writes files from native code, past the memory scratch folder.
      throw new Error(
        "a Deploy slice writes Parquet with the JS engine into memory; run without FFI " +
          "(--deny-ffi, as on Deno Deploy)",
      );
    }
    const store = await openKvState(this.#o.kvPath, { prefix });
    const scratchFs = acquireScratchFs();
    const scratch = `${SCRATCH_ROOT}/${job.name.replace(/[^A-Za-z0-9_-]/g, "-")}-${
      crypto.randomUUID().slice(0, 8)
    }`;
    try {
      await Deno.mkdir(scratch, { recursive: true });
      const runs = await store.listRuns(50);
      const unfinished = runs.filter((r) => r.status === "running");
      const mirror = new OutMirror(scratch, bucket);
      await mirror.hydrate({
        runIds: new Set(unfinished.map((r) => r.runId)),
        sinceRunId: await oldestActivePlan(store, job),
      });
      // The run's id names its first harvest, unless a killed slice already used it (then it
      // is a crashed run the next harvest adopts, under an id of its own).
      const first = !runs.some((r) => r.runId === message.run_id);
      let state: StateStore | undefined;
      const result = await harvest(job.loaded, {
        out: scratch,
        assets: job.assets,
        detectChanges: true,
        signal,
        // The first slice carries the run's id, so a one-slice run's report has it too.
        runId: first ? message.run_id : undefined,
        fetch: this.#o.fetch,
        env: this.#o.env,
        logFormat: "json",
        logOutput: this.#o.logOutput,
        openState: () => Promise.resolve(state = mirroredState(store, mirror)),
        memoryOut: true,
      });
      await state?.close();
      await mirror.flush();
      this.#log.info("deploy.scratch", {
        job: job.name,
        scratch_bytes: scratchFs.fs.bytes(),
        msg: `scratch held ${scratchFs.fs.bytes()} bytes in memory; ` +
          `${mirror.stats.downloaded} objects hydrated, ${mirror.stats.uploaded} uploaded`,
      });
      return result;
    } finally {
      await store.close();
      await Deno.remove(scratch, { recursive: true }).catch(() => {});
      scratchFs.release();
    }
  }
}

/**
 * The run id of the oldest plan still active among the job's assets (an asset a slice stopped
 * in): its pages and those of the slices after it may be re-read by the resume.
 */
async function oldestActivePlan(store: StateStore, job: ScheduledJob): Promise<string | undefined> {
  const names = job.assets ?? job.loaded.config.assets.map((a) => a.name);
  let oldest: string | undefined;
  for (const name of names) {
    const plan = await readPlan(store, name).catch(() => undefined);
    if (plan?.status !== "active") continue;
    if (oldest === undefined || plan.run_id < oldest) oldest = plan.run_id;
  }
  return oldest;
}
