/**
 * `tidemark schedule --config FILE [--once] [--dry-run]`: runs the jobs of a config (or of a
 * jobs file) on their cron schedules in a long-lived process that stops cleanly on SIGINT or
 * SIGTERM; `--once` runs every job once now and exits (for system cron, CI); `--dry-run` prints
 * each job's next fire times and runs nothing.
 *
 * A job runs through a {@link JobRunner}: by default the job runner's `runJob(config,
 * options)`, imported only when a job first fires, so `--dry-run` loads no engine at all.
 * @module
 */
import { type Clock, systemClock } from "../core/clock.ts";
import type { Env } from "../config/load.ts";
import { TidemarkError, UsageError } from "../core/errors.ts";
import { createLogger, type Logger } from "../report/logger.ts";
import { cronSchedule } from "../schedule/cron.ts";
import { loadScheduledJobs, type ScheduledJob } from "../schedule/jobs.ts";
import {
  type FireContext,
  type JobRunner,
  runSchedule,
  type ScheduleSummary,
} from "../schedule/schedule.ts";
import { booleanFlag, choiceValue, type Command, parseFlags, stringFlag } from "./args.ts";

/** Fire times `--dry-run` prints per job. */
const DRY_RUN_COUNT = 3;

/** Options of {@link scheduleCommand} (tests and embedders inject these). */
export interface ScheduleCommandOptions {
  /** Runs one fire of a job. @default harvestRunner */
  runner?: JobRunner<ScheduledJob>;
  /** Time and sleep. @default systemClock */
  clock?: Clock;
  /** Stops the long-lived scheduler. @default SIGINT or SIGTERM */
  signal?: AbortSignal;
  /** Where schedule events go. @default a logger on stderr (`--log-format`) */
  logger?: Logger;
  /** Environment for `${VAR}` in configs. @default Deno.env.toObject() */
  env?: Env;
}

/** What the scheduler uses of the job runner module (`lib/schedule/scheduled_run.ts`). */
interface JobEngine {
  /** Runs one job (its harvest, then its extract steps), rejecting when it failed. */
  runJob(
    config: ScheduledJob["loaded"],
    options: {
      assets?: string[];
      extract?: boolean;
      signal?: AbortSignal;
      trigger?: string;
      scheduledAt?: Date;
    },
  ): Promise<unknown>;
}

/**
 * The default runner: `runJob(config, options)` of the job runner, imported on first use. The
 * specifier is computed so that `--dry-run` and the type check of this command never load the
 * harvest engine (and its Parquet addon).
 */
export async function harvestRunner(job: ScheduledJob, fire: FireContext): Promise<unknown> {
  const specifier = new URL("../schedule/scheduled_run.ts", import.meta.url).href;
  let engine: JobEngine;
  try {
    engine = await import(specifier);
  } catch (error) {
    throw new TidemarkError(
      `cannot run job ${job.name}: the harvest engine could not be loaded: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  return await engine.runJob(job.loaded, {
    assets: job.assets,
    extract: job.extract,
    signal: fire.signal,
    trigger: "schedule",
    scheduledAt: fire.scheduledAt,
  });
}

/** Builds the `schedule` command around injected collaborators. */
export function scheduleCommand(options: ScheduleCommandOptions = {}): Command {
  const spec = {
    name: "schedule",
    summary: "run the jobs of a config on their cron schedules",
    usage: "schedule --config FILE [--once] [--dry-run] [--timezone TZ]",
    flags: {
      config: {
        type: "string" as const,
        value: "FILE",
        description: "a config with schedule:, or a jobs file (jobs: [config.yaml, …])",
      },
      once: { type: "boolean" as const, description: "run every job once now, then exit" },
      "dry-run": {
        type: "boolean" as const,
        description: `print each job's next ${DRY_RUN_COUNT} fire times; run nothing`,
      },
      timezone: {
        type: "string" as const,
        value: "TZ",
        description: "IANA time zone the patterns are read in",
        default: "the jobs file's timezone:, else UTC (as Deno.cron)",
      },
      "log-format": {
        type: "string" as const,
        value: "FORMAT",
        description: "auto (human on a terminal, JSON lines otherwise), json or human",
        default: "auto",
      },
    },
    details: [
      "Patterns have 5 fields (minute hour day-of-month month day-of-week) or are a nickname",
      "(@hourly, @daily, @weekly, @monthly). A fire that finds its job still running is skipped",
      "and logged. SIGINT or SIGTERM stops the scheduler after the running jobs finish (a second",
      "signal exits at once). On Deno Deploy the same jobs register with Deno.cron.",
    ].join("\n"),
  };
  const command: Command = {
    spec,
    async run(args: string[]): Promise<number> {
      const flags = parseFlags(spec, args);
      const path = stringFlag(flags, "config");
      if (path === undefined) {
        throw new UsageError(
          "tidemark schedule needs --config FILE, a config with schedule: or a jobs file",
        );
      }
      if (flags.positionals.length > 0) {
        throw new UsageError(`unexpected argument "${flags.positionals[0]}"; usage: ${spec.usage}`);
      }
      const logFormat = choiceValue(
        stringFlag(flags, "log-format") ?? "auto",
        "--log-format",
        [
          "auto",
          "json",
          "human",
        ] as const,
      );
      const timezone = stringFlag(flags, "timezone");
      if (timezone !== undefined) cronSchedule("* * * * *", { timezone, path: "--timezone" });
      const jobs = await loadScheduledJobs(path, { env: options.env, timezone });
      if (jobs.length === 0) {
        throw new UsageError(`${path} schedules no job; add schedule: "<cron>" to the config`);
      }
      const clock = options.clock ?? systemClock;
      if (booleanFlag(flags, "dry-run")) {
        console.log(dryRun(jobs, new Date(clock.now())));
        return 0;
      }
      const logger = options.logger ??
        createLogger({ format: logFormat, clock: () => clock.now() });
      const runner = options.runner ?? harvestRunner;
      if (booleanFlag(flags, "once")) return await runOnce(jobs, runner, clock, logger);
      return await runForever(jobs, runner, { ...options, clock, logger });
    },
  };
  return command;
}

