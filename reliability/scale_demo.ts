/**
 * The queue at work on one machine, every part its own process as on many machines: a throwaway
 * PostgreSQL (mock_api/postgres_server.ts), the mock API serving a scale-20 Northwind with
 * `--latency-ms 20`, N `tidemark worker`s and one `tidemark harvest --queue`; Orders and Order
 * Details are cut into key-range units (`partition:`). {@link scaleDemo} runs the harvest with N
 * workers and then with one, and reads each worker's share of units, pages and rows.
 *
 * {@link rateDemo} instead serves a mock allowing 60 requests a minute and harvests with 4
 * workers whose config says `requests_per_second: 0.95`: with the budget shared through
 * PostgreSQL they make no 429; `ownBudget` gives each worker its own budget, for comparison.
 * @module
 */
import { type MockChild, serveMockChild } from "../mock_api/child.ts";
import { join } from "node:path";
import pg from "pg";
import { startPostgres } from "../mock_api/postgres_server.ts";
import { MAIN, RUN_FLAGS } from "./harness.ts";

/** One worker's share of a run. */
export interface WorkerShare {
  /** `host:pid`. */
  worker: string;
  /** Units it ended. */
  units: number;
  /** Pages it committed. */
  pages: number;
  /** Rows it wrote. */
  rows: number;
}

/** What one queued run did. */
export interface ScaleRun {
  /** Workers started. */
  workers: number;
  /** From `harvest --queue` started to its exit, ms. */
  ms: number;
  /** The harvest's exit code. */
  exitCode: number;
  /** Units of the run. */
  units: number;
  /** Per worker. */
  shares: WorkerShare[];
  /** The mock's data responses by status. */
  statuses: Record<string, number>;
  /** From the run's enqueueing to its first unit starting, ms (probes, a worker's poll). */
  firstStartMs: number;
  /** From the first unit starting to the last one ending, ms. */
  unitsMs: number;
}

/** Serves the mock in a child (no auth); resolves once it answers `/-/health`. */
function startMock(args: string[]): Promise<MockChild> {
  return serveMockChild(MAIN, ["--auth", "none", ...args]);
}

/** The mock's data responses by status (its `/-/…` endpoints left out). */
async function mockStatuses(url: string): Promise<Record<string, number>> {
  const stats = await (await fetch(`${url}/-/stats`)).json() as {
    by_path: Record<string, Record<string, number>>;
  };
  const out: Record<string, number> = {};
  for (const [path, counts] of Object.entries(stats.by_path)) {
    if (path.startsWith("/-/")) continue;
    for (const [status, n] of Object.entries(counts)) out[status] = (out[status] ?? 0) + n;
  }
  return out;
}

/** The speed-up config: both Northwind tables cut into key ranges, small pages. */
function speedConfig(url: string, parts: number): string {
  return `name: scale
base_url: ${url}
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: 200 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    partition: { by: OrderID, parts: ${parts} }
  - name: Order Details
    path: /northwind/Order%20Details.json
    params: { _size: 200 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID, ProductID]
    partition: { by: OrderID, parts: ${parts} }
`;
}

/** The rate-limit config: Orders in small pages, at 57 requests a minute for all workers. */
function rateConfig(url: string, parts: number, size: number): string {
  return `name: scale-rate
base_url: ${url}
rate_limit: { requests_per_second: 0.95, max_wait_s: 600 }
retry: { max_attempts: 20, budget_s: 600 }
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: ${size} }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    partition: { by: OrderID, parts: ${parts} }
`;
}

/**
 * Starts `workers` worker processes, runs `harvest --queue` on `config` to its end, stops the
 * workers and reads each one's share from the units table.
 */
