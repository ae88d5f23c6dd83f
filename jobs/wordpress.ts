/**
 * `deno task wordpress`: harvests `jobs/wordpress.yaml` — posts, pages and media of a WordPress
 * site, incremental on `modified_gmt`, in the raw-load format under
 * `load_date=/load_time=` folders — into `out/wordpress/`. Serves its own mock WordPress on a
 * free port unless `--base-url URL` or `TIDEMARK_BASE_URL` is given. Other arguments go to
 * `tidemark harvest` (`--full-refresh`, `--since 2024-05-01`, `--if-changed`, ...).
 * @module
 */
import { fileURLToPath } from "node:url";
import { type JobScript, runJobScript } from "../lib/cli/job_script.ts";

/** The WordPress job. */
export const WORDPRESS_JOB: JobScript = {
  name: "wordpress",
  summary: "posts, pages and media of a WordPress site, incremental on modified_gmt",
  config: fileURLToPath(new URL("./wordpress.yaml", import.meta.url)),
  out: "out/wordpress",
  mock: { auth: "bearer", rateLimit: 120, rateWindowMs: 60_000 },
  mockSummary: "WordPress REST with bearer auth, 120 requests/min",
};

if (import.meta.main) Deno.exit(await runJobScript(WORDPRESS_JOB, Deno.args));
