/**
 * The scheduled jobs of a Deno Deploy deployment: `main.ts` calls {@link registerDeployJobs}
 * while it loads when `DENO_DEPLOYMENT_ID` is set, and each job of the schedule file
 * (`TIDEMARK_SCHEDULE`, default `jobs/schedule.yaml`) is registered with `Deno.cron` — each fire
 * a harvest with change detection (`runJob`). Deploy has no durable disk: configs run there
 * should keep state in Deno KV (`state: { backend: kv }`) and send outputs to object storage
 * (`output.destination: s3://…`).
 * @module
 */
import type { Env } from "../config/load.ts";
import { runJob } from "./scheduled_run.ts";
import { createLogger, type Logger } from "../report/logger.ts";
import { type DenoCronEntry, type DenoCronFunction, registerDenoCron } from "./deploy.ts";
import { loadScheduledJobs, type ScheduledJob } from "./jobs.ts";

/** The schedule file read when `TIDEMARK_SCHEDULE` is not set. */
export const DEFAULT_SCHEDULE = "jobs/schedule.yaml";

/** Options of {@link registerDeployJobs}. */
export interface RegisterDeployJobsOptions {
  /** The schedule file (a jobs file or one config with `schedule:`). @default env.TIDEMARK_SCHEDULE ?? "jobs/schedule.yaml" */
  path?: string;
  /** Environment for `${VAR}` in the configs. @default Deno.env.toObject() */
  env?: Env;
  /** The cron function. @default Deno.cron */
  cron?: DenoCronFunction | null;
  /** Where registration and fire events go. @default createLogger() */
  logger?: Logger;
  /** Runs one fire of a job. @default a scheduled harvest (runJob, change detection on) */
  run?: (job: ScheduledJob, fire: { scheduledAt: Date; signal: AbortSignal }) => Promise<unknown>;
}

/**
 * Loads the deployment's schedule file and registers its jobs with `Deno.cron`.
 *
 * @example
 * ```ts
 * import { registerDeployJobs } from "./deploy_jobs.ts";
 * if (Deno.env.get("DENO_DEPLOYMENT_ID")) await registerDeployJobs();
 * ```
 */
export async function registerDeployJobs(
  options: RegisterDeployJobsOptions = {},
): Promise<DenoCronEntry[]> {
  const env = options.env ?? Deno.env.toObject();
  const path = options.path ?? env.TIDEMARK_SCHEDULE ?? DEFAULT_SCHEDULE;
  const jobs = await loadScheduledJobs(path, { env });
  const run = options.run ??
    ((job: ScheduledJob, fire: { scheduledAt: Date; signal: AbortSignal }) =>
      runJob(job.loaded, {
        assets: job.assets,
        extract: job.extract,
        signal: fire.signal,
        trigger: "deno.cron",
        scheduledAt: fire.scheduledAt,
      }));
  return registerDenoCron(jobs, run, {
    cron: options.cron,
    logger: options.logger ?? createLogger(),
  });
}
