/**
 * A deployment, assembled from the environment: settings, the jobs of the schedule file (an
 * invalid one listed with its error, the others served), the bucket, Deno KV, the runner, the
 * HTTP app, the crons and the queue listener. `deploy.ts` calls these at its top level.
 *
 * | variable | meaning |
 * | --- | --- |
 * | `TIDEMARK_SCHEDULE` | jobs file (default `jobs/schedule.yaml`) |
 * | `TIDEMARK_OUT` | `s3://BUCKET/PREFIX`: each job writes under `PREFIX/<job>/` |
 * | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` | the bucket |
 * | `TIDEMARK_KV` | KV path or URL (default: the platform's database; deploy:local sets `.deploy/state.kv`, the one file it may write) |
 * | `TIDEMARK_ADMIN_TOKEN` | bearer token of `POST /jobs/{name}/run` |
 * | `TIDEMARK_SLICE_SECONDS` | time a slice harvests before handing over (default 50) |
 * | `PORT` | HTTP port (default 8000) |
 * @module
 */
import type { Hono } from "hono";
import type { Env } from "../config/load.ts";
import { ConfigError } from "../core/errors.ts";
import type { FetchFunction } from "../http/fetch_resilient.ts";
import { createLogger, type LogOutput } from "../report/logger.ts";
import { type DenoCronEntry, type DenoCronFunction, registerDenoCron } from "../schedule/deploy.ts";
import { loadJobEntries, type ScheduledJob } from "../schedule/jobs.ts";
import { createDeployApp, type JobListing } from "./app.ts";
import { type Bucket, openBucket } from "../object_store/bucket.ts";
import { DeployRunner } from "./runner.ts";
import { parquetEngine } from "../sinks/ffi.ts";
import { JobBusyError, resumeUnfinished } from "./runs.ts";

/** The schedule read when `TIDEMARK_SCHEDULE` is not set. */
export const DEFAULT_SCHEDULE = "jobs/schedule.yaml";

/** Settings read from the environment (see the module doc). */
export interface DeploySettings {
  /** Jobs file. */
  schedule: string;
  /** `s3://BUCKET/PREFIX`. */
  out: string;
  /** KV path or URL; undefined for the default database. */
  kvPath?: string;
  /** Token of manual runs. */
  adminToken?: string;
  /** Slice budget, ms. */
  sliceMs: number;
  /** HTTP port. */
  port: number;
}

/**
 * Reads the settings; throws a one-line {@link ConfigError} naming a missing or bad variable
 * (`TIDEMARK_OUT`, `AWS_ACCESS_KEY_ID`, …) before anything starts.
 */
export function readSettings(env: Env): DeploySettings {
  const fail = (path: string, message: string): never => {
    throw new ConfigError(`${path}: ${message}`, []);
  };
  const out = env.TIDEMARK_OUT?.trim() ||
    fail("TIDEMARK_OUT", "is not set; set it to s3://BUCKET/PREFIX (outputs go to the bucket)");
  const slice = Number(env.TIDEMARK_SLICE_SECONDS ?? "50");
  if (!(slice > 0)) fail("TIDEMARK_SLICE_SECONDS", `expected seconds > 0, got ${slice}`);
  const port = Number(env.PORT ?? "8000");
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail("PORT", `expected a port number, got ${env.PORT}`);
  }
  return {
    schedule: env.TIDEMARK_SCHEDULE?.trim() || DEFAULT_SCHEDULE,
    out,
    ...(env.TIDEMARK_KV?.trim() ? { kvPath: env.TIDEMARK_KV.trim() } : {}),
    ...(env.TIDEMARK_ADMIN_TOKEN ? { adminToken: env.TIDEMARK_ADMIN_TOKEN } : {}),
    sliceMs: slice * 1000,
    port,
  };
}

/** Options of {@link prepareDeployment} (tests inject what the environment would give). */
export interface PrepareOptions {
  /** The environment. @default Deno.env.toObject() */
  env?: Env;
  /** An open KV database (tests). @default Deno.openKv(TIDEMARK_KV) */
  kv?: Deno.Kv;
  /** A bucket (tests). @default openBucket(TIDEMARK_OUT) */
  bucket?: Bucket;
  /** Transport of the harvests. @default fetch */
  fetch?: FetchFunction;
  /** Log output; null for none. @default stderr */
  logOutput?: LogOutput | null;
  /** Lease of job locks, ms. @default 30_000 */
  leaseMs?: number;
}

