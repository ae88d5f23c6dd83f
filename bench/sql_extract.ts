/**
 * SQL extractor benchmark: the Northwind line-items query (Orders ⋈ Order Details from 1997-01-01,
 * ≈ 1.9 M rows at scale 1200) against three ways of reading it, measured in the same run, each
 * in its own process so its peak RSS is its own:
 *
 * - `sqlite3` (the command-line tool) dumping the query as CSV to a file — the floor;
 * - bare `node:sqlite`: `StatementSync.iterate()` in array mode, doing nothing with the rows;
 * - `tidemark extract` → Parquet partitioned by year (manifest, state and report included).
 *
 * Prints median wall seconds, CPU seconds and peak RSS, the ratios, `tidemark extract`'s peak
 * RSS at scale 300 against 1200, and one run with smaller chunks (the memory/part-size lever). Goals: extract ≤ 1.5 × the sqlite3 dump and ≤ 2 × the
 * bare iterate; peak RSS ≤ 200 MB and flat between the scales. Databases are generated once
 * and cached under `.bench/`.
 *
 * Run: `deno task bench sql_extract` (or `deno run -A bench/sql_extract.ts`).
 * @module
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { commitTemporaryFile, temporaryPathFor } from "../lib/core/atomic_file.ts";
import { generateNorthwind } from "../mock_api/data/northwind.ts";
import { LINE_ITEMS_QUERY } from "../jobs/northwind_sql.ts";

const DIR = ".bench/sql_extract";
const START = "1997-01-01";
const REPEATS = 3;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ITERATE = new URL("./sql_iterate.ts", import.meta.url).pathname;
/** The permissions of `deno task extract`, so the benchmark measures what users run. */
const EXTRACT_PERMISSIONS = [
  "--allow-net=127.0.0.1,localhost",
  "--allow-read",
  "--allow-write=.",
  "--allow-ffi",
  "--allow-env",
  "--allow-sys",
  "--v8-flags=--expose-gc,--max-semi-space-size=4",
];

/** One measured process. */
interface Measure {
  /** Wall seconds. */
  seconds: number;
  /** User + system CPU seconds (null when /usr/bin/time is missing). */
  cpu: number | null;
  /** Peak resident set, MB. */
  rssMb: number;
  /** CPU seconds by thread name (Linux), last sample before the process ended. */
  threads?: Record<string, number>;
}

