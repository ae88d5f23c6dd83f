/**
 * Harvest benchmark: an unthrottled mock (no auth, no rate limit) serving a
 * `--scale 200` Northwind (≈ 166 k orders, 431 k lines) from its own process, paged with
 * `_size=1000`:
 *
 * - (a) a plain keep-alive GET loop over the same pages that only reads each body for its cursor;
 * - (b) `harvest` with 1 worker: for every page a durable snapshot + sha256, the watermark and
 *   boundary de-duplication (Orders is incremental), a manifest line and a state commit, the rows
 *   in Parquet parts of `batch_size` rows;
 * - (c) `harvest` with 4 workers and 4 key-range partitions per asset;
 * - and for information (b) with the Northwind zod contracts checking every row.
 *
 * Each pass runs in a fresh child process that times itself and reports its peak RSS and its
 * CPU time (main thread and other threads, from /proc), so client and server never share an
 * event loop and memory is measured per run; the server's CPU time per pass is read from /proc
 * too. (a), (b) and (c) run `HARVEST_BENCH_RUNS` times (default 3) interleaved, and the median
 * is shown, because the machine is shared. Prints b/a (goal ≤ 1.2), a/c (goal ≥ 1.7 on 2
 * cores), peak RSS of (b) at scale 50 vs 200 (goal: flat), and the bounds the CPU times set on
 * this machine: no schedule can finish a pass before its server has spent its CPU time (one
 * thread serves), nor before `(server + client CPU) / cores`.
 * Then, for information, (a), (b) and (c) once each against a server that waits
 * `HARVEST_BENCH_LATENCY_MS` (default 10; 0 skips) before each response, as an API across a
 * network does: the goals are measured without it.
 * `deno task bench harvest`; `HARVEST_BENCH_SCALE=50` for a quicker look.
 * @module
 */
import { existsSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { generateNorthwind } from "../mock_api/data/northwind.ts";

const PAGE_SIZE = 1000;
const BENCH_DIR = ".bench";
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const SELF = fileURLToPath(new URL("./harvest.ts", import.meta.url));
const PERMISSIONS = [
  "--allow-net=127.0.0.1",
  "--allow-read",
  `--allow-write=${BENCH_DIR}`,
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
];

/** What a child pass reports on its last stdout line (plus the server's CPU, added by the parent). */
interface PassReport {
  ms: number;
  pages: number;
  rows: number;
  peakRssBytes: number;
  /** CPU ms of the child's main thread during the pass. */
  mainCpuMs: number;
  /** CPU ms of the child's other threads (polars, V8 helpers, I/O) during the pass. */
  otherCpuMs: number;
  /** CPU ms of the server process during the pass. */
  serverCpuMs: number;
}

const TICK_MS = 10; // USER_HZ = 100 on Linux

/** CPU µs of this process and of its main thread (the caller's thread). */
function cpuNow(): { process: number; main: number } {
  const p = process.cpuUsage();
  const t = process.threadCpuUsage();
  return { process: p.user + p.system, main: t.user + t.system };
}

/** CPU used since `before`: the main thread's and the other threads' (polars, V8, I/O). */
function cpuSince(before: { process: number; main: number }) {
  const now = cpuNow();
  const mainCpuMs = (now.main - before.main) / 1000;
  return { mainCpuMs, otherCpuMs: (now.process - before.process) / 1000 - mainCpuMs };
}

/** CPU ms a process has used so far (read through `cat`: Deno reads only its own /proc). */
async function processCpuMs(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stderr: "null" })
    .output();
  const stat = new TextDecoder().decode(out.stdout);
  if (!out.success || !stat.includes(")")) return Number.NaN;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function databasePath(scale: number): string {
  return `${BENCH_DIR}/northwind-scale${scale}.sqlite`;
}

