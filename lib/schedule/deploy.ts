/**
 * Scheduled jobs on Deno Deploy: the same jobs `tidemark schedule` runs, registered with
 * `Deno.cron` (which Deploy discovers at deployment and fires in UTC, never overlapping). Outside
 * Deploy, `Deno.cron` exists only with `--unstable-cron`; without it registering is a no-op that
 * says so.
 *
 * `Deno.cron` is stricter than croner: names are letters, digits, spaces, `-` and `_` (at most
 * 64), patterns are 5-field without nicknames, times are UTC. Names are made to fit, nicknames
 * are spelled out, and a job in another time zone is refused rather than run at the wrong hour.
 * @module
 */
import { ConfigError, type ConfigIssue } from "../core/errors.ts";
import { OutFolderBusyError } from "../run/out_lock.ts";
import { createLogger, type Logger } from "../report/logger.ts";
import { cronSchedule } from "./cron.ts";
import type { JobRunner, SchedulableJob } from "./schedule.ts";

/** The shape of `Deno.cron` used here (its 4-argument overload). */
export type DenoCronFunction = (
  name: string,
  schedule: string,
  options: { backoffSchedule?: number[]; signal?: AbortSignal },
  handler: () => Promise<void>,
) => Promise<void>;

/** Options of {@link registerDenoCron}. */
export interface RegisterDenoCronOptions {
  /** The cron function; `null` means unavailable. @default Deno.cron when it exists */
  cron?: DenoCronFunction | null;
  /** Where registration and fire events go. @default createLogger() */
  logger?: Logger;
  /** Unregisters every cron when aborted (tests, local runs). */
  signal?: AbortSignal;
  /** Retry delays (ms) after a failed fire, passed to Deno.cron. @default none */
  backoffSchedule?: number[];
}

/** One job registered with Deno.cron. */
export interface DenoCronEntry {
  /** The job's name. */
  job: string;
  /** The name given to Deno.cron. */
  name: string;
  /** The pattern given to Deno.cron. */
  schedule: string;
}

/** Spelled-out nicknames: Deno.cron takes only 5-field patterns. */
const NICKNAMES: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** Longest name Deno.cron accepts. */
const MAX_NAME = 64;

/** A Deno.cron name for a job name: other characters become `-`, cut to 64. */
export function denoCronName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9 _-]+/g, "-").replace(/^-+|-+$/g, "");
  return (cleaned || "job").slice(0, MAX_NAME);
}

/** The pattern given to Deno.cron: nicknames spelled out, whitespace normalized. */
export function denoCronSchedule(pattern: string): string {
  const trimmed = pattern.trim();
  return NICKNAMES[trimmed.toLowerCase()] ?? trimmed.split(/\s+/).join(" ");
}

/**
 * Registers each job with `Deno.cron` (call it at the top level of the entry module, as Deploy
 * requires); each fire calls `run`, skipping (and logging) a fire while the job's previous one
 * still runs. Returns what was registered: nothing, with a log line, when `Deno.cron` is not
 * available. Every job is checked first (ConfigError listing each problem).
 * @example
 * ```ts
 * const jobs = await loadScheduledJobs("jobs/schedule.yaml");
 * registerDenoCron(jobs, (job, fire) => harvestRunner(job, fire));
 * ```
 */
export function registerDenoCron<J extends SchedulableJob>(
  jobs: readonly J[],
  run: JobRunner<J>,
  options: RegisterDenoCronOptions = {},
): DenoCronEntry[] {
  const logger = options.logger ?? createLogger();
  const cron = options.cron === undefined ? denoCron() : options.cron;
  const entries = planEntries(jobs);
  if (cron === null) {
    logger.info("schedule.deno_cron", {
      msg:
        `Deno.cron is not available (it is on Deno Deploy, or with --unstable-cron): ${jobs.length} job(s) not registered; run 'tidemark schedule' for a long-lived scheduler`,
    });
    return [];
  }
  const signal = options.signal ?? new AbortController().signal;
  const registered: DenoCronEntry[] = [];
  for (const [i, job] of jobs.entries()) {
    const entry = entries[i];
    let running = false;
    const handler = async () => {
      if (running) {
        logger.warn("schedule.overlap", {
          job: job.name,
          msg: "skipped: the previous run of this job is still running",
        });
        return;
      }
      running = true;
      // Deno.cron does not pass its scheduled instant; fires land on whole minutes.
      const scheduledAt = new Date(Math.floor(Date.now() / 60_000) * 60_000);
      logger.info("schedule.fire", { job: job.name, scheduled_at: scheduledAt.toISOString() });
      try {
        await run(job, { scheduledAt, signal });
        logger.info("schedule.done", { job: job.name });
      } catch (error) {
        if (error instanceof OutFolderBusyError) {
          // Another run writes the folder: a skipped fire, not a failure to back off from.
          logger.warn("schedule.busy", { job: job.name, msg: `skipped: ${error.message}` });
          return;
        }
        logger.error("schedule.failed", {
          job: job.name,
          msg: (error as Error)?.message ?? String(error),
        });
        throw error; // Deno.cron records the failure and applies backoffSchedule
      } finally {
        running = false;
      }
    };
    try {
      cron(entry.name, entry.schedule, {
        signal,
        ...(options.backoffSchedule ? { backoffSchedule: options.backoffSchedule } : {}),
      }, handler).catch((error) =>
        logger.error("schedule.deno_cron", {
          job: job.name,
          msg: `Deno.cron stopped: ${(error as Error)?.message ?? error}`,
        })
      );
    } catch (error) {
      throw new ConfigError(`Deno.cron refused job ${job.name}`, [{
        path: `job ${job.name}`,
        message: `Deno.cron("${entry.name}", "${entry.schedule}"): ${
          (error as Error).message
        }; it takes standard 5-field patterns (numbers, ranges, lists, steps, month and day names)`,
      }], { cause: error });
    }
    registered.push(entry);
    logger.info("schedule.job", {
      job: job.name,
      schedule: entry.schedule,
      msg: `registered with Deno.cron as "${entry.name}" (UTC)`,
    });
  }
  return registered;
}

/** Checks every job and names it for Deno.cron, before any is registered. */
function planEntries<J extends SchedulableJob>(jobs: readonly J[]): DenoCronEntry[] {
  const issues: ConfigIssue[] = [];
  const used = new Set<string>();
  const entries = jobs.map((job) => {
    const path = `job ${job.name}`;
    try {
      cronSchedule(job.schedule, { timezone: job.timezone, path: `${path}: schedule` });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
    if (job.timezone !== undefined && job.timezone !== "UTC") {
      issues.push({
        path: `${path}: timezone`,
        message:
          `Deno.cron reads patterns in UTC, so "${job.timezone}" cannot be honoured; write the pattern in UTC`,
      });
    }
    let name = denoCronName(job.name);
    for (let n = 2; used.has(name); n++) {
      const suffix = `-${n}`;
      name = `${denoCronName(job.name).slice(0, MAX_NAME - suffix.length)}${suffix}`;
    }
    used.add(name);
    return { job: job.name, name, schedule: denoCronSchedule(job.schedule) };
  });
  if (issues.length) {
    throw new ConfigError(`cannot register the jobs with Deno.cron`, issues);
  }
  return entries;
}

function denoCron(): DenoCronFunction | null {
  const cron = (Deno as { cron?: DenoCronFunction }).cron;
  return typeof cron === "function" ? cron.bind(Deno) : null;
}
