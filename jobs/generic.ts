/**
 * `deno task generic`: runs `jobs/generic.yaml` — a two-step pipeline: customers, then
 * each customer's orders with parameters taken from the customers' records (`for_each`, ten ids
 * per request), shaped by `transform:` (flattened columns, or the ELT `raw_data` form with
 * `key_fields` and `add_fields`) — into `out/generic/`. Serves its own mock unless `--base-url
 * URL` or `TIDEMARK_BASE_URL` is given; other arguments go to `tidemark harvest`.
 * @module
 */
import { fileURLToPath } from "node:url";
import { type JobScript, runJobScript } from "../lib/cli/job_script.ts";

/** The generic multi-step job. */
export const GENERIC_JOB: JobScript = {
  name: "generic",
  summary: "customers, then each customer's orders (for_each, batches of 10 ids)",
  config: fileURLToPath(new URL("./generic.yaml", import.meta.url)),
  out: "out/generic",
  mock: { auth: "bearer", rateLimit: 600, rateWindowMs: 60_000 },
  mockSummary: "Northwind with bearer auth, 600 requests/min",
};

if (import.meta.main) Deno.exit(await runJobScript(GENERIC_JOB, Deno.args));
