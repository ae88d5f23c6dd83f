/**
 * A throwaway PostgreSQL server, the database beside the mock API for tests, demos and the
 * reliability suites. Debian's PostgreSQL (`/usr/lib/postgresql/N/bin`)
 * is initialised on a temporary data folder with a password, started on a free port of
 * 127.0.0.1 (as the `postgres` user when the tests run as root), loaded with the same Northwind
 * data as the SQLite fixture, and stopped and removed afterwards. When PostgreSQL is not
 * installed, {@link postgresUnavailable} says why and the tests are skipped.
 *
 * Tables keep Northwind's names and mixed-case columns (quoted), with the SQLite declared types
 * mapped: INTEGER → bigint, REAL → double precision, NUMERIC → numeric, and TEXT/DATETIME →
 * text, so the data (and its text dates) are the same on both databases.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import pg from "pg";

/** A running server. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/northwind` (no password: it is in {@link password}). */
  url: string;
  /** The superuser's password (pass it as PGPASSWORD). */
  password: string;
  /** Port on 127.0.0.1. */
  port: number;
  /** Which server ran, e.g. `PostgreSQL 15 (/usr/lib/postgresql/15/bin)`. */
  label: string;
  /** Stops the server and removes its data folder. */
  stop(): Promise<void>;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresUnavailable(): string | undefined {
  if (binDir() === undefined) {
    return "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); " +
      "run .ci/run as root or `apt-get install postgresql` to run these tests";
  }
  if (Deno.uid() === 0 && !hasPostgresUser()) {
    return "running as root but there is no `postgres` user to run the server as";
  }
  return undefined;
}

function binDir(): string | undefined {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((e) => e.name)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const dir = `/usr/lib/postgresql/${version}/bin`;
      try {
        Deno.statSync(`${dir}/initdb`);
        return dir;
      } catch {
        // try the next version
      }
    }
  } catch {
    // not installed
  }
  return undefined;
}

function hasPostgresUser(): boolean {
  try {
    return /^postgres:/m.test(Deno.readTextFileSync("/etc/passwd"));
  } catch {
    return false;
  }
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

/** Runs a server binary, as `postgres` when we are root; throws with its output on failure. */
async function runBin(args: string[]): Promise<void> {
  const command = Deno.uid() === 0
    ? new Deno.Command("su", { args: ["postgres", "-c", args.map(shellQuote).join(" ")] })
    : new Deno.Command(args[0], { args: args.slice(1) });
  const result = await command.output();
  if (!result.success) {
    const text = new TextDecoder().decode(result.stderr) + new TextDecoder().decode(result.stdout);
    throw new Error(`${args[0].split("/").pop()} failed: ${text.trim().slice(0, 800)}`);
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts a server loaded with the Northwind tables of the SQLite file `northwindDb` (without it,
 * the `northwind` database is created empty: the state store's tests need no data).
 *
 * @example
 * ```ts
 * const server = await startPostgres(await northwindDb());
 * try { ... } finally { await server.stop(); }
 * ```
 */
export async function startPostgres(northwindDb?: string): Promise<PostgresServer> {
  const bin = binDir();
  if (!bin) throw new Error(postgresUnavailable());
  const dir = await Deno.makeTempDir({ prefix: "tidemark-pg-" });
  const data = join(dir, "data");
  const password = crypto.randomUUID();
  await Deno.writeTextFile(join(dir, "pwfile"), password + "\n");
  if (Deno.uid() === 0) {
    await Deno.chmod(dir, 0o755);
    await new Deno.Command("chown", { args: ["-R", "postgres:postgres", dir] }).output();
  }
  const port = freePort();
  let started = false;
  const stop = async () => {
    if (started) {
      started = false;
      await runBin([`${bin}/pg_ctl`, "stop", "-D", data, "-m", "immediate", "-w"]).catch(() => {});
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await runBin([
      `${bin}/initdb`,
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=scram-sha-256",
      `--pwfile=${join(dir, "pwfile")}`,
      "--encoding=UTF8",
      "--no-sync",
    ]);
    await runBin([
      `${bin}/pg_ctl`,
      "start",
      "-D",
      data,
      "-w",
      "-l",
      join(dir, "server.log"),
      "-o",
      `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off`,
    ]);
    started = true;
    const admin = new pg.Client({
      host: "127.0.0.1",
      port,
      user: "postgres",
      password,
      database: "postgres",
    });
    await admin.connect();
    await admin.query("CREATE DATABASE northwind");
    await admin.end();
    if (northwindDb !== undefined) {
      await loadNorthwind(northwindDb, { host: "127.0.0.1", port, user: "postgres", password });
    }
    const version = bin.split("/").at(-2);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/northwind`,
      password,
      port,
      label: `PostgreSQL ${version} (${bin})`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

const TYPE_MAP: [RegExp, string][] = [
  [/INT/i, "bigint"],
  [/REAL|FLOA|DOUB/i, "double precision"],
  [/NUMERIC|DECIMAL/i, "numeric"],
];

function pgType(declared: string): string {
  for (const [pattern, type] of TYPE_MAP) if (pattern.test(declared)) return type;
  return "text";
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Copies Orders and "Order Details" from the SQLite file into the `northwind` database. */
async function loadNorthwind(
  path: string,
  connection: { host: string; port: number; user: string; password: string },
): Promise<void> {
  const sqlite = new DatabaseSync(path, { readOnly: true });
  const client = new pg.Client({ ...connection, database: "northwind" });
  await client.connect();
  try {
    for (const table of ["Orders", "Order Details"]) {
      const info = sqlite.prepare(`PRAGMA table_info(${quote(table)})`).all() as {
        name: string;
        type: string;
      }[];
      const columns = info.map((c) => `${quote(c.name)} ${pgType(c.type)}`).join(", ");
      await client.query(`CREATE TABLE ${quote(table)} (${columns})`);
      const rows = sqlite.prepare(`SELECT * FROM ${quote(table)}`).all() as Record<
        string,
        unknown
      >[];
      const names = info.map((c) => c.name);
      const batch = 500;
      for (let start = 0; start < rows.length; start += batch) {
        const slice = rows.slice(start, start + batch);
        const values: unknown[] = [];
        const tuples = slice.map((row) => {
          const marks = names.map((name) => {
            values.push(row[name]);
            return `$${values.length}`;
          });
          return `(${marks.join(", ")})`;
        });
        await client.query({
          text: `INSERT INTO ${quote(table)} (${names.map(quote).join(", ")}) VALUES ${
            tuples.join(", ")
          }`,
          values,
        });
      }
    }
  } finally {
    sqlite.close();
    await client.end();
  }
}
