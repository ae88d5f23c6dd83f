/**
 * Harvest benchmark: Tidemark's `harvest` command, run as a whole process the way a user runs
 * it, against the peers of the goal table. The mock serves a `--scale 100` Northwind (83 000
 * orders) from its own process, without auth or rate limit; every pass pages Orders with
 * `_size=500` and a cursor (166 pages) in a fresh child process, timed from spawn to exit by
 * the parent; peak RSS is the child's `Maximum resident set size` from `/usr/bin/time -v`.
 *
 * 1. Tidemark (snapshots fsynced before their manifest lines, state commits, Parquet) vs the
 *    seed's Python loop, `bench/seed_loop.py` (requests.Session; per page a raw snapshot file and
 *    a manifest line; the rows kept in a list): goal ≤ 1.0× its wall time and ≤ 150 MB peak RSS.
 *    Skipped, with a message, when python3 or its `requests` module is missing.
 * 2. Against a mock that waits `--latency-ms 10` before each response, as an API across a
 *    network does: Tidemark with 4 key ranges (`partition: { by: OrderID, parts: 4 }`,
 *    `--workers 4`) vs 1: goal ≥ 3× faster.
 * 3. At the same latency, Tidemark with 1 key range vs a plain keep-alive GET loop (a Deno child,
 *    `bench/get_loop.ts`, that imports nothing and only parses each body for its cursor): goal
 *    ≤ 1.1×.
 *
 * The GET loop also runs against the mock without latency, between the first row's passes: the
 * mock's CPU meanwhile is its own time to serve the pages. Under the table, that time, the CPU of
 * both processes and Tidemark's start and exit bound what 4 key ranges can gain here, and the
 * GET-loop pair is split into spawn to first request, the pages, and last response to exit
 * (from the harvest's manifest and the GET loop's own clock).
 *
 * Each pass runs `HARVEST_BENCH_RUNS` times (default 3), the peers interleaved, and the median
 * is shown because the machine is shared. `deno task bench harvest`; `HARVEST_BENCH_SCALE` and
 * `HARVEST_BENCH_LATENCY_MS` change the workload.
 * @module
 */
import { type MockChild, serveMockChild } from "../mock_api/child.ts";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generateNorthwind } from "../mock_api/data/northwind.ts";
import { HARVEST_MAIN, HARVEST_V8_FLAGS } from "../lib/cli/harvest_task.ts";
import { readManifest } from "../lib/provenance/manifest.ts";

const PAGE_SIZE = 500;
const BENCH_DIR = ".bench";
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const GET_LOOP = fileURLToPath(new URL("./get_loop.ts", import.meta.url));
const SEED_LOOP = fileURLToPath(new URL("./seed_loop.py", import.meta.url));
const TIME = "/usr/bin/time";
/** What `deno task harvest --show-permissions` grants this config (unscoped write: an output in
 * replace mode switches folders with a symlink), and the V8 flags the task runs it with. */
const PERMISSIONS = [
  "--allow-net=127.0.0.1",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
  HARVEST_V8_FLAGS,
];

/** One whole-process pass: wall ms from spawn to exit, peak RSS (NaN when unknown), rows read. */
interface Pass {
  ms: number;
  peakRssBytes: number;
  rows: number;
  /**
   * The work's own duration, without process start and exit: a harvest's run report `seconds`
   * (× 1000), the seed loop's own timing of its loop.
   */
  runMs?: number;
  /** The process's CPU time, user and system, in ms (NaN when unknown). */
  cpuMs: number;
  /** The mock's CPU time in ms while the pass ran (NaN when unknown). */
  serverCpuMs?: number;
  /**
   * The pass in three phases, from wall-clock times: spawn to the first request, the first
   * request to the last response (the pages), the last response to the exit. Known for the
   * harvest (its manifest's request times and durations) and the GET loop (it prints them).
   */
  phases?: { startMs: number; pagesMs: number; tailMs: number };
}

/**
 * CPU time (user + system) of a live process in ms, from `/proc/<pid>/stat`, read by `cat`
 * (Deno lets only --allow-all read another process's /proc entries); NaN when unreadable.
 */
async function processCpuMs(pid: number): Promise<number> {
  try {
    const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stderr: "null" })
      .output();
    const stat = new TextDecoder().decode(out.stdout);
    // After the command name in parentheses: utime and stime are fields 14 and 15, in ticks.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return out.success ? (Number(fields[11]) + Number(fields[12])) * 10 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Runs `pass`, adding the mock's CPU time over it. */
