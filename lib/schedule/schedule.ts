/**
 * The long-lived scheduler of `tidemark schedule`: fires each job at the next instant of its
 * cron pattern (computed by croner, waited for with an injected {@link Clock}, so fake timers
 * drive it in tests), never runs two fires of the same job at once (a fire that finds the job
 * still running is skipped and logged), and stops cleanly when its signal aborts: no new fire,
 * running jobs get the aborted signal and are awaited.
 * @module
 */
import { type Clock, systemClock } from "../core/clock.ts";
import { OutFolderBusyError } from "../run/out_lock.ts";
import { createLogger, type Logger } from "../report/logger.ts";
import { type CronSchedule, cronSchedule } from "./cron.ts";

/** What a scheduler needs of a job: a unique name and a cron pattern. */
export interface SchedulableJob {
  /** Unique job name (logs, `Deno.cron`). */
  name: string;
  /** 5-field cron pattern or nickname. */
  schedule: string;
  /** IANA time zone of the pattern. @default "UTC" */
  timezone?: string;
}

/** What a fire tells the job it runs. */
export interface FireContext {
  /** The instant the cron pattern named (the job may start a little after it). */
  scheduledAt: Date;
  /** Aborts when the scheduler stops; a long job should stop at its next safe point. */
  signal: AbortSignal;
}

/** Runs one fire of a job; a rejection is logged and the schedule goes on. */
export type JobRunner<J> = (job: J, fire: FireContext) => Promise<unknown>;

/** Options of {@link runSchedule}. */
export interface RunScheduleOptions {
  /** Time and sleep. @default systemClock (Date.now + setTimeout, so fake timers drive it) */
  clock?: Clock;
  /** Stops the scheduler (SIGINT/SIGTERM in the CLI). @default never */
  signal?: AbortSignal;
  /** Where schedule events go. @default createLogger() */
  logger?: Logger;
  /**
   * Longest single sleep, in ms: a longer wait is taken in steps, so a wall clock that jumps
   * (suspend, NTP) is noticed within one step, and no timer exceeds setTimeout's 2^31-1 ms.
   * @default 60000
   */
  maxSleepMs?: number;
}

/** Per-job counts of a scheduler's life. */
export interface JobTally {
  /** Fires started. */
  fired: number;
  /** Fires that resolved. */
  succeeded: number;
  /** Fires that rejected. */
  failed: number;
  /** Fires skipped: the previous one was still running, or another run held the out folder. */
  skipped: number;
}

/** What {@link runSchedule} resolves to once stopped. */
export interface ScheduleSummary {
  /** Counts by job name. */
  jobs: Record<string, JobTally>;
}

/** setTimeout's largest delay; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Slot<J> {
  job: J;
  cron: CronSchedule;
  next: Date | null;
  running: Promise<void> | null;
  tally: JobTally;
}

/**
 * Runs `jobs` on their schedules until `options.signal` aborts (or no job has a fire time left),
 * then waits for running fires and resolves with the counts. Every pattern is checked before
 * anything runs (a bad one is a ConfigError naming the job).
 * @example
 * ```ts
 * const stop = new AbortController();
 * Deno.addSignalListener("SIGINT", () => stop.abort());
 * await runSchedule(
 *   [{ name: "northwind", schedule: "*\/15 * * * *" }],
 *   (job, fire) => harvestJob(job, fire.signal),
 *   { signal: stop.signal },
 * );
 * ```
 */
export async function runSchedule<J extends SchedulableJob>(
  jobs: readonly J[],
  run: JobRunner<J>,
  options: RunScheduleOptions = {},
): Promise<ScheduleSummary> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger();
  const signal = options.signal ?? new AbortController().signal;
  const step = Math.min(MAX_TIMER_MS, Math.max(1, options.maxSleepMs ?? 60_000));
  const slots: Slot<J>[] = jobs.map((job) => {
    const cron = cronSchedule(job.schedule, {
      timezone: job.timezone,
      path: `job ${job.name}: schedule`,
    });
    return {
      job,
      cron,
      next: null,
      running: null,
      tally: { fired: 0, succeeded: 0, failed: 0, skipped: 0 },
    };
  });
  const started = new Date(clock.now());
  for (const slot of slots) {
    slot.next = slot.cron.next(started);
    logger.info("schedule.job", {
      job: slot.job.name,
      schedule: slot.cron.pattern,
      timezone: slot.cron.timezone,
      next: slot.next?.toISOString() ?? null,
      msg: slot.next ? `next fire ${slot.next.toISOString()}` : "no future fire time",
    });
  }

  while (!signal.aborted) {
    const due = earliest(slots);
    if (due === null) {
      logger.warn("schedule.idle", { msg: "no job has a future fire time; stopping" });
      break;
    }
    const wait = due.getTime() - clock.now();
    if (wait > 0) {
      try {
        await clock.sleep(Math.min(wait, step), signal);
      } catch {
        break; // the signal aborted
      }
      continue;
    }
    const now = new Date(clock.now());
    for (const slot of slots) {
      if (slot.next === null || slot.next > now) continue;
      const scheduledAt = slot.next;
      // From now, not from scheduledAt: fires missed while the process slept are not replayed.
      slot.next = slot.cron.next(now);
      fire(slot, scheduledAt, run, signal, logger);
    }
  }

  const running = slots.map((s) => s.running).filter((p) => p !== null);
  logger.info("schedule.stop", {
    msg: running.length ? `stopping: waiting for ${running.length} running job(s)` : "stopped",
  });
  await Promise.all(running);
  return { jobs: Object.fromEntries(slots.map((s) => [s.job.name, s.tally])) };
}

function earliest<J>(slots: Slot<J>[]): Date | null {
  let best: Date | null = null;
  for (const s of slots) if (s.next !== null && (best === null || s.next < best)) best = s.next;
  return best;
}

function fire<J extends SchedulableJob>(
  slot: Slot<J>,
  scheduledAt: Date,
  run: JobRunner<J>,
  signal: AbortSignal,
  logger: Logger,
): void {
  const job = slot.job.name;
  if (slot.running !== null) {
    slot.tally.skipped++;
    logger.warn("schedule.overlap", {
      job,
      scheduled_at: scheduledAt.toISOString(),
      msg: "skipped: the previous run of this job is still running",
    });
    return;
  }
  slot.tally.fired++;
  logger.info("schedule.fire", { job, scheduled_at: scheduledAt.toISOString() });
  slot.running = (async () => {
    try {
      await run(slot.job, { scheduledAt, signal });
      slot.tally.succeeded++;
      logger.info("schedule.done", { job, scheduled_at: scheduledAt.toISOString() });
    } catch (error) {
      if (error instanceof OutFolderBusyError) {
        // Another run (a manual one, another job) writes the folder: this fire is skipped.
        slot.tally.skipped++;
        logger.warn("schedule.busy", {
          job,
          scheduled_at: scheduledAt.toISOString(),
          msg: `skipped: ${error.message}`,
        });
        return;
      }
      slot.tally.failed++;
      logger.error("schedule.failed", {
        job,
        scheduled_at: scheduledAt.toISOString(),
        msg: (error as Error)?.message ?? String(error),
      });
    } finally {
      slot.running = null;
    }
  })();
}
