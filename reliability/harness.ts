/**
 * What every reliability check stands on: the real CLI in child processes (the mock API served by
 * `tidemark serve`, harvests and extracts by `tidemark harvest` / `extract`, with the permissions
 * a user grants), a generated Northwind source, and exact comparisons — the rows a run wrote to
 * Parquet against the source's rows, and an out folder's bytes before and after.
 * @module
 */
import pl from "nodejs-polars";
import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DatabaseSync } from "node:sqlite";
import { type MockChild, serveMockChild } from "../mock_api/child.ts";

/** The CLI entry the checks run. */
export const MAIN: string = fileURLToPath(new URL("../main.ts", import.meta.url));

/** What a harvest or extract child gets: its own permissions, as a user would grant them. */
export const RUN_FLAGS: readonly string[] = [
  "--allow-net=127.0.0.1",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
];

/** How a CLI child ended and what it printed. */
export interface CliRun {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs `tidemark <args>` in a child Deno and waits for it. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; flags?: readonly string[] } = {},
): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...(options.flags ?? RUN_FLAGS), MAIN, ...args],
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.signal ? null : out.code,
    signal: out.signal,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Starts `tidemark <args>` in a child Deno and returns it (the caller kills or awaits it). */
export function spawnCli(args: string[], env?: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...RUN_FLAGS, MAIN, ...args],
    env,
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Serves the mock API (`tidemark serve --port 0 <args>`) in a child process. */
export function serveMock(args: string[]): Promise<MockChild> {
  return serveMockChild(MAIN, args);
}

/** Generates a Northwind SQLite file at `scale` (about 2155·scale order lines). */
export async function generateNorthwindFile(file: string, scale: number): Promise<void> {
  const run = await runCli(["generate", "northwind", "--scale", String(scale), "--out", file]);
  if (run.code !== 0) throw new Error(`generate failed: ${run.stderr}`);
}

/** One order line as compared: key and every value, in one canonical text. */
function lineText(r: Record<string, unknown>): string {
  return [r.OrderID, r.ProductID, r.UnitPrice, r.Quantity, r.Discount].map((v) => Number(v))
    .join("|");
}

/** The source's order lines, each as canonical text, sorted. */
export function sourceLines(db: string): string[] {
  const conn = new DatabaseSync(db, { readOnly: true });
  try {
    return (conn.prepare(`SELECT * FROM "Order Details"`).all() as Record<string, unknown>[])
      .map(lineText).sort();
  } finally {
    conn.close();
  }
}

/** The order lines of every Parquet file under `dir`, each as canonical text, sorted. */
export async function parquetLines(dir: string): Promise<string[]> {
  const lines: string[] = [];
  for (const file of await filesUnder(dir)) {
    if (!file.endsWith(".parquet")) continue;
    for (const row of pl.readParquet(join(dir, file)).toRecords()) {
      lines.push(lineText(row as Record<string, unknown>));
    }
  }
  return lines.sort();
}

/** Compares two sorted line lists: null when equal, else what differs. */
export function compareLines(want: string[], got: string[]): string | null {
  if (want.length === got.length && want.every((l, i) => l === got[i])) return null;
  const have = new Set(got);
  const missing = want.filter((l) => !have.has(l)).length;
  const distinct = new Set(got).size;
  return `source ${want.length} rows, output ${got.length} (${distinct} distinct, ${missing} missing)`;
}

/** Every file below `dir` (following symlinked folders), relative, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (sub: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(sub));
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(sub, entry.name);
      const info = await Deno.stat(path).catch(() => null);
      if (info?.isDirectory) await walk(path);
      else if (info?.isFile) out.push(relative(dir, path));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Every file of a folder with the sha256 of its bytes (links listed as their targets). */
export async function folderDigest(dir: string): Promise<Map<string, string>> {
  const digest = new Map<string, string>();
  for (const file of await filesUnder(dir)) {
    const bytes = await Deno.readFile(join(dir, file));
    digest.set(file, createHash("sha256").update(bytes).digest("hex"));
  }
  return digest;
}

/** What differs between two folder digests, or null. */
export function digestChange(
  before: Map<string, string>,
  after: Map<string, string>,
): string | null {
  const changed: string[] = [];
  for (const [file, sha] of after) if (before.get(file) !== sha) changed.push(file);
  for (const file of before.keys()) if (!after.has(file)) changed.push(`${file} (removed)`);
  return changed.length === 0 ? null : changed.slice(0, 5).join(", ");
}

/** A deterministic random source (mulberry32), so a failing run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A config harvesting every order line of the mock at `url`. */
export function linesConfig(url: string, extra = ""): string {
  return `name: reliability
base_url: ${url}
auth: { type: bearer, token: \${API_TOKEN} }
retry: { max_attempts: 15, base_ms: 20, cap_ms: 400, budget_s: 3600, timeout_s: 2 }
rate_limit: { max_wait_s: 600 }
assets:
  - name: lines
    path: /northwind/Order%20Details.json
    params: { _size: 1000 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID, ProductID]
${extra}`;
}

/** A generated source served by the mock, and a config harvesting its order lines. */
export interface LinesSource {
  /** The SQLite file the mock serves. */
  db: string;
  /** The harvest config's path. */
  config: string;
  /** Stops the mock. */
  stop(): Promise<void>;
}

/**
 * Generates Northwind at `scale` as `<dir>/<name>.db`, serves it (bearer {@link TOKEN}, no rate
 * limit, plus `mockArgs`) and writes `<dir>/<name>.yaml` harvesting its order lines.
 */
export async function servedLines(
  dir: string,
  name: string,
  scale: number,
  options: { mockArgs?: string[]; config?: (text: string) => string } = {},
): Promise<LinesSource> {
  const db = join(dir, `${name}.db`);
  await generateNorthwindFile(db, scale);
  const mock = await serveMock([
    "--db",
    db,
    "--token",
    TOKEN,
    "--rate-limit",
    "0",
    ...(options.mockArgs ?? []),
  ]);
  const config = join(dir, `${name}.yaml`);
  const text = linesConfig(mock.url);
  await Deno.writeTextFile(config, options.config ? options.config(text) : text);
  return { db, config, stop: mock.stop };
}

/** The mock's default bearer token, given to harvests as API_TOKEN. */
export const TOKEN = "reliability-token-4f2c9e";