async function withServerCpu(server: MockChild, pass: () => Promise<Pass>): Promise<Pass> {
  const before = await processCpuMs(server.pid);
  const result = await pass();
  return { ...result, serverCpuMs: (await processCpuMs(server.pid)) - before };
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

/**
 * Serves a database from a child process; resolves once it listens. The child runs
 * with the harvest's V8 flags, as `deno task mock` runs it: Deno's cache of compiled modules then
 * serves both, where a mock under other flags would make each harvest pass after its start
 * compile the modules they share again.
 */
function startServer(scale: number, latencyMs = 0): Promise<MockChild> {
  return serveMockChild(MAIN, [
    "--db",
    databasePath(scale),
    "--auth",
    "none",
    "--rate-limit",
    "0",
    ...(latencyMs > 0 ? ["--latency-ms", String(latencyMs)] : []),
  ], { denoFlags: [HARVEST_V8_FLAGS] });
}

function configYaml(url: string, parts: number): string {
  return `name: bench
base_url: ${url}
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: ${PAGE_SIZE} }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
${parts > 1 ? `    partition: { by: OrderID, parts: ${parts} }\n` : ""}`;
}

let passCount = 0;
const passFolders: string[] = [];

/** Removes the out folders of the run's passes. */
async function removePassFolders(): Promise<void> {
  for (const folder of passFolders.splice(0)) {
    await Deno.remove(folder, { recursive: true }).catch(() => {});
  }
}

/** A fresh, empty folder for one pass (all removed at the end of the run). */
async function passFolder(tag: string): Promise<string> {
  // Deleting a pass's files just before the next pass creates as many makes ext4 scan past the
  // recently freed inodes: a cost of the benchmark, not of the harvest. So folders go at the end.
  const out = `${BENCH_DIR}/harvest-${tag}-${++passCount}`;
  passFolders.push(out);
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });
  return out;
}

/**
 * Runs a command to its exit, timed from spawn, under `/usr/bin/time -v` when it exists (for the
 * peak RSS). Throws with its output when it fails. Returns its stdout too.
 */