/** Generates a scale's database once; later runs reuse it (same scale and seed, same bytes). */
function ensureDatabase(scale: number): void {
  const path = databasePath(scale);
  if (existsSync(path)) return;
  Deno.mkdirSync(BENCH_DIR, { recursive: true });
  const started = performance.now();
  const tmp = `${path}.${Deno.pid}.tmp`;
  generateNorthwind(tmp, { scale }).close();
  Deno.renameSync(tmp, path);
  console.log(`generated ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** A free port on 127.0.0.1 (bound, read and released). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Serves a database from a child process; resolves once it answers `/-/health`. */
async function startServer(
  scale: number,
  latencyMs = 0,
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      MAIN,
      "serve",
      "--db",
      databasePath(scale),
      "--port",
      String(port),
      "--auth",
      "none",
      "--rate-limit",
      "0",
      ...(latencyMs > 0 ? ["--latency-ms", String(latencyMs)] : []),
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${url}/-/health`).then(async (r) => {
      await r.body?.cancel();
      return r.ok;
    }, () => false);
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

function configYaml(url: string, partitions: number, contracts = false): string {
  const partition = (by: string) =>
    partitions > 1 ? `    partition: { by: ${by}, parts: ${partitions} }\n` : "";
  return `name: bench
base_url: ${url}
retry: { max_attempts: 6, base_ms: 100, cap_ms: 2000, timeout_s: 60 }
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: ${PAGE_SIZE} }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    incremental: { cursor_field: OrderDate, param: OrderDate__gte, param_format: datetime }
${contracts ? "    contract: orders\n" : ""}${partition("OrderID")}  - name: Order Details
    path: /northwind/Order%20Details.json
    params: { _size: ${PAGE_SIZE} }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID, ProductID]
${contracts ? "    contract: order_details\n" : ""}${partition("OrderID")}`;
}

let passCount = 0;
const passFolders: string[] = [];

/** Removes the out folders of the run's passes. */
async function removePassFolders(): Promise<void> {
  for (const folder of passFolders.splice(0)) {
    await Deno.remove(folder, { recursive: true }).catch(() => {});
  }
}

/** Runs one pass in a child process: `get` (plain loop) or `harvest`. */
async function childPass(
  mode: "get" | "harvest",
  server: { url: string; pid: number },
  workers: number,
  partitions: number,
  tag: string,
  contracts = false,
): Promise<PassReport> {
  // A fresh folder per pass, all removed at the end of the run: deleting a pass's ~1 200 files
  // just before the next pass creates as many makes ext4 scan past the recently freed inodes at
  // every file it creates (`recently_deleted` in perf), a cost of the benchmark, not the harvest.
  const out = `${BENCH_DIR}/harvest-${tag}-${++passCount}`;
  passFolders.push(out);
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });
  const config = `${out}.yaml`;
  await Deno.writeTextFile(config, configYaml(server.url, partitions, contracts));
  const serverBefore = await processCpuMs(server.pid);
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, SELF, "--child", mode, server.url, config, out, String(workers)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const serverCpuMs = await processCpuMs(server.pid) - serverBefore;
  const lines = new TextDecoder().decode(result.stdout).trim().split("\n");
  if (!result.success) throw new Error(`${mode} pass failed: ${lines.join("\n")}`);
  await Deno.remove(config).catch(() => {});
  return { ...JSON.parse(lines[lines.length - 1]), serverCpuMs };
}

/** The peak resident set of this process (Linux `VmHWM`), or the current RSS elsewhere. */
function peakRss(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(status);
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return Deno.memoryUsage().rss;
}

/** (a): page both tables with keep-alive GETs, reading each body only for its cursor. */
async function getLoop(url: string): Promise<Pick<PassReport, "ms" | "pages" | "rows">> {
  const started = performance.now();
  let pages = 0;
  let rows = 0;
  for (const table of ["Orders", "Order%20Details"]) {
    let next: string | null = null;
    do {
      const target = new URL(`${url}/northwind/${table}.json`);
      target.searchParams.set("_size", String(PAGE_SIZE));
      if (next !== null) target.searchParams.set("_next", next);
      const response = await fetch(target);
      const body = JSON.parse(await response.text()) as { rows: unknown[]; next: string | null };
      pages++;
      rows += body.rows.length;
      next = body.next;
    } while (next !== null);
  }
  return { ms: performance.now() - started, pages, rows };
}

