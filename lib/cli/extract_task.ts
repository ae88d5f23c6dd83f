/**
 * `deno task extract`: `tidemark extract` with the permissions its flags name — network to the
 * PostgreSQL server of a `postgres://` URL (none for a SQLite file), read of the database file,
 * the query file and Tidemark's code, write of `--out`. A full extraction replaces the asset's
 * previous one by switching folders with `Deno.symlink`, which Deno allows only with unscoped read
 * and write; an incremental one (`--incremental-column`, appended, unless `--replace`) is scoped
 * to those folders. It runs `extract_main.ts`, the command's own entry point, rather than
 * main.ts (see there why). `--show-permissions` prints the command and runs nothing.
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TidemarkError, UsageError } from "../core/errors.ts";
import { booleanFlag, parseFlags, stringFlag } from "./args.ts";
import { spec } from "./extract_args.ts";
import { isPostgresUrl, postgresNetHost } from "../core/postgres_url.ts";
import { MAIN, SHOW_PERMISSIONS, type Spawn, spawnDeno } from "./harvest_task.ts";
import { npmReadFolders } from "./npm_folder.ts";

/** The extract command's own entry point (`extract_main.ts`), which starts faster than main.ts. */
export const EXTRACT_MAIN: string = fileURLToPath(new URL("./extract_main.ts", import.meta.url));

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The V8 flags the extract child runs with (GC between chunks, small young space). The task's own
 * launcher runs with them too (deno.json): Deno's cache of compiled modules holds one entry per
 * module, which V8 rejects under other flags, so a launcher without them would have the child
 * compile and cache again the modules they share, every run.
 */
export const EXTRACT_V8_FLAGS = "--v8-flags=--expose-gc,--max-semi-space-size=4";

/**
 * The `deno run` flags of one `extract` command line.
 *
 * @example
 * ```ts
 * import { extractPermissions } from "./extract_task.ts";
 * extractPermissions(["--db", "postgres://etl@db.example.org/shop", "--query", "SELECT 1", "--out", "out"]);
 * // [ "--allow-net=db.example.org:5432", "--allow-read", "--allow-write", ... ]
 * ```
 */
export function extractPermissions(args: string[]): { flags: string[]; notes: string[] } {
  const flags = parseFlags(spec, args);
  const db = stringFlag(flags, "db");
  const out = stringFlag(flags, "out");
  if (db === undefined || out === undefined) {
    throw new UsageError("give --db FILE|postgres://URL and --out DIR (see --help)");
  }
  const notes: string[] = [];
  const net: string[] = [];
  const read = [resolve(out), join(ROOT, "lib"), ...npmReadFolders()];
  if (isPostgresUrl(db)) {
    net.push(postgresNetHost(db));
  } else {
    const file = resolve(db);
    read.push(file, dirname(file));
  }
  const queryFile = stringFlag(flags, "query-file");
  if (queryFile !== undefined) read.push(resolve(queryFile));
  const appends = stringFlag(flags, "incremental-column") !== undefined &&
    !booleanFlag(flags, "replace");
  if (!appends) {
    notes.push(
      "read and write not scoped: a full extraction replaces the previous one by switching " +
        "folders with Deno.symlink, which Deno allows only with unscoped read and write",
    );
  }
  return {
    flags: [
      ...(net.length > 0 ? [`--allow-net=${net.join(",")}`] : []),
      appends ? `--allow-read=${read.join(",")}` : "--allow-read",
      appends ? `--allow-write=${resolve(out)}` : "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      EXTRACT_V8_FLAGS,
    ],
    notes,
  };
}

/** The launcher: checks the command line, then runs `main.ts extract` with its permissions. */
export async function launchExtract(args: string[], spawn: Spawn = spawnDeno): Promise<number> {
  const show = args.includes(SHOW_PERMISSIONS);
  const rest = args.filter((a) => a !== SHOW_PERMISSIONS);
  if (rest.includes("--help") || rest.includes("-h")) {
    return await spawn(["run", "--allow-read", MAIN, "extract", "--help"]);
  }
  let permissions: { flags: string[]; notes: string[] };
  try {
    permissions = extractPermissions(rest);
  } catch (error) {
    if (error instanceof TidemarkError) {
      console.error(`tidemark extract: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
  for (const note of permissions.notes) console.error(`tidemark extract: ${note}`);
  if (show) {
    console.log(`deno run ${permissions.flags.join(" ")} ${EXTRACT_MAIN} ${rest.join(" ")}`);
    return 0;
  }
  return await spawn(["run", ...permissions.flags, EXTRACT_MAIN, ...rest]);
}