/** An assembled deployment. */
export interface Deployment {
  /** Its settings. */
  settings: DeploySettings;
  /** Every job of the schedule, as `/jobs` lists them. */
  listings: JobListing[];
  /** The valid jobs. */
  jobs: Map<string, ScheduledJob>;
  /** The HTTP app. */
  app: Hono;
  /** Starts runs, works slices. */
  runner: DeployRunner;
  /** The KV database. */
  kv: Deno.Kv;
  /** The bucket folder. */
  bucket: Bucket;
  /** Registers one `Deno.cron` per valid job (call it at the module's top level). */
  registerCrons(cron?: DenoCronFunction | null): DenoCronEntry[];
  /** Listens to the KV queue, and re-enqueues runs a killed isolate left unfinished. */
  listen(): Promise<void>;
  /** Closes KV and the bucket. */
  close(): void;
}

/**
 * Opens the KV database; a file it may not write (deploy:local grants write permission on that
 * one file only) or whose folder is missing is a {@link ConfigError} naming `TIDEMARK_KV`.
 */
async function openKv(path: string | undefined): Promise<Deno.Kv> {
  try {
    return await Deno.openKv(path);
  } catch (error) {
    if (path === undefined || path.includes("://")) throw error;
    throw new ConfigError(
      `TIDEMARK_KV: cannot open ${path} (${(error as Error).message.split("\n")[0]}); ` +
        `its folder must exist and the process needs --allow-write=${path}, its only writable file`,
      [],
    );
  }
}

/**
 * Reads the settings and the schedule and opens KV and the bucket.
 *
 * @example
 * ```ts
 * const deployment = await prepareDeployment();
 * deployment.registerCrons();
 * Deno.serve({ port: deployment.settings.port }, deployment.app.fetch);
 * await deployment.listen();
 * ```
 */
export async function prepareDeployment(options: PrepareOptions = {}): Promise<Deployment> {
  const env = options.env ?? Deno.env.toObject();
  const settings = readSettings(env);
  const bucket = options.bucket ?? openBucket(settings.out, env);
  const log = createLogger({ format: "json", output: options.logOutput });
  const entries = await loadJobEntries(settings.schedule, { env });
  const { listings, jobs } = jobsOfEntries(entries, log);
  const kv = options.kv ?? await openKv(settings.kvPath);
  const runner = new DeployRunner({
    kv,
    kvPath: settings.kvPath,
    bucket,
    jobs,
    sliceMs: settings.sliceMs,
    leaseMs: options.leaseMs,
    env,
    fetch: options.fetch,
    logOutput: options.logOutput,
  });
  const app = createDeployApp({
    jobs: listings,
    kv,
    bucket,
    start: (job, trigger) => runner.start(job, trigger),
    adminToken: settings.adminToken,
  });
  return {
    settings,
    listings,
    jobs,
    app,
    runner,
    kv,
    bucket,
    registerCrons(cron) {
      return registerDenoCron([...jobs.values()], async (job) => {
        try {
          await runner.start(job.name, "cron");
        } catch (error) {
          if (!(error instanceof JobBusyError)) throw error;
          log.warn("deploy.cron_busy", { job: job.name, msg: `skipped: ${error.message}` });
        }
      }, { cron, logger: log });
    },
    async listen() {
      const listening = kv.listenQueue((message) => runner.handle(message));
      const resumed = await resumeUnfinished(kv, [...jobs.keys()]);
      if (resumed.length > 0) {
        log.warn("deploy.resume", { msg: `unfinished run(s) ${resumed.join(", ")} resume` });
      }
      await listening;
    },
    close() {
      kv.close();
      bucket.close();
    },
  };
}

/**
 * The jobs a deployment runs, and how `/jobs` lists each: an invalid config is listed with its
 * error (the others still run); `derive:` steps, which need polars and so FFI, are dropped with a
 * warning where FFI is absent.
 */
function jobsOfEntries(
  entries: Awaited<ReturnType<typeof loadJobEntries>>,
  log: ReturnType<typeof createLogger>,
): { listings: JobListing[]; jobs: Map<string, ScheduledJob> } {
  const listings: JobListing[] = [];
  const jobs = new Map<string, ScheduledJob>();
  for (const entry of entries) {
    if (!entry.ok) {
      listings.push({ name: entry.name, schedule: entry.schedule, error: entry.error });
      log.error("deploy.job_invalid", { job: entry.name, msg: entry.error });
      continue;
    }
    for (const job of entry.jobs) {
      const derive = job.loaded.config.derive ?? [];
      if (derive.length > 0 && parquetEngine() !== "polars") {
        // Derive steps join and compute on polars, which needs FFI: the job harvests its
        // assets and says, in /jobs, which steps it does not run here.
        const warning = `derive step(s) ${
          derive.map((d) => d.name).join(", ")
        } need FFI (polars) and are not run on this platform`;
        jobs.set(job.name, {
          ...job,
          loaded: { ...job.loaded, config: { ...job.loaded.config, derive: undefined } },
        });
        listings.push({ name: job.name, schedule: job.schedule, warning });
      } else {
        jobs.set(job.name, job);
        listings.push({ name: job.name, schedule: job.schedule });
      }
    }
  }
  return { listings, jobs };
}
