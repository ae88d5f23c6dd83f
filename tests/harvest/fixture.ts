/**
 * Test support for the harvest engine: the mock API in-process over a Northwind database the
 * test owns (so it can count the source's rows and insert new ones), configs from YAML, a silent
 * run, the keys of what landed in Parquet, the state it left, and the rewind that reproduces a
 * crash.
 * @module
 */
import pl from "nodejs-polars";
import { assertEquals } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { createApp, type MockOptions } from "../../mock_api/app.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { type LoadedConfig, parseConfig } from "../../lib/config/load.ts";
import type { Clock } from "../../lib/core/clock.ts";
import { systemClock } from "../../lib/core/clock.ts";
import type { FetchFunction } from "../../lib/http/fetch_resilient.ts";
import { readPlan, savePlan } from "../../lib/harvest/asset_plan.ts";
import { harvest, type HarvestOptions, type HarvestResult } from "../../lib/harvest/run.ts";
import { parseManifestRecord } from "../../lib/provenance/manifest.ts";
import { parquetFiles } from "../../lib/sinks/write_mode.ts";
import { openSqliteState, type StateStore } from "../../lib/state/mod.ts";

/** Where the in-process mock pretends to live (never contacted: requests go to `app.request`). */
export const BASE_URL = "http://127.0.0.1:9000";
/** The mock's default bearer token. */
export const TOKEN = "super-secret-token";

/**
 * `deno run` arguments for `tidemark harvest` in a child process, with the permissions it needs
 * (the harvest's own arguments follow).
 */
export const HARVEST_PROCESS_ARGS: readonly string[] = [
  "run",
  "--allow-net=127.0.0.1",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
  fileURLToPath(new URL("../../main.ts", import.meta.url)),
  "harvest",
];

/** A mock app over a database the test holds. */
export interface MockFixture {
  /** The source database (read by the mock; tests count and insert rows here). */
  db: DatabaseSync;
  /** The app. */
  app: ReturnType<typeof createApp>;
  /** Its requests as a transport for the harvest. */
  fetch: FetchFunction;
  /** Data requests received so far (everything but `/-/…`). */
  requests(): Promise<number>;
  /** The same requests by response status (`"200"`, `"304"`, …). */
  statuses(): Promise<Record<string, number>>;
  /** POSTs `body` as JSON, with the mock's token, to its write API at `path`. */
  write(path: string, body: unknown): Promise<Response>;
  /** Closes the database. */
  close(): void;
}

