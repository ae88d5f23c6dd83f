/**
 * Deploy runs in Deno KV: the run records `/jobs` and `/runs/{id}` show, and each job's run lock.
 *
 * A run is one or more slices (harvests bounded in time, each on the KV queue). The lock is one
 * KV entry per job, taken and handed on with atomic checks, so two isolates never run one job at
 * once: it names the run that owns the job, the slice that holds it (null between two slices) and
 * a lease end. A slice renews the lease while it works; a slice of a killed isolate stops
 * renewing, and once the lease ends the run's next message takes the lock over and resumes it
 * from its committed pages.
 * @module
 */

/** Key prefix of every deploy entry (the job states live under `["tidemark", "jobs", job]`). */
export const DEPLOY_PREFIX = "tidemark-deploy";

/** How a run was started. */
export type Trigger = "cron" | "manual";

/** One slice of a run: one harvest. */
export interface SliceRecord {
  /** The harvest's run id (its report is `reports/<run_id>.json` in the job's folder). */
  run_id: string;
  /** How the harvest ended (`stopped` when its time was up and the next slice continues). */
  status: string;
  /** Records fetched. */
  records: number;
  /** Pages fetched. */
  pages: number;
}

/** A run as `/jobs` and `/runs/{id}` show it. */
export interface RunRecord {
  /** The run id (also the first slice's harvest run id). */
  run_id: string;
  /** The job. */
  job: string;
  /** `queued`, `running`, then `succeeded`, `partial` or `failed`. */
  status: "queued" | "running" | "succeeded" | "partial" | "failed";
  /** What started it. */
  trigger: Trigger;
  /** Records fetched over every slice. */
  records: number;
  /** When it was asked for, UTC ISO-8601. */
  started_at: string;
  /** When its last slice ended; null while it runs. */
  finished_at: string | null;
  /** Its slices, in order. */
  slices: SliceRecord[];
  /** Why it failed, when it failed before any report was written. */
  error?: string;
}

/** The lock entry of a job. */
export interface JobLock {
  /** The run that owns the job. */
  run_id: string;
  /** The slice holding it now; null between slices. */
  holder: string | null;
  /** End of the lease, epoch ms. */
  expires_at: number;
}

/** One queue message: run the next slice of a run. */
export interface SliceMessage {
  /** Discriminant (the queue may carry other messages). */
  kind: "tidemark.slice";
  /** The job. */
  job: string;
  /** The run. */
  run_id: string;
}

/** Keys of the deploy entries. */
export const keys = {
  lock: (job: string): Deno.KvKey => [DEPLOY_PREFIX, "lock", job],
  run: (runId: string): Deno.KvKey => [DEPLOY_PREFIX, "run", runId],
  last: (job: string): Deno.KvKey => [DEPLOY_PREFIX, "last", job],
  active: (job: string): Deno.KvKey => [DEPLOY_PREFIX, "active", job],
};

/** Whether a value is a {@link SliceMessage}. */
export function isSliceMessage(value: unknown): value is SliceMessage {
  const m = value as SliceMessage;
  return typeof m === "object" && m !== null && m.kind === "tidemark.slice" &&
    typeof m.job === "string" && typeof m.run_id === "string";
}

/** The job is running: a second run is refused (HTTP 409). */
export class JobBusyError extends Error {
  /** The run that holds the job. */
  readonly runId: string;
  /** `job` is busy with run `runId`. */
  constructor(job: string, runId: string) {
    super(`job ${job} is running (run ${runId}); try again when it ends`);
    this.name = "JobBusyError";
    this.runId = runId;
  }
}

/** Options of {@link startRun}. */
export interface StartRunOptions {
  /** Clock. @default Date.now */
  now?: () => number;
  /** Lease of the lock until the first slice takes it, ms. */
  leaseMs: number;
}

/**
 * Starts a run of `job` if no run owns it: in one atomic commit the lock is taken, the run
 * recorded as queued, and its first slice enqueued. Throws {@link JobBusyError} otherwise.
 */
export async function startRun(
  kv: Deno.Kv,
  job: string,
  runId: string,
  trigger: Trigger,
  options: StartRunOptions,
): Promise<RunRecord> {
  const now = options.now ?? Date.now;
  for (let attempt = 0; attempt < 20; attempt++) {
    const lock = await kv.get<JobLock>(keys.lock(job));
    if (lock.value && await ownerAlive(kv, lock.value)) {
      throw new JobBusyError(job, lock.value.run_id);
    }
    const record: RunRecord = {
      run_id: runId,
      job,
      status: "queued",
      trigger,
      records: 0,
      started_at: new Date(now()).toISOString(),
      finished_at: null,
      slices: [],
    };
    const message: SliceMessage = { kind: "tidemark.slice", job, run_id: runId };
    const result = await kv.atomic()
      .check(lock)
      .set(
        keys.lock(job),
        {
          run_id: runId,
          holder: null,
          expires_at: now() + options.leaseMs,
        } satisfies JobLock,
      )
      .set(keys.run(runId), record)
      .set(keys.last(job), runId)
      .set(keys.active(job), runId)
      .enqueue(message)
      .commit();
    if (result.ok) return record;
  }
  throw new Error(`could not start job ${job}: the lock kept changing`);
}

/**
 * A lock whose run finished (or was forgotten) is free. An unfinished run owns its job even past
 * its lease: its next message (or {@link resumeUnfinished} after a restart) completes it.
 */
