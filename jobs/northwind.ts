/**
 * `deno task northwind`: harvests `jobs/northwind.yaml` — Orders (incremental on OrderDate,
 * Parquet partitioned by ShipCountry), "Order Details" and the derived `line_items` —
 * into `out/northwind/`. Serves its own mock Northwind (bearer auth, a proxy's 60
 * requests/min) on a free port unless `--base-url URL` or `TIDEMARK_BASE_URL` is given (e.g.
 * `deno task mock` in another terminal and `--base-url http://127.0.0.1:9000`). Other arguments
 * go to `tidemark harvest` (`--asset Orders`, `--full-refresh`, `--if-changed`, ...).
 * @module
 */
import { fileURLToPath } from "node:url";
import { type JobScript, runJobScript } from "../lib/cli/job_script.ts";

/** The Northwind job. */
export const NORTHWIND_JOB: JobScript = {
  name: "northwind",
  summary: "Orders, Order Details and line_items from the Datasette-style API",
  config: fileURLToPath(new URL("./northwind.yaml", import.meta.url)),
  out: "out/northwind",
  mock: { auth: "bearer", rateLimit: 60, rateWindowMs: 60_000 },
  mockSummary: "Northwind behind bearer auth, 60 requests/min",
};

if (import.meta.main) Deno.exit(await runJobScript(NORTHWIND_JOB, Deno.args));