/** Starts the mock in-process (bearer auth unless told otherwise) over a fresh Northwind. */
export function mockFixture(options: MockOptions & { scale?: number } = {}): MockFixture {
  const db = generateNorthwind(":memory:", { scale: options.scale ?? 1, seed: options.seed ?? 42 });
  const app = createApp({ auth: "bearer", ...options, db });
  const statuses = async () =>
    dataStatuses(await (await app.request(`${BASE_URL}/-/stats`)).json());
  return {
    db,
    app,
    fetch: (input, init) => app.request(input, init),
    requests: async () => Object.values(await statuses()).reduce((a, b) => a + b, 0),
    statuses,
    write: async (path, body) =>
      await app.request(`${BASE_URL}${path}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }),
    close: () => db.close(),
  };
}

/** The mock's `/-/stats` answer: data requests by status, the `/-/…` endpoints left out. */
export function dataStatuses(
  stats: { by_path: Record<string, Record<string, number>> },
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [path, counts] of Object.entries(stats.by_path)) {
    if (path.startsWith("/-/")) continue;
    for (const [status, n] of Object.entries(counts)) out[status] = (out[status] ?? 0) + n;
  }
  return out;
}

/**
 * Runs `fn` with a fresh {@link mockFixture} (given `options`) and a fresh out folder; both are
 * closed and removed afterwards, whatever `fn` did.
 */
export async function withMockRun(
  fn: (fixture: MockFixture, out: string) => Promise<void>,
  options: Parameters<typeof mockFixture>[0] = {},
): Promise<void> {
  const fixture = mockFixture(options);
  const out = await tempOut();
  try {
    await fn(fixture, out);
  } finally {
    fixture.close();
    await Deno.remove(out, { recursive: true });
  }
}

/** Runs `fn` with the SQLite state a harvest left in `out`, closed afterwards. */
export async function withState<T>(out: string, fn: (state: StateStore) => Promise<T>): Promise<T> {
  const state = openSqliteState(`${out}/state.sqlite`);
  try {
    return await fn(state);
  } finally {
    await state.close();
  }
}

/** Options of {@link rewindToCrash}. */
export interface RewindOptions {
  /** Pages kept committed (the ones after are uncommitted). */
  committed: number;
  /** Manifest lines lost at the end (appended after the last commit). @default 0 */
  dropLines?: number;
  /** The asset in progress. @default "Orders" */
  asset?: string;
}

/**
 * Rewinds a finished run to the instant of a crash: pages after `committed` uncommitted, the
 * asset in progress, the run still "running", and the last `dropLines` manifest lines gone.
 */
export async function rewindToCrash(out: string, options: RewindOptions): Promise<void> {
  const asset = options.asset ?? "Orders";
  const db = new DatabaseSync(`${out}/state.sqlite`);
  db.prepare("DELETE FROM pages WHERE page > ?").run(options.committed);
  db.exec("UPDATE pages SET completed = 0, completed_by = NULL");
  db.exec("UPDATE runs SET status = 'running', finished_at = NULL");
  db.close();
  await withState(out, async (state) => {
    await savePlan(state, asset, { ...(await readPlan(state, asset))!, status: "active" });
  });
  // Killed before the asset completed: its `complete` event was never written either.
  const lines = (await Deno.readTextFile(`${out}/manifest.jsonl`)).trimEnd().split("\n")
    .filter((line) => !line.includes('"event":"complete"'));
  await Deno.writeTextFile(
    `${out}/manifest.jsonl`,
    lines.slice(0, lines.length - (options.dropLines ?? 0)).join("\n") + "\n",
  );
}

/** A config from YAML text, with `API_TOKEN` set to the mock's token. */
export function yamlConfig(text: string, env: Record<string, string> = {}): LoadedConfig {
  return parseConfig(text, { env: { API_TOKEN: TOKEN, ...env } });
}

/** The retry policy of {@link northwindYaml}: quick, for a mock without faults. */
const QUICK_RETRY = "retry: { max_attempts: 8, base_ms: 1, cap_ms: 5, timeout_s: 10 }";

/** The Northwind job's two assets, against {@link BASE_URL}, with extra YAML per asset. */
export function northwindYaml(options: {
  size?: number;
  orders?: string;
  details?: string;
  top?: string;
  /** The `retry:` line. @default QUICK_RETRY */
  retry?: string;
} = {}): string {
  const size = options.size ?? 100;
  return `name: test
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
${options.retry ?? QUICK_RETRY}
${options.top ?? ""}
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: ${size} }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    incremental: { cursor_field: OrderDate, param: OrderDate__gte, param_format: datetime }
    contract: orders
    output: { partition_by: [ShipCountry] }
${indent(options.orders ?? "")}
  - name: Order Details
    path: /northwind/Order%20Details.json
    params: { _size: ${size} }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID, ProductID]
    incremental: { cursor_field: OrderID, kind: id, param: OrderID__gte }
    contract: order_details
${indent(options.details ?? "")}
`;
}

/**
 * The example config of docs/design.md §7 as a user writes it — no `param_format`, no
 * `output.mode` — against {@link BASE_URL} with quick retries; `incremental` is added to Orders'
 * `incremental:` map, `assets` appended to the asset list.
 */
export function designYaml(options: { incremental?: string; assets?: string } = {}): string {
  return `name: northwind
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
retry: { max_attempts: 6, base_ms: 1, cap_ms: 5, budget_s: 60, timeout_s: 30 }
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: 1000 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    incremental: { cursor_field: OrderDate, param: OrderDate__gte, initial: "1997-01-01"${
    options.incremental ?? ""
  } }
    contract: orders
    output: { format: parquet, partition_by: [ShipCountry] }
${options.assets ?? ""}`;
}

/**
 * A config of one asset, Orders over the mock's cursor pages, against {@link BASE_URL}: `top` is
 * extra config YAML, `asset` extra YAML for the asset.
 */
export function ordersYaml(options: {
  name?: string;
  size?: number;
  top?: string;
  asset?: string;
} = {}): string {
  return `name: ${options.name ?? "orders"}
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
${options.top ?? ""}
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: ${options.size ?? 100} }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
${indent(options.asset ?? "")}
`;
}

function indent(text: string): string {
  return text.split("\n").filter((l) => l.trim()).map((l) => `    ${l.trim()}`).join("\n");
}

/** The chaos profile: `500=0.1,503=0.05,429=0.05,timeout=0.02,truncate=0.01,reset=0.01`. */
export const CHAOS_FAULTS = {
  "500": 0.1,
  "503": 0.05,
  "429": 0.05,
  timeout: 0.02,
  truncate: 0.01,
  reset: 0.01,
} as const;

/** The retry policy that rides out {@link CHAOS_FAULTS} (use {@link fastClock} for its waits). */
export const CHAOS_RETRY =
  "retry: { max_attempts: 12, base_ms: 200, cap_ms: 4000, budget_s: 3600, timeout_s: 10 }";

/** Mock options for the chaos profile with a fixed fault seed. */
export function chaosMock(faultSeed: number): MockOptions {
  return { faults: { ...CHAOS_FAULTS }, faultSeed, timeoutHoldMs: 5_000 };
}

/** Log and progress off, no HTML report: what every test run passes. */
export const SILENT: HarvestOptions = {
  logOutput: null,
  progressOutput: { writeSync: (b) => b.length, isTerminal: () => false },
  htmlReport: false,
};

/**
 * Runs a harvest against the fixture, silently, then checks that every manifest line is a
 * complete record: the engine appends its lines without re-validating them, so each must
 * already equal its own schema parse (every field present, every value valid).
 */
export async function run(
  fixture: MockFixture,
  loaded: LoadedConfig,
  out: string,
  options: HarvestOptions = {},
): Promise<HarvestResult> {
  const result = await harvest(loaded, { ...SILENT, out, fetch: fixture.fetch, ...options });
  await assertManifestComplete(out);
  return result;
}

/** Every line of `<out>/manifest.jsonl` equals its own schema parse (none when there is no file). */
export async function assertManifestComplete(out: string): Promise<void> {
  const text = await Deno.readTextFile(`${out}/manifest.jsonl`).catch(() => "");
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const written = JSON.parse(line);
    const parsed = JSON.parse(JSON.stringify(parseManifestRecord(written)));
    assertEquals(written, parsed, `manifest line ${i + 1} is not a complete record`);
  }
}

/**
 * A clock running `factor` times faster than the wall clock: a 1 s `Retry-After` or a 10 s
 * timeout costs 1/factor of that, while requests, files and timers stay real.
 */
export function fastClock(factor = 50): Clock {
  const origin = Date.now();
  return {
    now: () => origin + (Date.now() - origin) * factor,
    sleep: (ms, signal) => systemClock.sleep(ms / factor, signal),
  };
}

/** Every row of an asset's Parquet output (all parts, all partitions). */
export async function parquetFrame(out: string, folder: string): Promise<pl.DataFrame | null> {
  const files = await parquetFiles(`${out}/parquet/${folder}`);
  if (files.length === 0) return null;
  return pl.concat(files.map((f) => pl.readParquet(f)), { how: "diagonalRelaxed" });
}

/** The keys of every row in an asset's Parquet output, as `a,b` text, in file order. */
export async function parquetKeys(out: string, folder: string, key: string[]): Promise<string[]> {
  const frame = await parquetFrame(out, folder);
  if (frame === null) return [];
  const columns = key.map((k) => frame.getColumn(k).cast(pl.Utf8).toArray());
  return Array.from({ length: frame.height }, (_, i) => columns.map((c) => c[i]).join(","));
}

/** The keys of a source table, as `a,b` text, sorted. */
export function sourceKeys(db: DatabaseSync, table: string, key: string[]): string[] {
  const cols = key.map((k) => `"${k}"`).join(", ");
  return (db.prepare(`SELECT ${cols} FROM "${table}"`).all() as Record<string, unknown>[])
    .map((r) => key.map((k) => String(r[k])).join(",")).sort();
}

/** Sorted copy. */
export function sorted(keys: string[]): string[] {
  return [...keys].sort();
}

/** Parts of an asset's output folder (relative paths). */
export async function partCount(out: string, folder: string): Promise<number> {
  return (await parquetFiles(`${out}/parquet/${folder}`)).length;
}

/** A fresh temporary out folder. */
export function tempOut(): Promise<string> {
  return Deno.makeTempDir({ prefix: "tidemark-harvest-" });
}
