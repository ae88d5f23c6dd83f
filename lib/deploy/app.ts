/**
 * The HTTP face of a deployment (Hono): health, the jobs with their last run, manual runs behind
 * a bearer token, and run reports read back from the bucket.
 *
 * - `GET /health` → 200
 * - `GET /jobs` → `[{ name, schedule, last_run: { run_id, status, trigger, records, started_at,
 *   finished_at } | null }]`; a job whose config is invalid is listed with its `error`
 * - `POST /jobs/{name}/run` (`Authorization: Bearer $TIDEMARK_ADMIN_TOKEN`) → 202 `{ run_id }`;
 *   401 without the token, 404 for an unknown job, 409 while the job runs
 * - `GET /runs/{run_id}` → the run and the report of its last slice (JSON)
 * - `GET /runs/{run_id}.html` → the HTML report of its last slice
 * @module
 */
import { Hono } from "hono";
import { timingSafeEqual } from "node:crypto";
import type { Bucket } from "../object_store/bucket.ts";
import { getRun, JobBusyError, lastRun, type RunRecord, type Trigger } from "./runs.ts";

/** A job as `/jobs` lists it. */
export interface JobListing {
  /** The job's name. */
  name: string;
  /** Its cron pattern (null when its config could not say). */
  schedule: string | null;
  /** Why it cannot run (an invalid config); absent for a valid job. */
  error?: string;
  /** What it does not do here (derive steps without FFI). */
  warning?: string;
}

/** What the app needs. */
export interface DeployAppOptions {
  /** Every job of the schedule, valid or not. */
  jobs: readonly JobListing[];
  /** The KV database of runs and locks. */
  kv: Deno.Kv;
  /** The bucket folder holding one folder per job. */
  bucket: Bucket;
  /** Starts a run of a valid job (throws `JobBusyError` while it runs). */
  start: (job: string, trigger: Trigger) => Promise<RunRecord>;
  /** The token `POST /jobs/{name}/run` needs; undefined refuses every manual run. */
  adminToken?: string;
}

/**
 * Builds the app.
 *
 * @example
 * ```ts
 * const app = createDeployApp({ jobs, kv, bucket, start: (job, t) => runner.start(job, t), adminToken });
 * Deno.serve({ port: 8000 }, app.fetch);
 * ```
 */
export function createDeployApp(options: DeployAppOptions): Hono {
  const app = new Hono();
  const byName = new Map(options.jobs.map((j) => [j.name, j]));

  app.get("/health", (c) => c.json({ ok: true }));

  app.get("/jobs", async (c) => {
    const listed = [];
    for (const job of options.jobs) {
      const run = job.error ? null : await lastRun(options.kv, job.name);
      listed.push({
        name: job.name,
        schedule: job.schedule,
        last_run: run
          ? {
            run_id: run.run_id,
            status: run.status,
            trigger: run.trigger,
            records: run.records,
            started_at: run.started_at,
            finished_at: run.finished_at,
          }
          : null,
        ...(job.error ? { error: job.error } : {}),
        ...(job.warning ? { warning: job.warning } : {}),
      });
    }
    return c.json(listed);
  });

  app.post("/jobs/:name/run", async (c) => {
    if (!authorized(c.req.header("authorization"), options.adminToken)) {
      return c.json({ error: "a bearer token (TIDEMARK_ADMIN_TOKEN) is required" }, 401);
    }
    const name = c.req.param("name");
    const job = byName.get(name);
    if (!job) return c.json({ error: `no job named ${name}` }, 404);
    if (job.error) return c.json({ error: `job ${name} has an invalid config: ${job.error}` }, 409);
    try {
      const run = await options.start(name, "manual");
      return c.json({ run_id: run.run_id }, 202);
    } catch (error) {
      if (error instanceof JobBusyError) {
        return c.json({ error: error.message, run_id: error.runId }, 409);
      }
      throw error;
    }
  });

  app.get("/runs/:id", async (c) => {
    const id = c.req.param("id");
    const html = id.endsWith(".html");
    const runId = html ? id.slice(0, -".html".length) : id;
    const run = await getRun(options.kv, runId);
    if (!run) return c.json({ error: `no run ${runId}` }, 404);
    const last = run.slices.at(-1)?.run_id ?? run.run_id;
    const folder = options.bucket.child(run.job);
    if (html) {
      const page = await folder.get(`reports/${last}.html`);
      if (!page) return c.text(`run ${runId} has no HTML report (yet)`, 404);
      return c.body(new TextDecoder().decode(page), 200, {
        "content-type": "text/html; charset=utf-8",
      });
    }
    const bytes = await folder.get(`reports/${last}.json`);
    const report = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
    return c.json({ ...run, report });
  });

  return app;
}

function authorized(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header?.startsWith("Bearer ")) return false;
  const given = new TextEncoder().encode(header.slice("Bearer ".length).trim());
  const wanted = new TextEncoder().encode(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
