/**
 * Mock API benchmark: serve a `--scale 100` Northwind and page `Orders` with
 * `_size=1000` over HTTP, beside the floor of reading the same pages straight from `node:sqlite`
 * and `JSON.stringify`-ing them, in the same run. Goal: the server costs at most 2× the floor.
 * @module
 */
import { existsSync } from "node:fs";
import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import { generateNorthwind } from "../mock_api/data/northwind.ts";
import { startMockServer } from "../mock_api/server.ts";

const SCALE = 100;
const PAGE_SIZE = 1000;
const ROUNDS = 7;
const DB_PATH = `.bench/northwind-scale${SCALE}.sqlite`;
const TOKEN = "bench-token";

interface Pass {
  pages: number;
  rows: number;
  /** Wall-clock milliseconds. */
  ms: number;
  /** CPU milliseconds of the whole process (client, server and Deno's HTTP threads). */
  cpuMs: number;
}

/** Times `fn` in wall-clock and process CPU milliseconds. */
async function timed(fn: () => Promise<{ pages: number; rows: number }>): Promise<Pass> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const { pages, rows } = await fn();
  const used = process.cpuUsage(cpu);
  return { pages, rows, ms: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
}

/** Generates the scale-100 database once; later runs reuse it (same scale and seed, same file). */
function ensureDatabase(): number {
  if (existsSync(DB_PATH)) return 0;
  Deno.mkdirSync(".bench", { recursive: true });
  const started = performance.now();
  const tmp = `${DB_PATH}.${Deno.pid}.tmp`;
  generateNorthwind(tmp, { scale: SCALE }).close();
  Deno.renameSync(tmp, DB_PATH);
  return performance.now() - started;
}

/** The floor: keyset pages read from SQLite and serialized, as the server must at least do. */
function floorPass(db: DatabaseSync): Promise<Pass> {
  return timed(() => Promise.resolve(floorPages(db)));
}

function floorPages(db: DatabaseSync): { pages: number; rows: number } {
  const page = db.prepare(`SELECT * FROM Orders WHERE OrderID > ? ORDER BY OrderID LIMIT ?`);
  let after = -1;
  let pages = 0;
  let rows = 0;
  let bytes = 0;
  for (;;) {
    // One row more than a page tells whether another page follows, as a server must know.
    const batch = page.all(after, PAGE_SIZE + 1) as { OrderID: number }[];
    const rowsOfPage = batch.slice(0, PAGE_SIZE);
    bytes += JSON.stringify({ rows: rowsOfPage }).length;
    pages += 1;
    rows += rowsOfPage.length;
    if (batch.length <= PAGE_SIZE) break;
    after = rowsOfPage[PAGE_SIZE - 1].OrderID;
  }
  if (bytes === 0) throw new Error("floor read nothing");
  return { pages, rows };
}

/** Pages `Orders` through the server with `_next`, as a client would. */
function serverPass(base: string): Promise<Pass> {
  return timed(() => serverPages(base));
}

async function serverPages(base: string): Promise<{ pages: number; rows: number }> {
  let next: string | null = null;
  let pages = 0;
  let rows = 0;
  do {
    const url = new URL(`${base}/northwind/Orders.json`);
    url.searchParams.set("_size", String(PAGE_SIZE));
    if (next !== null) url.searchParams.set("_next", next);
    const res = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } });
    if (res.status !== 200) {
      throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
    }
    const body = await res.json() as { rows: unknown[]; next: string | null };
    pages += 1;
    rows += body.rows.length;
    next = body.next;
  } while (next !== null);
  return { pages, rows };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function row(cells: (string | number)[]): string {
  return cells.map((c, i) => i === 0 ? String(c).padEnd(38) : String(c).padStart(9)).join(" ");
}

function summary(passes: Pass[]): Pass {
  return {
    ...passes[0],
    ms: median(passes.map((p) => p.ms)),
    cpuMs: median(passes.map((p) => p.cpuMs)),
  };
}

/** Runs the benchmark and prints its table. */
export async function run(): Promise<void> {
  const generatedMs = ensureDatabase();
  if (generatedMs > 0) console.log(`generated ${DB_PATH} in ${(generatedMs / 1000).toFixed(1)} s`);
  const db = new DatabaseSync(DB_PATH, { readOnly: true });
  const server = await startMockServer({ db: DB_PATH, token: TOKEN });
  const plain = await startMockServer({ db: DB_PATH, token: TOKEN, etag: false });
  try {
    // One warm-up pass each (JIT, page cache), then interleaved rounds so load drifts on a
    // shared machine hit every row alike; the table shows medians.
    const runs: [string, () => Promise<Pass>][] = [
      ["node:sqlite + JSON.stringify (floor)", () => floorPass(db)],
      ["mock server over HTTP", () => serverPass(server.url)],
      ["  same, ETags off", () => serverPass(plain.url)],
    ];
    for (const [, pass] of runs) await pass();
    const passes: Pass[][] = runs.map(() => []);
    for (let i = 0; i < ROUNDS; i++) {
      for (const [j, [, pass]] of runs.entries()) passes[j].push(await pass());
    }
    const results = passes.map(summary);
    const f = results[0];
    for (const r of results) {
      if (r.rows !== f.rows) throw new Error(`server returned ${r.rows} rows, SQLite ${f.rows}`);
    }
    console.log(
      `Orders at scale ${SCALE}: ${f.rows} rows in pages of ${PAGE_SIZE}; median of ${ROUNDS}`,
    );
    console.log(row(["", "pages", "ms", "pages/s", "rows/s", "× floor", "CPU ms", "CPU ×"]));
    for (const [j, [name]] of runs.entries()) {
      const p = results[j];
      console.log(row([
        name,
        p.pages,
        p.ms.toFixed(1),
        (p.pages / p.ms * 1000).toFixed(1),
        Math.round(p.rows / p.ms * 1000),
        (p.ms / f.ms).toFixed(2),
        p.cpuMs.toFixed(1),
        (p.cpuMs / f.cpuMs).toFixed(2),
      ]));
    }
    const ratio = results[1].ms / f.ms;
    console.log(
      `goal: server ≤ 2.00× floor → ${ratio.toFixed(2)}× ${ratio <= 2 ? "met" : "NOT met"}`,
    );
  } finally {
    await Promise.all([server.close(), plain.close()]);
    db.close();
  }
}

if (import.meta.main) await run();