async function database(scale: number): Promise<string> {
  const path = join(DIR, `northwind-${scale}.db`);
  if (await Deno.stat(path).catch(() => null)) return path;
  await Deno.mkdir(DIR, { recursive: true });
  console.log(`generating ${path} (scale ${scale}, cached for later runs)…`);
  const tmp = temporaryPathFor(path);
  try {
    generateNorthwind(tmp, { scale }).close();
    await commitTemporaryFile(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
  return path;
}

function hasTool(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const TIME = "/usr/bin/time";

/**
 * Runs a command, timing it; peak RSS from `/usr/bin/time` when present, else by sampling the
 * child's VmHWM from /proc while it runs.
 */
async function measure(
  cmd: string,
  args: string[],
  stdin?: string,
  sampleThreads = false,
): Promise<Measure> {
  const timed = hasTool(TIME);
  const report = join(DIR, "time.txt");
  const command = timed
    ? new Deno.Command(TIME, {
      args: ["-o", report, "-f", "%e %U %S %M", cmd, ...args],
      stdin: stdin ? "piped" : "null",
      stdout: "null",
      stderr: "piped",
    })
    : new Deno.Command(cmd, {
      args,
      stdin: stdin ? "piped" : "null",
      stdout: "null",
      stderr: "piped",
    });
  const started = performance.now();
  const child = command.spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  let sampled = 0;
  let done = false;
  const threads = new Map<string, { name: string; cpu: number }>();
  const sampler = (async () => {
    while ((!timed || sampleThreads) && !done) {
      // Deno lets only --allow-all read another process's /proc entries: `sh` reads them.
      const stats = await procStats(child.pid, timed);
      if (!timed) sampled = Math.max(sampled, stats.hwmKb);
      if (sampleThreads) { for (const [tid, t] of stats.threads) threads.set(tid, t); }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const output = await child.output();
  done = true;
  await sampler;
  const seconds = (performance.now() - started) / 1000;
  if (!output.success) {
    throw new Error(
      `${cmd} ${args.slice(0, 3).join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  const byName: Record<string, number> = {};
  for (const { name, cpu } of threads.values()) byName[name] = (byName[name] ?? 0) + cpu;
  const threadCpu = sampleThreads ? { threads: byName } : {};
  if (!timed) return { seconds, cpu: null, rssMb: sampled / 1024, ...threadCpu };
  const [e, u, s, m] = (await Deno.readTextFile(report)).trim().split(/\s+/).slice(-4).map(Number);
  return { seconds: e, cpu: u + s, rssMb: m / 1024, ...threadCpu };
}

const TICKS_PER_SECOND = 100;

/**
 * VmHWM and per-thread CPU seconds of `pid` (of its first child when `child`: the process
 * under /usr/bin/time), read by `sh` from /proc; empty when the process is gone.
 */
async function procStats(
  pid: number,
  child: boolean,
): Promise<{ hwmKb: number; threads: Map<string, { name: string; cpu: number }> }> {
  const target = child ? `$(cut -d' ' -f1 /proc/${pid}/task/${pid}/children)` : String(pid);
  const script = `p=${target}; [ -n "$p" ] || exit 0; grep VmHWM /proc/$p/status; ` +
    `for t in /proc/$p/task/*; do echo "T \${t##*/} $(cat $t/stat)"; done`;
  const threads = new Map<string, { name: string; cpu: number }>();
  let hwmKb = 0;
  const out = await new Deno.Command("sh", { args: ["-c", script], stderr: "null" }).output();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const hwm = /^VmHWM:\s+(\d+)/.exec(line);
    if (hwm) hwmKb = Number(hwm[1]);
    if (!line.startsWith("T ") || !line.includes(")")) continue;
    const tid = line.split(" ")[1];
    const name = line.slice(line.indexOf("(") + 1, line.lastIndexOf(")")).replace(/-\d+$/, "");
    const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
    threads.set(tid, { name, cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND });
  }
  return { hwmKb, threads };
}

function sqlite3Dump(db: string, csv: string): Promise<Measure> {
  // The query is sent on stdin with the parameter bound by the tool, as a client would bind it.
  const script = `.parameter set :start '${START}'\n.headers on\n.mode csv\n.output ${csv}\n` +
    `${LINE_ITEMS_QUERY};\n`;
  return measure("sqlite3", [db], script);
}

function bareIterate(db: string): Promise<Measure> {
  return measure(Deno.execPath(), ["run", "--allow-read", ITERATE, db, LINE_ITEMS_QUERY, START]);
}

async function tidemarkExtract(db: string, out: string, chunkRows = 100_000): Promise<Measure> {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  return measure(
    Deno.execPath(),
    [
      "run",
      ...EXTRACT_PERMISSIONS,
      MAIN,
      "extract",
      "--db",
      db,
      "--out",
      out,
      "--asset",
      "line_items",
      "--query",
      LINE_ITEMS_QUERY,
      "--param",
      `start=${START}`,
      "--partition-by",
      "year(OrderDate)",
      "--chunk-rows",
      String(chunkRows),
    ],
    undefined,
    true,
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function summarize(runs: Measure[]): Measure {
  const cpus = runs.map((r) => r.cpu).filter((c): c is number => c !== null);
  return {
    seconds: median(runs.map((r) => r.seconds)),
    cpu: cpus.length ? median(cpus) : null,
    rssMb: Math.max(...runs.map((r) => r.rssMb)),
  };
}

function rowCount(db: string): number {
  const conn = new DatabaseSync(db, { readOnly: true });
  try {
    const row = conn.prepare(`SELECT count(*) AS n FROM (${LINE_ITEMS_QUERY})`).get({
      start: START,
    }) as { n: number };
    return row.n;
  } finally {
    conn.close();
  }
}

/** Runs the benchmark and prints its table. */
export async function run(): Promise<void> {
  const big = await database(1200);
  const small = await database(300);
  const rows = rowCount(big);
  const haveSqlite3 = new Deno.Command("sh", { args: ["-c", "command -v sqlite3"] })
    .outputSync().success;
  if (!haveSqlite3) {
    console.log("sqlite3 is not installed (apt-get install -y sqlite3): its row is skipped");
  }
  console.log(
    `${rows.toLocaleString("en")} rows; ${REPEATS} runs each, interleaved; ` +
      `peak RSS from ${hasTool(TIME) ? "/usr/bin/time" : "/proc VmHWM samples"}`,
  );
  const dumps: Measure[] = [], iterates: Measure[] = [], extracts: Measure[] = [];
  for (let i = 0; i < REPEATS; i++) {
    if (haveSqlite3) dumps.push(await sqlite3Dump(big, join(DIR, "dump.csv")));
    iterates.push(await bareIterate(big));
    extracts.push(await tidemarkExtract(big, join(DIR, "out-1200")));
  }
  const extractSmall = summarize([await tidemarkExtract(small, join(DIR, "out-300"))]);
  const extractSmallChunks = summarize([
    await tidemarkExtract(big, join(DIR, "out-1200-25k"), 25_000),
  ]);
  await Deno.remove(join(DIR, "dump.csv")).catch(() => {});
  const dump = dumps.length ? summarize(dumps) : null;
  const iterate = summarize(iterates);
  const extract = summarize(extracts);

  const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}×` : "–");
  const line = (name: string, m: Measure) =>
    `| ${name.padEnd(34)} | ${m.seconds.toFixed(2).padStart(6)} | ${
      (m.cpu?.toFixed(2) ?? "–").padStart(6)
    } | ${ratio(m.seconds, dump?.seconds).padStart(10)} | ${
      ratio(m.seconds, iterate.seconds).padStart(10)
    } | ${m.rssMb.toFixed(0).padStart(6)} |`;
  console.log("");
  console.log(
    "| case (scale 1200)                  | wall s |  cpu s | × sqlite3  | × iterate  | RSS MB |",
  );
  console.log(
    "|------------------------------------|--------|--------|------------|------------|--------|",
  );
  if (dump) console.log(line("sqlite3 CSV dump (floor)", dump));
  console.log(line("node:sqlite iterate, bare", iterate));
  console.log(line("tidemark extract → Parquet by year", extract));
  console.log(line("  same, --chunk-rows 25000 (1 run)", extractSmallChunks));
  console.log("");
  // The thread split of the run closest to the median that has one.
  const threads = extracts
    .filter((m) => m.threads && Object.keys(m.threads).length > 0)
    .sort((a, b) =>
      Math.abs(a.seconds - extract.seconds) - Math.abs(b.seconds - extract.seconds)
    )[0]
    ?.threads;
  if (threads && Object.keys(threads).length > 0) {
    const top = Object.entries(threads).sort((a, b) => b[1] - a[1]).slice(0, 4)
      .map(([name, cpu]) =>
        `${name === "worker" ? "reader thread (worker)" : name} ${cpu.toFixed(2)}`
      );
    console.log(
      `tidemark extract CPU s by thread (median run): ${top.join(", ")} — the reader thread ` +
        `is the critical path; bare iterate ${iterate.cpu?.toFixed(2) ?? "?"} s`,
    );
  }
  console.log(
    `tidemark extract peak RSS: scale 300 ${extractSmall.rssMb.toFixed(0)} MB, scale 1200 ` +
      `${extract.rssMb.toFixed(0)} MB (${ratio(extract.rssMb, extractSmall.rssMb)})`,
  );
  const goals = [
    dump ? ["extract ≤ 1.5 × sqlite3 dump", extract.seconds <= 1.5 * dump.seconds] : null,
    ["extract ≤ 2 × bare iterate", extract.seconds <= 2 * iterate.seconds],
    ["extract peak RSS ≤ 200 MB", extract.rssMb <= 200],
    ["RSS flat (1200 ≤ 1.25 × 300)", extract.rssMb <= 1.25 * extractSmall.rssMb],
  ].filter((g): g is [string, boolean] => g !== null);
  console.log(
    `goals: ${goals.map(([name, ok]) => `${name}: ${ok ? "met" : "NOT met"}`).join("; ")}`,
  );
}

if (import.meta.main) await run();
