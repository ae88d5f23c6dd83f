/**
 * `deno task timelines`: harvests `jobs/timelines.yaml` — several users' posts,
 * forward from the X watermark, or `--direction backfill` below X_oldest — into
 * `out/timelines/`. Serves its own mock on a free port (10 requests per user per 15-minute
 * window, so a backfill runs out and skips users, taken first next time) unless `--base-url URL`
 * or `TIDEMARK_BASE_URL` is given. Other arguments go to `tidemark harvest`.
 * @module
 */
import { fileURLToPath } from "node:url";
import { type JobScript, runJobScript } from "../lib/cli/job_script.ts";

/** The timelines job. */
export const TIMELINES_JOB: JobScript = {
  name: "timelines",
  summary: "several users' timelines, forward (since_id) or backfill (until_id)",
  config: fileURLToPath(new URL("./timelines.yaml", import.meta.url)),
  out: "out/timelines",
  mock: { auth: "bearer", rateLimit: 10 },
  mockSummary: "timelines with bearer auth, 10 requests per user per 15-minute window",
};

if (import.meta.main) Deno.exit(await runJobScript(TIMELINES_JOB, Deno.args));
