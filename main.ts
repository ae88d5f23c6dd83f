/**
 * `tidemark` — the command-line interface. It only parses, dispatches and prints: each command
 * lives in `lib/cli/<command>.ts` and is loaded on demand, so `tidemark serve` never loads
 * Parquet support and each command needs only its own permissions.
 * @module
 */
import type { Command } from "./lib/cli/args.ts";
import { runCommand } from "./lib/cli/run_command.ts";
import { VERSION } from "./lib/core/version.ts";

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  harvest: {
    summary: "harvest a REST API to Parquet with snapshots, manifest and state",
    load: () => import("./lib/cli/harvest.ts"),
  },
  extract: {
    summary: "extract a SQL query (SQLite or PostgreSQL) to partitioned Parquet",
    load: () => import("./lib/cli/extract.ts"),
  },
  serve: {
    summary: "serve the mock API (Northwind, WordPress, timelines)",
    load: () => import("./lib/cli/serve.ts"),
  },
  generate: {
    summary: "generate a deterministic Northwind SQLite database",
    load: () => import("./lib/cli/generate.ts"),
  },
  verify: {
    summary: "re-hash every snapshot against the manifest and check outputs",
    load: () => import("./lib/cli/verify.ts"),
  },
  replay: {
    summary: "rebuild outputs from the raw snapshots alone, offline",
    load: () => import("./lib/cli/replay.ts"),
  },
  state: {
    summary: "list or reset watermarks, runs and skips",
    load: () => import("./lib/cli/state.ts"),
  },
  report: {
    summary: "print a run report (text, JSON or HTML)",
    load: () => import("./lib/cli/report.ts"),
  },
  schedule: {
    summary: "run the jobs of a config on their cron schedules",
    load: () => import("./lib/cli/schedule.ts"),
  },
  worker: {
    summary: "take units of queued harvests (PostgreSQL job queue) until stopped",
    load: () => import("./lib/cli/worker.ts"),
  },
  status: {
    summary: "show the units of a queued harvest",
    load: () => import("./lib/cli/status.ts"),
  },
  contract: {
    summary: "infer a zod contract from harvested data",
    load: () => import("./lib/cli/contract.ts"),
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  return [
    `tidemark ${VERSION} — resilient, provenanced harvesting of REST APIs and SQL databases`,
    "",
    "Usage: tidemark <command> [options]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    "",
    "Run 'tidemark <command> --help' for a command's options.",
  ].join("\n");
}

/** Runs the CLI with `args` and resolves to the process exit code. */
export async function runCli(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    console.log(`tidemark ${VERSION}`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(
      `tidemark: unknown command "${name}"; accepted: ${Object.keys(COMMANDS).join(", ")}`,
    );
    return 2;
  }
  const { command } = await entry.load();
  return await runCommand(name, command, rest);
}

// On Deno Deploy a project whose entry is main.ts gets what deploy.ts is: its crons register
// while this module loads (Deploy discovers them at that moment) and its app serves. Printing
// the CLI's help and exiting there was a deployment that did nothing.
const onDeploy = Deno.permissions.querySync({ name: "env", variable: "DENO_DEPLOYMENT_ID" })
      .state === "granted" && Boolean(Deno.env.get("DENO_DEPLOYMENT_ID"));
if (onDeploy && import.meta.main) {
  await import("./deploy.ts");
} else if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
