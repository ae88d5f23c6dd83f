/**
 * `deno task tidemark <command>`: one task for the whole CLI without one wide grant for all of
 * it. `harvest` goes through the permission launcher (its config's hosts and folders only); the
 * other commands read and write local files, encode Parquet (FFI) and talk to loopback servers
 * (the mock, a local PostgreSQL), so they get that in a child Deno.
 * @module
 */
import { launchHarvest, MAIN, type Spawn, spawnDeno } from "./harvest_task.ts";

/** What every command but `harvest` is started with. */
export const OTHER_COMMAND_FLAGS: readonly string[] = [
  "--unstable-kv",
  "--allow-net=127.0.0.1,localhost",
  "--allow-read",
  "--allow-write",
  "--allow-ffi",
  "--allow-env",
  "--allow-sys",
];

/**
 * Runs one `tidemark` command line as the task does; resolves to its exit code.
 *
 * @example
 * ```ts
 * import { runTidemarkTask } from "./tidemark_task.ts";
 * Deno.exit(await runTidemarkTask(["harvest", "--config", "jobs/northwind.yaml"]));
 * ```
 */
export async function runTidemarkTask(args: string[], spawn: Spawn = spawnDeno): Promise<number> {
  const [command, ...rest] = args;
  if (command === "harvest") return await launchHarvest(rest, spawn);
  return await spawn(["run", ...OTHER_COMMAND_FLAGS, MAIN, ...args]);
}
