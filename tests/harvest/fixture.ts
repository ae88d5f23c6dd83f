/**
 * Test support for the harvest engine: the mock API in-process over a Northwind database the
 * test owns (so it can count the source's rows and insert new ones), configs from YAML, a silent
 * run, and the keys of what landed in Parquet.
 * @module
 */
import pl from "nodejs-polars";
import type { DatabaseSync } from "node:sqlite";
import { createApp, type MockOptions } from "../../mock_api/app.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { type LoadedConfig, parseConfig } from "../../lib/config/load.ts";
import type { Clock } from "../../lib/http/clock.ts";
import { systemClock } from "../../lib/http/clock.ts";
import type { FetchFunction } from "../../lib/http/fetch_resilient.ts";
import { harvest, type HarvestOptions, type HarvestResult } from "../../lib/harvest/run.ts";
import { parquetFiles } from "../../lib/sinks/write_mode.ts";

/** Where the in-process mock pretends to live (never contacted: requests go to `app.request`). */
export const BASE_URL = "http://127.0.0.1:9000";
/** The mock's default bearer token. */
export const TOKEN = "super-secret-token";

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
  /** Closes the database. */
  close(): void;
}

/** Starts the mock in-process (bearer auth unless told otherwise) over a fresh Northwind. */
export function mockFixture(options: MockOptions & { scale?: number } = {}): MockFixture {
  const db = generateNorthwind(":memory:", { scale: options.scale ?? 1, seed: options.seed ?? 42 });
  const app = createApp({ auth: "bearer", ...options, db });
  return {
    db,
    app,
    fetch: (input, init) => app.request(input, init),
    async requests() {
      const stats = await (await app.request(`${BASE_URL}/-/stats`)).json() as {
        by_path: Record<string, Record<string, number>>;
      };
      let n = 0;
      for (const [path, counts] of Object.entries(stats.by_path)) {
        if (path.startsWith("/-/")) continue;
        for (const count of Object.values(counts)) n += count;
      }
      return n;
    },
    close: () => db.close(),
  };
}

/** A config from YAML text, with `API_TOKEN` set to the mock's token. */
export function yamlConfig(text: string, env: Record<string, string> = {}): LoadedConfig {
  return parseConfig(text, { env: { API_TOKEN: TOKEN, ...env } });
}

/** The Northwind job's two assets, against {@link BASE_URL}, with extra YAML per asset. */
export function northwindYaml(options: {
  size?: number;
  orders?: string;
  details?: string;
  top?: string;
} = {}): string {
  const size = options.size ?? 100;
  return `name: test
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
retry: { max_attempts: 8, base_ms: 1, cap_ms: 5, timeout_s: 10 }
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

function indent(text: string): string {
  return text.split("\n").filter((l) => l.trim()).map((l) => `    ${l.trim()}`).join("\n");
}

/** Log and progress off, no HTML report: what every test run passes. */
export const SILENT: HarvestOptions = {
  logOutput: null,
  progressOutput: { writeSync: (b) => b.length, isTerminal: () => false },
  htmlReport: false,
};

/** Runs a harvest against the fixture, silently. */
export function run(
  fixture: MockFixture,
  loaded: LoadedConfig,
  out: string,
  options: HarvestOptions = {},
): Promise<HarvestResult> {
  return harvest(loaded, { ...SILENT, out, fetch: fixture.fetch, ...options });
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
