/**
 * `deno task harvest`: runs `tidemark harvest` with only the permissions its config needs. The
 * task starts this launcher (read, env and run permissions only), which reads the command line
 * and the config exactly as the command does — a bad one fails here, exit 2, before anything
 * runs — works out the run's permissions, and starts the harvest (`harvest_main.ts`) in a child
 * Deno with them:
 *
 * - network: the hosts of `base_url` (or `--base-url`), of absolute asset paths and of the
 *   token or login URL; an object-storage destination adds its endpoint, a PostgreSQL state
 *   (`state.path: postgres://…`) its server, and so does a `--queue postgres://…`;
 * - read and write: the out folder, the state file's and the log file's folders, a folder
 *   destination; read also the config file and Tidemark's own code (`lib/` for its worker
 *   threads, Deno's npm package folder for the Parquet addon);
 * - env, ffi and sys as the Parquet library needs them; `--unstable-kv` for a Deno KV state.
 *
 * Two cases cannot be scoped and say so on stderr: an asset written in `replace` or `merge`
 * mode, or a `derive:` step, switch folders with `Deno.symlink`, which Deno allows only with
 * unscoped read and write; an S3 destination on AWS itself (no endpoint) has no single host.
 * `--show-permissions` prints the command with its flags, and runs nothing.
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeModeOf } from "../config/schema.ts";
import { TidemarkError } from "../core/errors.ts";
import { parseDestination } from "../object_store/destination.ts";
import { stateLocation } from "../state/mod.ts";
import { postgresNetHost } from "../core/postgres_url.ts";
import { takeQueueFlags } from "./queue_flags.ts";
import { npmReadFolders } from "./npm_folder.ts";
import { formatHelp } from "./args.ts";
import { type HarvestInvocation, parseHarvestArgs, spec } from "./harvest_args.ts";

/** The flag the launcher takes for itself (removed before the command sees the arguments). */
export const SHOW_PERMISSIONS = "--show-permissions";

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The CLI entry the launchers start. */
export const MAIN: string = join(PROJECT_ROOT, "main.ts");

/** The harvest command's own entry point (`harvest_main.ts`), which starts faster than main.ts. */
export const HARVEST_MAIN: string = join(PROJECT_ROOT, "lib", "cli", "harvest_main.ts");

/**
 * The V8 flags every harvest child runs with. Neither is a limit (a 256 MB body still fits):
 * - `--max-semi-space-size=4`: what a harvest allocates is garbage within a page or two (a
 *   staged page keeps its rows as column vectors, off the young space), so a young space that
 *   holds a few pages' parsing collects each page's records about once; 4 MB halves the
 *   scavenges of 2 MB (about a quarter less time in them, same peak memory) and saves the
 *   ~30–45 MB the default lets it grow to. 1 MB made start-up (loading the modules) ~0.1 s
 *   slower in CPU: its many more scavenges promote what module evaluation allocates.
 * - `--heap-growing-percent=50`: V8 otherwise lets the old space grow up to 4× what survived the
 *   last full collection before the next one, and a harvest's garbage (parsed pages, batches
 *   already written) sat there as peak memory; 1.5× keeps its heap near its live size for about
 *   0.1 s more CPU (incremental marking, mostly off this thread) on an 83 000-row run.
 *
 * The tasks that start a harvest child (`harvest`, `tidemark`, `mock`, the job scripts) run their
 * own process with the same flags (deno.json): Deno's cache of compiled modules holds one entry
 * per module, which V8 rejects under other flags, so a launcher with other flags would have the
 * child compile the ~40 modules they share again, and cache them again, every run.
 */
export const HARVEST_V8_FLAGS = "--v8-flags=--max-semi-space-size=4,--heap-growing-percent=50";

/** The permissions of one harvest run. */
export interface HarvestPermissions {
  /** `deno run` flags, in order. */
  flags: string[];
  /** Hosts the run may reach (`host` or `host:port`), or null for any. */
  net: string[] | null;
  /** Paths the run may read, or null for any. */
  read: string[] | null;
  /** Paths the run may write, or null for any. */
  write: string[] | null;
  /** Why a permission could not be scoped, one line each. */
  notes: string[];
}

/**
 * The permissions a harvest needs, from its checked command line.
 *
 * @example
 * ```ts ignore
 * import { parseHarvestArgs } from "./harvest_args.ts";
 * import { harvestPermissions } from "./harvest_task.ts";
 * const invocation = await parseHarvestArgs(["--config", "jobs/northwind.yaml", "--out", "out"]);
 * harvestPermissions(invocation).flags;
 * // ["--allow-net=127.0.0.1:9000", "--allow-read=…/out,…", "--allow-write=…/out", …]
 * ```
 */