async function ownerAlive(kv: Deno.Kv, lock: JobLock): Promise<boolean> {
  const run = await kv.get<RunRecord>(keys.run(lock.run_id));
  return run.value !== null && run.value.finished_at === null;
}

/** What {@link takeLock} found. */
export type TakeResult =
  | { taken: true }
  | { taken: false; reason: "finished" | "other-run" }
  | { taken: false; reason: "held"; retryInMs: number };

/**
 * A slice takes its run's lock: free when nobody holds it (between slices) or the holder's
 * lease ended (a killed isolate). `held` means another live slice of this run has it.
 */
export async function takeLock(
  kv: Deno.Kv,
  message: SliceMessage,
  holder: string,
  leaseMs: number,
  now: () => number = Date.now,
): Promise<TakeResult> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const [lock, run] = await kv.getMany<[JobLock, RunRecord]>([
      keys.lock(message.job),
      keys.run(message.run_id),
    ]);
    if (run.value === null || run.value.finished_at !== null) {
      return { taken: false, reason: "finished" };
    }
    if (lock.value !== null && lock.value.run_id !== message.run_id) {
      return { taken: false, reason: "other-run" };
    }
    if (lock.value?.holder && lock.value.expires_at > now()) {
      return { taken: false, reason: "held", retryInMs: lock.value.expires_at - now() + 1000 };
    }
    const result = await kv.atomic()
      .check(lock)
      .set(
        keys.lock(message.job),
        {
          run_id: message.run_id,
          holder,
          expires_at: now() + leaseMs,
        } satisfies JobLock,
      )
      .set(keys.run(message.run_id), { ...run.value, status: "running" })
      .commit();
    if (result.ok) return { taken: true };
  }
  return { taken: false, reason: "held", retryInMs: 1000 };
}

/** Renews the lease of a holding slice; false when it lost the lock. */
export async function renewLock(
  kv: Deno.Kv,
  job: string,
  holder: string,
  leaseMs: number,
  now: () => number = Date.now,
): Promise<boolean> {
  const lock = await kv.get<JobLock>(keys.lock(job));
  if (lock.value?.holder !== holder) return false;
  const result = await kv.atomic()
    .check(lock)
    .set(keys.lock(job), { ...lock.value, expires_at: now() + leaseMs })
    .commit();
  return result.ok;
}

/**
 * Ends a slice: records it, and either hands the lock on and enqueues the next slice
 * (`next: true`) or finishes the run and frees the job — atomically, checked against the lock
 * this slice holds.
 */
export async function endSlice(
  kv: Deno.Kv,
  message: SliceMessage,
  holder: string,
  slice: SliceRecord,
  outcome: { next: true } | { next: false; status: RunRecord["status"]; error?: string },
  options: { leaseMs: number; now?: () => number },
): Promise<boolean> {
  const now = options.now ?? Date.now;
  for (let attempt = 0; attempt < 20; attempt++) {
    const [lock, run] = await kv.getMany<[JobLock, RunRecord]>([
      keys.lock(message.job),
      keys.run(message.run_id),
    ]);
    if (lock.value?.holder !== holder || run.value === null) return false;
    const record: RunRecord = {
      ...run.value,
      records: run.value.records + slice.records,
      slices: [...run.value.slices, slice],
    };
    const op = kv.atomic().check(lock).check(run);
    if (outcome.next) {
      op.set(keys.run(message.run_id), record)
        .set(
          keys.lock(message.job),
          {
            run_id: message.run_id,
            holder: null,
            expires_at: now() + options.leaseMs,
          } satisfies JobLock,
        )
        .enqueue(message);
    } else {
      op.set(keys.run(message.run_id), {
        ...record,
        status: outcome.status,
        finished_at: new Date(now()).toISOString(),
        ...(outcome.error ? { error: outcome.error.slice(0, 4000) } : {}),
      })
        .delete(keys.lock(message.job))
        .delete(keys.active(message.job));
    }
    if ((await op.commit()).ok) return true;
  }
  return false;
}

/** The run record of an id, or null. */
export async function getRun(kv: Deno.Kv, runId: string): Promise<RunRecord | null> {
  return (await kv.get<RunRecord>(keys.run(runId))).value;
}

/** The last run of a job, or null. */
export async function lastRun(kv: Deno.Kv, job: string): Promise<RunRecord | null> {
  const id = (await kv.get<string>(keys.last(job))).value;
  return id === null ? null : await getRun(kv, id);
}

/**
 * Runs a killed isolate left unfinished: for each, a message is enqueued to land after its
 * lease, so a restarted deployment completes them from their committed pages.
 */
export async function resumeUnfinished(
  kv: Deno.Kv,
  jobs: readonly string[],
  now: () => number = Date.now,
): Promise<string[]> {
  const resumed: string[] = [];
  for (const job of jobs) {
    const active = (await kv.get<string>(keys.active(job))).value;
    if (active === null) continue;
    const run = await getRun(kv, active);
    if (run === null || run.finished_at !== null) continue;
    const lock = (await kv.get<JobLock>(keys.lock(job))).value;
    const delay = lock ? Math.max(0, lock.expires_at - now()) : 0;
    await kv.enqueue({ kind: "tidemark.slice", job, run_id: active } satisfies SliceMessage, {
      delay,
    });
    resumed.push(active);
  }
  return resumed;
}