async function timed(
  cmd: string,
  args: string[],
): Promise<Pass & { stdout: string; spawnedAt: number; exitedAt: number }> {
  const withTime = existsSync(TIME);
  const spawnedAt = Date.now();
  const started = performance.now();
  const result = await new Deno.Command(withTime ? TIME : cmd, {
    args: withTime ? ["-v", cmd, ...args] : args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  const exitedAt = Date.now();
  const stdout = new TextDecoder().decode(result.stdout);
  const stderr = new TextDecoder().decode(result.stderr);
  if (!result.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${stdout}\n${stderr}`);
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
  const system = /System time \(seconds\): ([\d.]+)/.exec(stderr);
  const cpuMs = user && system ? (Number(user[1]) + Number(system[1])) * 1000 : Number.NaN;
  return {
    ms,
    peakRssBytes: kb ? Number(kb[1]) * 1024 : Number.NaN,
    rows: 0,
    cpuMs,
    stdout,
    spawnedAt,
    exitedAt,
  };
}

/** A pass's phases from its first request and last response (epoch ms; see `Pass.phases`). */
function phasesOf(
  pass: { spawnedAt: number; exitedAt: number },
  firstRequest: number,
  lastResponse: number,
): Pass["phases"] {
  return {
    startMs: firstRequest - pass.spawnedAt,
    pagesMs: lastResponse - firstRequest,
    tailMs: pass.exitedAt - lastResponse,
  };
}

/** The first request's start and the last response's end in a harvest's manifest (epoch ms). */
async function manifestSpan(out: string): Promise<[number, number]> {
  let first = Infinity;
  let last = -Infinity;
  for await (const { record } of readManifest(`${out}/manifest.jsonl`)) {
    if (record.kind !== "http") continue;
    const at = Date.parse(record.timestamp);
    first = Math.min(first, at);
    last = Math.max(last, at + record.elapsed_ms);
  }
  return [first, last];
}

/** Tidemark's harvest as its task runs it: `harvest_main.ts --config … --out … --quiet [--workers N]`. */
async function harvestPass(url: string, parts: number, tag: string): Promise<Pass> {
  const out = await passFolder(tag);
  const config = `${out}.yaml`;
  await Deno.writeTextFile(config, configYaml(url, parts));
  const pass = await timed(Deno.execPath(), [
    "run",
    ...PERMISSIONS,
    HARVEST_MAIN,
    "--config",
    config,
    "--out",
    out,
    "--quiet",
    ...(parts > 1 ? ["--workers", String(parts)] : []),
  ]);
  await Deno.remove(config).catch(() => {});
  const m = /(\d+) rows written/.exec(pass.stdout);
  let runMs = Number.NaN;
  for await (const entry of Deno.readDir(`${out}/reports`)) {
    if (!entry.name.endsWith(".json")) continue;
    runMs = JSON.parse(await Deno.readTextFile(`${out}/reports/${entry.name}`)).seconds * 1000;
  }
  const phases = phasesOf(pass, ...await manifestSpan(out));
  return { ...pass, rows: m ? Number(m[1]) : Number.NaN, runMs, phases };
}

/** The seed's Python loop, `bench/seed_loop.py`. */
async function seedPass(url: string): Promise<Pass> {
  const out = await passFolder("seed");
  const pass = await timed("python3", [SEED_LOOP, url, "Orders", String(PAGE_SIZE), out]);
  const lines = pass.stdout.trim().split("\n");
  const result = JSON.parse(lines[lines.length - 1]);
  return { ...pass, rows: result.rows, runMs: result.ms };
}

/** A plain keep-alive GET loop in a fresh Deno child (`get_loop.ts`, which imports nothing). */
async function getPass(url: string): Promise<Pass> {
  const pass = await timed(Deno.execPath(), ["run", "--allow-net=127.0.0.1", GET_LOOP, url]);
  const lines = pass.stdout.trim().split("\n");
  const result = JSON.parse(lines[lines.length - 1]);
  const phases = phasesOf(pass, result.firstRequestAt, result.lastResponseAt);
  return { ...pass, rows: result.rows, runMs: result.ms, phases };
}

/** Whether `python3 -c "import requests"` succeeds. */
async function hasPythonRequests(): Promise<boolean> {
  try {
    const r = await new Deno.Command("python3", {
      args: ["-c", "import requests"],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median wall time; the largest peak RSS of the runs. */
function summarize(runs: Pass[]): Pass {
  return {
    ms: median(runs.map((r) => r.ms)),
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    rows: runs[0].rows,
    runMs: median(runs.map((r) => r.runMs ?? Number.NaN)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    serverCpuMs: median(runs.map((r) => r.serverCpuMs ?? Number.NaN)),
    phases: runs[0].phases && {
      startMs: median(runs.map((r) => r.phases?.startMs ?? Number.NaN)),
      pagesMs: median(runs.map((r) => r.phases?.pagesMs ?? Number.NaN)),
      tailMs: median(runs.map((r) => r.phases?.tailMs ?? Number.NaN)),
    },
  };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => Number.isNaN(bytes) ? "? MB" : `${Math.round(bytes / 1048576)} MB`;
const range = (runs: Pass[]) =>
  `${s(Math.min(...runs.map((r) => r.ms)))}–${s(Math.max(...runs.map((r) => r.ms)))}`;

/** A markdown table row. */
function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
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
  const scale = Number(Deno.env.get("HARVEST_BENCH_SCALE") ?? 100);
  const repeats = Math.max(1, Number(Deno.env.get("HARVEST_BENCH_RUNS") ?? 3));
  const latencyMs = Number(Deno.env.get("HARVEST_BENCH_LATENCY_MS") ?? 10);
  ensureDatabase(scale);
  if (!existsSync(TIME)) console.log(`${TIME} is missing: peak RSS is not measured`);
  const python = await hasPythonRequests();
  if (!python) console.log("python3 with requests is missing: the seed loop is skipped");

  const seed: Pass[] = [];
  const tide: Pass[] = [];
  // The GET loop without latency: the mock's own time to serve the pages, one after another.
  const served: Pass[] = [];
  const fast = await startServer(scale);
  try {
    await getPass(fast.url); // page cache, server JIT
    for (let i = 0; i < repeats; i++) {
      if (python) seed.push(await seedPass(fast.url));
      tide.push(await harvestPass(fast.url, 1, "tide"));
      served.push(await withServerCpu(fast, () => getPass(fast.url)));
    }
  } finally {
    await fast.stop();
  }

  const get: Pass[] = [];
  const one: Pass[] = [];
  const four: Pass[] = [];
  const slow = await startServer(scale, latencyMs);
  try {
    await getPass(slow.url);
    for (let i = 0; i < repeats; i++) {
      get.push(await getPass(slow.url));
      one.push(await harvestPass(slow.url, 1, "one"));
      four.push(await withServerCpu(slow, () => harvestPass(slow.url, 4, "four")));
    }
  } finally {
    await slow.stop();
  }
  const rows = get[0].rows;
  for (const p of [...seed, ...tide, ...one, ...four, ...served]) {
    if (p.rows !== rows) throw new Error(`a pass read ${p.rows} rows, the GET loop ${rows}`);
  }

  const [sd, td, g, o, f, sv] = [seed, tide, get, one, four, served].map((r) =>
    r.length ? summarize(r) : r[0]
  );
  const yes = (ok: boolean) => ok ? "yes" : "no";
  console.log(
    `${rows} orders (mock --scale ${scale}, _size ${PAGE_SIZE}, cursor), whole process from ` +
      `spawn to exit, median of ${repeats} (range in brackets), ${navigator.hardwareConcurrency} ` +
      `cores, ${new Date().toISOString().slice(0, 10)}\n`,
  );
  console.log(row(["work", "the alternative", "Tidemark", "ratio", "goal", "met"]));
  console.log(row(["---", "---", "---", "---", "---", "---"]));
  if (sd) {
    const ratio = td.ms / sd.ms;
    const rssOk = td.peakRssBytes <= 150 * 1048576;
    console.log(row([
      `harvest ${rows} orders`,
      `seed's Python requests loop: ${s(sd.ms)} (${range(seed)}), ${mb(sd.peakRssBytes)}; ` +
      `loop alone ${s(sd.runMs!)}`,
      `${s(td.ms)} (${range(tide)}), ${mb(td.peakRssBytes)}; harvest run alone ${s(td.runMs!)}`,
      `${ratio.toFixed(2)}×`,
      "≤ 1.0× while also writing Parquet; ≤ 150 MB",
      `${yes(ratio <= 1 && rssOk)} (time ${yes(ratio <= 1)}, RSS ${yes(rssOk)})`,
    ]));
  } else {
    console.log(row([
      `harvest ${rows} orders`,
      "seed loop skipped (no python3/requests)",
      `${s(td.ms)} (${range(tide)}), ${mb(td.peakRssBytes)}`,
      "—",
      "≤ 1.0× while also writing Parquet; ≤ 150 MB",
      "—",
    ]));
  }
  const speedup = o.ms / f.ms;
  const runSpeedup = o.runMs! / f.runMs!;
  console.log(row([
    `4 key ranges vs 1 at ${latencyMs} ms per response`,
    "—",
    `1: ${s(o.ms)} (${range(one)}); 4: ${s(f.ms)} (${range(four)}), ${mb(f.peakRssBytes)}; ` +
    `harvest run alone: 1: ${s(o.runMs!)}, 4: ${s(f.runMs!)}`,
    `${speedup.toFixed(2)}× (run alone ${runSpeedup.toFixed(2)}×)`,
    "≥ 3×",
    `${yes(speedup >= 3)} (run alone ${yes(runSpeedup >= 3)})`,
  ]));
  const overGet = o.ms / g.ms;
  console.log(row([
    `harvest vs a plain keep-alive GET loop at ${latencyMs} ms per response`,
    `GET loop: ${s(g.ms)} (${range(get)}), ${mb(g.peakRssBytes)}`,
    `${s(o.ms)} (${range(one)}), ${mb(o.peakRssBytes)}`,
    `${overGet.toFixed(2)}×`,
    "≤ 1.1× (keep)",
    yes(overGet <= 1.1),
  ]));
  printReasons(sd, td);
  printBounds({ one: o, four: f, get: g, served: sv, pages: Math.ceil(rows / PAGE_SIZE) });
}