async function child(args: string[]): Promise<void> {
  const [mode, url, config, out, workers] = args;
  if (mode === "get") {
    const before = cpuNow();
    const report = await getLoop(url);
    console.log(JSON.stringify({ ...report, ...cpuSince(before), peakRssBytes: peakRss() }));
    return;
  }
  const { loadConfig } = await import("../lib/config/load.ts");
  const { harvest } = await import("../lib/harvest/run.ts");
  const loaded = await loadConfig(config, { env: {} });
  const before = cpuNow();
  const started = performance.now();
  const result = await harvest(loaded, {
    out,
    workers: Number(workers),
    quiet: true,
    logOutput: null,
    htmlReport: false,
  });
  const ms = performance.now() - started;
  if (result.exitCode !== 0) {
    throw new Error(result.assets.map((a) => `${a.asset}: ${a.error ?? a.status}`).join("; "));
  }
  console.log(JSON.stringify({
    ms,
    ...cpuSince(before),
    pages: result.report.totals.pages,
    rows: result.assets.reduce((n, a) => n + a.rows, 0),
    peakRssBytes: peakRss(),
  }));
}

function row(cells: (string | number)[]): string {
  return cells.map((c, i) => i === 0 ? String(c).padEnd(40) : String(c).padStart(9)).join(" ");
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The run of median wall time, with the median of each CPU figure over the runs. */
function medianPass(runs: PassReport[]): PassReport {
  const pick = (key: keyof PassReport) => median(runs.map((r) => r[key]));
  return {
    ...runs[0],
    ms: pick("ms"),
    mainCpuMs: pick("mainCpuMs"),
    otherCpuMs: pick("otherCpuMs"),
    serverCpuMs: pick("serverCpuMs"),
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
  };
}

/** Runs the benchmark and prints its table. */
export async function run(): Promise<void> {
  try {
    await measure();
  } finally {
    await removePassFolders();
  }
}

async function measure(): Promise<void> {
  const scale = Number(Deno.env.get("HARVEST_BENCH_SCALE") ?? 200);
  const repeats = Math.max(1, Number(Deno.env.get("HARVEST_BENCH_RUNS") ?? 3));
  const cores = navigator.hardwareConcurrency;
  const small = Math.max(1, Math.round(scale / 4));
  ensureDatabase(scale);
  ensureDatabase(small);
  const server = await startServer(scale);
  const runs = { a: [] as PassReport[], b: [] as PassReport[], c: [] as PassReport[] };
  let bContracts: PassReport;
  try {
    await childPass("get", server, 1, 1, "warmup"); // page cache, server JIT
    for (let i = 0; i < repeats; i++) {
      runs.a.push(await childPass("get", server, 1, 1, "a"));
      runs.b.push(await childPass("harvest", server, 1, 1, "b"));
      runs.c.push(await childPass("harvest", server, 4, 4, "c"));
    }
    bContracts = await childPass("harvest", server, 1, 1, "b-contracts", true);
  } finally {
    await server.stop();
  }
  const smallServer = await startServer(small);
  let bSmall: PassReport;
  try {
    bSmall = await childPass("harvest", smallServer, 1, 1, "b-small");
  } finally {
    await smallServer.stop();
  }
  // For information: the same passes against a server that answers after `latencyMs`, as an API
  // across a network does. The goals above are measured without it.
  const latencyMs = Number(Deno.env.get("HARVEST_BENCH_LATENCY_MS") ?? 10);
  let latent: { a: PassReport; b: PassReport; c: PassReport } | undefined;
  if (latencyMs > 0) {
    const slow = await startServer(scale, latencyMs);
    try {
      latent = {
        a: await childPass("get", slow, 1, 1, "a-latency"),
        b: await childPass("harvest", slow, 1, 1, "b-latency"),
        c: await childPass("harvest", slow, 4, 4, "c-latency"),
      };
    } finally {
      await slow.stop();
    }
  }
  const [a, b, c] = [medianPass(runs.a), medianPass(runs.b), medianPass(runs.c)];
  for (const p of [...runs.b, ...runs.c, bContracts]) {
    if (p.rows !== a.rows) throw new Error(`harvest wrote ${p.rows} rows, the loop read ${a.rows}`);
  }
  console.log(
    `Northwind scale ${scale} (Orders + Order Details, ${a.rows} rows, pages of ${PAGE_SIZE}); ` +
      `server in its own process, each pass in a fresh child; median of ${repeats} runs; ` +
      `${cores} cores`,
  );
  console.log(
    row([
      "pass",
      "pages",
      "wall ms",
      "rows/s",
      "main CPU",
      "other CPU",
      "ms/page",
      "server",
      "RSS",
    ]),
  );
  const show = (name: string, p: PassReport) =>
    console.log(row([
      name,
      p.pages,
      p.ms.toFixed(0),
      Math.round(p.rows / p.ms * 1000),
      p.mainCpuMs.toFixed(0),
      p.otherCpuMs.toFixed(0),
      ((p.mainCpuMs + p.otherCpuMs) / p.pages).toFixed(2),
      p.serverCpuMs.toFixed(0),
      mb(p.peakRssBytes),
    ]));
  show("(a) plain keep-alive GET loop", a);
  show("(b) harvest, 1 worker", b);
  show("(c) harvest, 4 workers × 4 key ranges", c);
  show("(b) + Northwind contracts (zod, every row)", bContracts);
  show(`(b) at scale ${small}`, bSmall);
  if (latent) {
    show(`(a) with ${latencyMs} ms latency per response`, latent.a);
    show(`(b) with ${latencyMs} ms latency`, latent.b);
    show(`(c) with ${latencyMs} ms latency`, latent.c);
  }
  console.log(
    "CPU columns are ms of CPU time during the pass: the client's main thread, its other threads, " +
      "client ms/page (both), the server process.",
  );
  const ba = b.ms / a.ms;
  const ac = a.ms / c.ms;
  const rss = b.peakRssBytes / bSmall.peakRssBytes;
  // No schedule beats the single-threaded server's CPU, nor the work of both processes shared
  // over every core.
  const floor = (p: PassReport) =>
    Math.max(p.serverCpuMs, (p.serverCpuMs + p.mainCpuMs + p.otherCpuMs) / cores);
  console.log(`b/a = ${ba.toFixed(2)} (goal ≤ 1.20: ${ba <= 1.2 ? "met" : "NOT met"})`);
  console.log(`a/c = ${ac.toFixed(2)} (goal ≥ 1.70: ${ac >= 1.7 ? "met" : "NOT met"})`);
  console.log(
    `peak RSS scale ${scale} / scale ${small} = ${rss.toFixed(2)} (goal: flat, ≤ 1.25: ${
      rss <= 1.25 ? "met" : "NOT met"
    })`,
  );
  if (latent) {
    console.log(
      `with ${latencyMs} ms latency per response (one run each, for information): b/a = ${
        (latent.b.ms / latent.a.ms).toFixed(2)
      }, a/c = ${(latent.a.ms / latent.c.ms).toFixed(2)}`,
    );
  }
  console.log(
    `bounds on ${cores} cores from the CPU times: (b) ≥ ${floor(b).toFixed(0)} ms → b/a ≥ ${
      (floor(b) / a.ms).toFixed(2)
    }; (c) ≥ ${floor(c).toFixed(0)} ms → a/c ≤ ${(a.ms / floor(c)).toFixed(2)}`,
  );
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") await child(Deno.args.slice(1));
  else await run();
}
