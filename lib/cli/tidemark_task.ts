/**
 * `deno task tidemark <command>`: one task for the whole CLI without one wide grant for all of
 * it. `harvest` goes through the permission launcher (its config's hosts and folders only); the
 * other commands read and write local files, encode Parquet (FFI) and talk to loopback servers
 * (the mock, a local PostgreSQL) and the servers their flags name (see {@link networkOf}), so
 * they get that in a child Deno.
 * @module
 */
import { postgresNetHost } from "../core/postgres_url.ts";
import { HARVEST_V8_FLAGS, launchHarvest, MAIN, type Spawn, spawnDeno } from "./harvest_task.ts";

/**
 * What every command but `harvest` is started with: its permissions, and the V8 flags of this
 * launcher and of a harvest child, so that all the processes of the task share Deno's cache of
 * compiled modules (V8 rejects code cached under other flags, and each would evict the other's).
 */
export const OTHER_COMMAND_FLAGS: readonly string[] = [
  "--unstable-kv",
  "--allow-net=127.0.0.1,localhost",
  "--allow-read",
  "--allow-write",
  "--allow-ffi",
  "--allow-env",
  "--allow-sys",
  HARVEST_V8_FLAGS,
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
  const net = networkOf(command, rest, Deno.env.toObject());
  const flags = OTHER_COMMAND_FLAGS.map((f) => f.startsWith("--allow-net") ? net : f);
  return await spawn(["run", ...flags, MAIN, ...args]);
}

/**
 * The network of a command other than `harvest`: loopback, plus the PostgreSQL server of
 * `--queue URL` or `extract --db URL`, the interface of `serve --host H`, and the object
 * store's endpoint for `--out s3://…` (any host on AWS, whose
 * endpoints vary by region and bucket). A `worker` runs whatever configs its queue hands it, so
 * it cannot be scoped before they arrive: it gets any host.
 *
 * @example
 * ```ts
 * import { networkOf } from "./tidemark_task.ts";
 * networkOf("status", ["--queue", "postgres://etl@db:5432/ops", "r1"], {});
 * // "--allow-net=127.0.0.1,localhost,db:5432"
 * ```
 */
export function networkOf(
  command: string | undefined,
  args: readonly string[],
  env: Record<string, string>,
): string {
  if (command === "worker") return "--allow-net";
  const hosts = ["127.0.0.1", "localhost"];
  const value = (flag: string) => {
    const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (i < 0) return undefined;
    return args[i].includes("=") ? args[i].slice(args[i].indexOf("=") + 1) : args[i + 1];
  };
  for (const flag of ["--queue", "--db"]) {
    const url = value(flag);
    if (url !== undefined && /^postgres(ql)?:\/\//.test(url)) hosts.push(postgresNetHost(url));
  }
  // The mock bound to another interface (`serve --host 127.0.0.2`) listens there.
  const host = command === "serve" ? value("--host") : undefined;
  if (host !== undefined) hosts.push(host.includes(":") ? `[${host}]` : host);
  if (value("--out")?.startsWith("s3://")) {
    const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    if (endpoint === undefined) return "--allow-net";
    hosts.push(new URL(endpoint).host);
  }
  return `--allow-net=${[...new Set(hosts)].join(",")}`;
}