/**
 * Where the two latency rows stand against what this workload allows, from this run's own
 * figures. 4 key ranges cannot end before Tidemark has started and exited and the mock has
 * spent its own time on every page (its CPU while the GET loop paged without latency; it
 * serves one request at a time), nor before the two processes' CPU fits on the machine's
 * cores. The GET-loop pair splits into start (spawn to the first request), pages (first request
 * to last response) and exit (last response to exit), from the manifest's request times.
 */
function printBounds(
  m: { one: Pass; four: Pass; get: Pass; served: Pass; pages: number },
): void {
  const phase = (p: Pass, key: "startMs" | "pagesMs" | "tailMs") => p.phases?.[key] ?? Number.NaN;
  const startAndExit = (p: Pass) => phase(p, "startMs") + phase(p, "tailMs");
  const mockServes = m.served.serverCpuMs ?? Number.NaN;
  const floor = startAndExit(m.one) + mockServes;
  // The machine's cores are shared by the harvest (every thread of it) and the mock.
  const cores = navigator.hardwareConcurrency;
  const serverCpu = m.four.serverCpuMs ?? Number.NaN;
  const cpuFloor = (m.four.cpuMs + serverCpu) / cores;
  const cpuGoal = (cores * m.one.ms) / 3 - serverCpu;
  const ms = (value: number) => `${Math.round(value)} ms`;
  console.log(
    [
      `4 key ranges: the mock spends ${s(mockServes)} of CPU serving the ${m.pages} pages (to ` +
      `the GET loop, without latency) and Tidemark starts and exits in ${
        s(startAndExit(m.one))
      }: ` +
      `no harvest of this run could end before ${s(floor)} (at most ` +
      `${(m.one.ms / floor).toFixed(2)}× faster than 1 here, whatever the harvest's own CPU).`,
      `CPU of the 4-range pass: Tidemark ${s(m.four.cpuMs)} (user and system, every thread: ` +
      `V8's compiler and garbage-collector helpers and file I/O too), the mock ${s(serverCpu)}, ` +
      `on ${cores} cores: it cannot end before ${s(cpuFloor)} (at most ` +
      `${(m.one.ms / cpuFloor).toFixed(2)}× here); 3× needs Tidemark's CPU under ` +
      `${s(cpuGoal)} with this mock.`,
      `GET-loop pair, Tidemark vs the GET loop: spawn to first request ${
        ms(phase(m.one, "startMs"))
      }` +
      ` vs ${ms(phase(m.get, "startMs"))}; the ${m.pages} pages ${s(phase(m.one, "pagesMs"))} vs ` +
      `${s(phase(m.get, "pagesMs"))}; last response to exit ${ms(phase(m.one, "tailMs"))} vs ` +
      `${ms(phase(m.get, "tailMs"))} (the last batch's Parquet and commit, the switch, the ` +
      `report, the state's close).`,
    ].join("\n"),
  );
}

