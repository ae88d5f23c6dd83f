/**
 * `deno task northwind`: harvests `jobs/northwind.yaml` — Orders (incremental on OrderDate,
 * Parquet partitioned by ShipCountry) and "Order Details" — from the mock API (`deno task mock`,
 * or any Datasette serving Northwind at `TIDEMARK_BASE_URL`) into `out/northwind/`. Extra
 * arguments go to `tidemark harvest` (`--out DIR`, `--asset Orders`, `--full-refresh`, ...).
 * @module
 */
import { fileURLToPath } from "node:url";
import { runCli } from "../main.ts";

const CONFIG = fileURLToPath(new URL("./northwind.yaml", import.meta.url));

if (import.meta.main) {
  const args = Deno.args.includes("--out") ? Deno.args : ["--out", "out/northwind", ...Deno.args];
  Deno.exit(await runCli(["harvest", "--config", CONFIG, ...args]));
}
