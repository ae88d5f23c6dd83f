/**
 * `deno task schedule`: `tidemark schedule` with network to exactly the hosts its jobs name — the
 * union of every job's harvest hosts (`base_url`, token/login URLs, S3 endpoints, a PostgreSQL
 * state's server) and the PostgreSQL servers of its `extract:` steps. Files stay unscoped: jobs write their own out
 * folders, and replace/merge assets switch folders with `Deno.symlink`, which Deno allows only
 * with unscoped read and write. `--show-permissions` prints the command and runs nothing.
 * @module
 */
import { TidemarkError, UsageError } from "../core/errors.ts";
import { loadScheduledJobs } from "../schedule/jobs.ts";
import { isPostgresUrl, postgresNetHost } from "../core/postgres_url.ts";
import {
  HARVEST_V8_FLAGS,
  harvestPermissions,
  MAIN,
  SHOW_PERMISSIONS,
  type Spawn,
  spawnDeno,
} from "./harvest_task.ts";

/**
 * The `deno run` flags of `tidemark schedule --config FILE …`: the jobs' hosts, or unscoped
 * network when one of them cannot be scoped (an S3 destination on AWS itself).
 */
export async function schedulePermissions(args: string[]): Promise<string[]> {
  const at = args.indexOf("--config");
  const path = at >= 0 ? args[at + 1] : args.find((a) => a.startsWith("--config="))?.slice(9);
  if (path === undefined) throw new UsageError("give the jobs with --config FILE (see --help)");
  const jobs = await loadScheduledJobs(path);
  let net: Set<string> | null = new Set();
  for (const job of jobs) {
    const config = job.loaded.config;
    const harvest = harvestPermissions({
      loaded: job.loaded,
      options: { out: config.out ?? "out", assets: job.assets },
      quiet: false,
      dryRun: false,
    });
    if (harvest.net === null) net = null;
    else for (const host of harvest.net) net?.add(host);
    for (const step of job.extract ? config.extract ?? [] : []) {
      if (isPostgresUrl(step.db)) net?.add(postgresNetHost(step.db));
    }
  }
  return [
    ...(net === null ? ["--allow-net"] : net.size > 0 ? [`--allow-net=${[...net].join(",")}`] : []),
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-ffi",
    "--allow-sys",
    "--unstable-kv",
    // The harvests run in this child: their V8 flags, which the task's launcher shares (one
    // cached compilation per module, rejected under other flags).
    HARVEST_V8_FLAGS,
  ];
}

/** The launcher: reads the jobs, then runs `main.ts schedule` with their hosts. */
export async function launchSchedule(args: string[], spawn: Spawn = spawnDeno): Promise<number> {
  const show = args.includes(SHOW_PERMISSIONS);
  const rest = args.filter((a) => a !== SHOW_PERMISSIONS);
  if (rest.includes("--help") || rest.includes("-h")) {
    return await spawn(["run", "--allow-read", "--allow-env", MAIN, "schedule", "--help"]);
  }
  let flags: string[];
  try {
    flags = await schedulePermissions(rest);
  } catch (error) {
    if (error instanceof TidemarkError) {
      console.error(`tidemark schedule: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
  if (show) {
    console.log(`deno run ${flags.join(" ")} ${MAIN} schedule ${rest.join(" ")}`);
    return 0;
  }
  return await spawn(["run", ...flags, MAIN, "schedule", ...rest]);
}