/**
 * Why the first row stands where it does: the part of each whole process that is not its work
 * (measured here), and where the rest goes (from CPU profiles of this workload, 1 key range
 * without latency; see the README's "Where the time and memory go").
 */
function printReasons(seed: Pass | undefined, tide: Pass): void {
  // The seed loop has no phase split: what is not its own timed loop is its start and exit.
  const beyondRun = (p: Pass) => s(p.ms - (p.runMs ?? Number.NaN));
  console.log(
    [
      "",
      `Tidemark runs with the harvest task's V8 flags (${HARVEST_V8_FLAGS.slice(11)}).`,
      `Start and exit (whole process minus the work itself): Tidemark ${beyondRun(tide)}` +
      (seed ? `, the seed loop ${beyondRun(seed)}` : "") +
      " — before the first request Deno reads the graph of the harvest's own entry " +
      "(lib/cli/harvest_main.ts: ~135 of its own modules, zod's ~100 files, every locale " +
      "included, js-yaml, Node's zlib and crypto layers) and evaluates it (~35 ms of it GC: " +
      "what module evaluation allocates survives), then reads the config and opens the lock, " +
      "the state and the output (~40 ms); the GET-loop split below measures when the " +
      "first request leaves. After the last page: the last batch's Parquet and commit, the replace " +
      "switch, the asset's complete event, the report (~35 ms), then the process exit.",
      "The harvest thread's CPU per page (~6.5 ms, CPU profile): Parquet ~1.3 ms (each page's " +
      "rows cast to column vectors when it is staged, then per batch the TypeScript encoder " +
      "and zstd), GC ~1.2 ms (what is parsed, cast and encoded: a staged page holds typed " +
      "arrays, not records), file calls of snapshots and parts ~0.85 ms, body read and JSON " +
      "parse ~0.7 ms, the HTTP client ~0.45 ms, typing ~0.4 ms, modules loaded ~0.4 ms (start), " +
      "event-loop turns between a batch's columns ~0.3 ms, hashing ~0.13 ms, manifest and " +
      "state commits under 0.1 ms. While a batch is encoded the thread turns to its event loop " +
      "after each millisecond of work (responses read, the next cursor request sent); each " +
      "response still waits up to that much longer (the first batch, before the encoder is " +
      "compiled, longer).",
      "Peak RSS: ~45 MB of it is the Deno binary mapped (polars is not loaded); the rest the " +
      "harvest's V8 heap and bodies.",
    ].join("\n"),
  );
}

if (import.meta.main) await run();