export function harvestPermissions(
  invocation: HarvestInvocation,
  options: {
    env?: Record<string, string>;
    projectRoot?: string;
    /** `--queue URL` of a queued harvest: its server is reached too. */
    queue?: string;
  } = {},
): HarvestPermissions {
  const { loaded, options: run } = invocation;
  const config = loaded.config;
  const env = options.env ?? Deno.env.toObject();
  const root = options.projectRoot ?? PROJECT_ROOT;
  const notes: string[] = [];
  // A queued run into object storage: its workers write the bucket, this process only enqueues.
  const bucketOut = options.queue !== undefined &&
    (run.out ?? config.out ?? "").startsWith("s3://");
  const out = resolve(run.out ?? config.out ?? "out");
  const assets = run.assets?.length
    ? config.assets.filter((a) => run.assets!.includes(a.name))
    : config.assets;

  let net: Set<string> | null = new Set();
  const base = run.baseUrl ?? config.base_url;
  const addHost = (url: string) => {
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(url);
    if (!absolute && base === undefined) return;
    net?.add(new URL(url, base).host);
  };
  if (base !== undefined) addHost(base);
  for (const asset of assets) addHost(asset.path);
  if (config.auth.type === "oauth2") addHost(config.auth.token_url);
  if (config.auth.type === "login") {
    addHost(config.auth.login_url);
    if (config.auth.refresh_url !== undefined) addHost(config.auth.refresh_url);
  }

  const write = new Set(bucketOut ? [] : [out]);
  const read = new Set([...write, join(root, "lib"), ...npmReadFolders()]);
  if (invocation.configPath !== undefined) read.add(resolve(invocation.configPath));
  if (run.logFile) write.add(dirname(resolve(run.logFile.path)));
  const state = bucketOut ? undefined : stateLocation(config.state, { out });
  if (state?.backend === "postgres") net?.add(postgresNetHost(state.path!));
  else if (state?.path !== undefined) write.add(dirname(resolve(state.path)));
  if (options.queue !== undefined) net?.add(postgresNetHost(options.queue));
  for (const asset of assets) {
    const destination = asset.output.destination;
    if (destination === undefined) continue;
    const parsed = parseDestination(destination, { env });
    if (parsed.kind === "local") write.add(parsed.root);
    else if (parsed.endpoint !== undefined) net?.add(new URL(parsed.endpoint).host);
    else {
      net = null;
      notes.push(
        `network not scoped: ${asset.name} uploads to ${parsed.url} on AWS, which has no single ` +
          "host (set S3_ENDPOINT to scope it)",
      );
    }
  }
  for (const path of write) read.add(path);

  const switching = assets.filter((a) => writeModeOf(a).mode !== "append").map((a) => a.name);
  const derived = (config.derive ?? []).map((d) => d.name);
  let scopedFiles = true;
  if (switching.length > 0 || derived.length > 0) {
    scopedFiles = false;
    notes.push(
      `read and write not scoped: ${
        [
          ...switching.map((n) => `${n} (output.mode replace/merge)`),
          ...derived.map((n) => `${n} (derive)`),
        ].join(", ")
      } switch folders with Deno.symlink, which Deno allows only with unscoped read and write`,
    );
  }

  const flags = [
    // No host at all (a config that asks nothing of the network) grants none: `--allow-net=`
    // with an empty list is not a safe way to say so.
    ...(net === null ? ["--allow-net"] : net.size > 0 ? [`--allow-net=${[...net].join(",")}`] : []),
    scopedFiles ? `--allow-read=${[...read].join(",")}` : "--allow-read",
    scopedFiles ? `--allow-write=${[...write].join(",")}` : "--allow-write",
    "--allow-env",
    "--allow-ffi",
    "--allow-sys",
    ...(state?.backend === "kv" ? ["--unstable-kv"] : []),
  ];
  return {
    flags,
    net: net === null ? null : [...net],
    read: scopedFiles ? [...read] : null,
    write: scopedFiles ? [...write] : null,
    notes,
  };
}

/** How {@link launchHarvest} starts the child (tests replace it). */
export type Spawn = (args: string[]) => Promise<number>;

/** Starts `deno <args>` with this process's standard streams, forwarding SIGINT and SIGTERM. */
export const spawnDeno: Spawn = async (args) => {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const forward = (signal: Deno.Signal) => () => {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  };
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  try {
    return (await child.status).code;
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
  }
};

/**
 * The launcher: checks the command line, works out the permissions and runs the harvest
 * (`harvest_main.ts`) with them; resolves to its exit code (2 for a bad command line, which
 * never starts it).
 */
export async function launchHarvest(args: string[], spawn: Spawn = spawnDeno): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(formatHelp(spec));
    console.log(
      `\nAs a deno task, the run gets only the permissions its config needs; ${SHOW_PERMISSIONS}\n` +
        "prints them and runs nothing.",
    );
    return 0;
  }
  const show = args.includes(SHOW_PERMISSIONS);
  const rest = args.filter((a) => a !== SHOW_PERMISSIONS);
  let permissions: HarvestPermissions;
  try {
    permissions = harvestPermissions(await parseHarvestArgs(rest), {
      queue: takeQueueFlags(rest).flags.queue,
    });
  } catch (error) {
    if (error instanceof TidemarkError) {
      console.error(`tidemark harvest: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
  for (const note of permissions.notes) console.error(`tidemark harvest: ${note}`);
  if (show) {
    // Only the answer to "what would it get": nothing is started, nothing is sent.
    console.log(
      `deno run ${permissions.flags.join(" ")} ${HARVEST_V8_FLAGS} ${HARVEST_MAIN} ${
        rest.join(" ")
      }`,
    );
    return 0;
  }
  return await spawn(["run", ...permissions.flags, HARVEST_V8_FLAGS, HARVEST_MAIN, ...rest]);
}