async function queuedRun(
  queueUrl: string,
  password: string,
  dir: string,
  config: string,
  workers: number,
  mockUrl: string,
  workerFlags: string[] = [],
): Promise<ScaleRun> {
  const env = { PGPASSWORD: password };
  const children = Array.from({ length: workers }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", ...RUN_FLAGS, MAIN, "worker", "--queue", queueUrl, ...workerFlags],
      env,
      stdout: "null",
      stderr: "piped",
    }).spawn());
  // The clock starts once every worker is taking units: their start-up is not the run's.
  await Promise.all(children.map((child) => untilReady(child.stderr)));
  const before = await mockStatuses(mockUrl);
  const configFile = join(dir, `run-${workers}.yaml`);
  await Deno.writeTextFile(configFile, config);
  const out = join(dir, `out-${workers}-${crypto.randomUUID().slice(0, 8)}`);
  try {
    const started = performance.now();
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...RUN_FLAGS,
        MAIN,
        "harvest",
        "--config",
        configFile,
        "--out",
        out,
        "--queue",
        queueUrl,
        "--quiet",
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const ms = performance.now() - started;
    const stdout = new TextDecoder().decode(result.stdout);
    const runId = /^harvest (\S+) /m.exec(stdout)?.[1];
    if (runId === undefined) {
      throw new Error(
        `harvest --queue failed:\n${stdout}\n${new TextDecoder().decode(result.stderr)}`,
      );
    }
    const withPassword = new URL(queueUrl);
    withPassword.password = password;
    const client = new pg.Client({ connectionString: withPassword.href });
    await client.connect();
    const { rows } = await client.query(
      `SELECT worker, count(*)::int AS units, COALESCE(sum(pages), 0)::int AS pages,
         COALESCE(sum(rows), 0)::int AS rows
       FROM tidemark_queue.units WHERE run_id = $1 GROUP BY worker ORDER BY worker`,
      [runId],
    );
    const span = await client.query(
      `SELECT extract(epoch FROM min(u.started_at) - r.created_at) * 1000 AS first_start,
         extract(epoch FROM max(u.finished_at) - min(u.started_at)) * 1000 AS units
       FROM tidemark_queue.units u JOIN tidemark_queue.runs r USING (run_id)
       WHERE run_id = $1 GROUP BY r.created_at`,
      [runId],
    );
    await client.end();
    const after = await mockStatuses(mockUrl);
    const statuses: Record<string, number> = {};
    for (const [status, n] of Object.entries(after)) {
      const d = n - (before[status] ?? 0);
      if (d > 0) statuses[status] = d;
    }
    return {
      workers,
      ms,
      exitCode: result.code,
      units: rows.reduce((a: number, r: { units: number }) => a + r.units, 0),
      shares: rows as WorkerShare[],
      statuses,
      firstStartMs: Number(span.rows[0]?.first_start ?? NaN),
      unitsMs: Number(span.rows[0]?.units ?? NaN),
    };
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
    }
  }
}

/**
 * Resolves once a worker says it is taking units; its later lines are read and dropped, so a
 * full pipe never holds it up.
 */
function untilReady(stderr: ReadableStream<Uint8Array>): Promise<void> {
  return new Promise((resolve, reject) => {
    (async () => {
      let text = "";
      let ready = false;
      for await (const chunk of stderr.pipeThrough(new TextDecoderStream())) {
        if (ready) continue;
        text += chunk;
        if (text.includes("taking units")) {
          ready = true;
          resolve();
        }
      }
      if (!ready) reject(new Error(`a worker exited before taking units:\n${text}`));
    })().catch(reject);
  });
}

/** The shares of a run as lines. */
export function shareLines(run: ScaleRun): string[] {
  const pages = run.shares.reduce((a, s) => a + s.pages, 0);
  return run.shares.map((s) =>
    `  ${s.worker.padEnd(24)} ${String(s.units).padStart(3)} units  ${
      String(s.pages).padStart(5)
    } pages (${(100 * s.pages / Math.max(1, pages)).toFixed(0).padStart(3)}%)  ${
      String(s.rows).padStart(7)
    } rows`
  );
}

/** Options of {@link scaleDemo}. */
export interface ScaleDemoOptions {
  /** Workers of the main run. @default 3 */
  workers?: number;
  /** Northwind scale. @default 20 */
  scale?: number;
  /** Mock latency per response, ms. @default 20 */
  latencyMs?: number;
  /** Key ranges per asset. @default 6 */
  parts?: number;
}

/** The speed-up demo: N workers, then 1, on the same harvest; both runs. */
export async function scaleDemo(
  options: ScaleDemoOptions = {},
): Promise<{ many: ScaleRun; one: ScaleRun }> {
  const workers = options.workers ?? 3;
  const server = await startPostgres();
  const mock = await startMock([
    "--scale",
    String(options.scale ?? 20),
    "--latency-ms",
    String(options.latencyMs ?? 20),
    "--rate-limit",
    "0",
  ]);
  const dir = await Deno.makeTempDir({ prefix: "tidemark-scale-" });
  try {
    const config = speedConfig(mock.url, options.parts ?? 6);
    const many = await queuedRun(server.url, server.password, dir, config, workers, mock.url);
    const one = await queuedRun(server.url, server.password, dir, config, 1, mock.url);
    return { many, one };
  } finally {
    await mock.stop();
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Options of {@link rateDemo}. */
export interface RateDemoOptions {
  /** Workers. @default 4 */
  workers?: number;
  /** Orders per page (830 orders: 12 gives 70 pages, more than a minute's 60). @default 12 */
  size?: number;
  /** Each worker keeps its own budget (the comparison). @default false */
  ownBudget?: boolean;
}

/** The rate-limit demo: workers against a 60/min mock; the run and the mock's statuses. */
export async function rateDemo(options: RateDemoOptions = {}): Promise<ScaleRun> {
  const workers = options.workers ?? 4;
  const server = await startPostgres();
  const mock = await startMock(["--scale", "1", "--rate-limit", "60", "--rate-window", "60s"]);
  const dir = await Deno.makeTempDir({ prefix: "tidemark-scale-rate-" });
  try {
    return await queuedRun(
      server.url,
      server.password,
      dir,
      rateConfig(mock.url, workers, options.size ?? 12),
      workers,
      mock.url,
      options.ownBudget ? ["--own-rate-limit"] : [],
    );
  } finally {
    await mock.stop();
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