/** The `schedule` command. */
export const command: Command = scheduleCommand();

/** Renders `--dry-run`: each job, its pattern and scope, and its next fire times. */
function dryRun(jobs: ScheduledJob[], now: Date): string {
  const lines: string[] = [];
  for (const job of jobs) {
    const times = cronSchedule(job.schedule, { timezone: job.timezone }).upcoming(
      DRY_RUN_COUNT,
      now,
    );
    const scope = job.assets ? `assets ${job.assets.join(", ")}` : "every asset";
    lines.push(`${job.name}  "${job.schedule}" (${job.timezone})  ${scope}  [${job.configPath}]`);
    for (const t of times) lines.push(`  ${t.toISOString()}`);
    if (times.length === 0) lines.push("  (no future fire time)");
  }
  return lines.join("\n");
}

async function runOnce(
  jobs: ScheduledJob[],
  runner: JobRunner<ScheduledJob>,
  clock: Clock,
  logger: Logger,
): Promise<number> {
  let failed = 0;
  const signal = new AbortController().signal;
  for (const job of jobs) {
    const scheduledAt = new Date(clock.now());
    logger.info("schedule.fire", { job: job.name, scheduled_at: scheduledAt.toISOString() });
    try {
      await runner(job, { scheduledAt, signal });
      logger.info("schedule.done", { job: job.name });
      console.log(`${job.name}: succeeded`);
    } catch (error) {
      failed++;
      const message = (error as Error)?.message ?? String(error);
      logger.error("schedule.failed", { job: job.name, msg: message });
      console.log(`${job.name}: failed: ${message}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

async function runForever(
  jobs: ScheduledJob[],
  runner: JobRunner<ScheduledJob>,
  options: ScheduleCommandOptions & { clock: Clock; logger: Logger },
): Promise<number> {
  const stop = new AbortController();
  const removers: (() => void)[] = [];
  if (options.signal) {
    if (options.signal.aborted) stop.abort();
    else options.signal.addEventListener("abort", () => stop.abort(), { once: true });
  } else {
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      const onSignal = () => {
        if (stop.signal.aborted) Deno.exit(130); // a second signal: do not wait
        options.logger.info("schedule.signal", {
          msg: `${name}: stopping after the running jobs (send it again to exit now)`,
        });
        stop.abort();
      };
      try {
        Deno.addSignalListener(name, onSignal);
        removers.push(() => Deno.removeSignalListener(name, onSignal));
      } catch {
        // SIGTERM cannot be listened to on Windows; SIGINT (Ctrl+C) still stops.
      }
    }
  }
  let summary: ScheduleSummary;
  try {
    summary = await runSchedule(jobs, runner, {
      clock: options.clock,
      logger: options.logger,
      signal: stop.signal,
    });
  } finally {
    for (const remove of removers) remove();
  }
  for (const [name, t] of Object.entries(summary.jobs)) {
    console.log(
      `${name}: fired ${t.fired} (${t.succeeded} succeeded, ${t.failed} failed), skipped ${t.skipped} while running`,
    );
  }
  return 0;
}
