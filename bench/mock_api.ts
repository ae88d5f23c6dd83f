/**
 * Mock API benchmark (issue 4): serve a `--scale 100` Northwind and page `Orders` with
 * `_size=1000` over HTTP, beside the floor of reading the same pages straight from `node:sqlite`
 * and `JSON.stringify`-ing them, in the same run. Goal: the server costs at most 2× the floor.
 * @module
 */
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { generateNorthwind } from "../mock_api/data/northwind.ts";
import { startMockServer } from "../mock_api/server.ts";

const SCALE = 100;
const PAGE_SIZE = 1000;
const ROUNDS = 5;
const DB_PATH = `.bench/northwind-scale${SCALE}.sqlite`;
const TOKEN = "bench-token";

interface Pass {
  pages: number;
  rows: number;
  ms: number;
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
function floorPass(db: DatabaseSync): Pass {
  const started = performance.now();
  const page = db.prepare(`SELECT * FROM Orders WHERE OrderID > ? ORDER BY OrderID LIMIT ?`);
  let after = -1;
  let pages = 0;
  let rows = 0;
  let bytes = 0;
  for (;;) {
    const batch = page.all(after, PAGE_SIZE) as { OrderID: number }[];
    bytes += JSON.stringify({ rows: batch }).length;
    pages += 1;
    rows += batch.length;
    if (batch.length < PAGE_SIZE) break;
    after = batch[batch.length - 1].OrderID;
  }
  if (bytes === 0) throw new Error("floor read nothing");
  return { pages, rows, ms: performance.now() - started };
}

/** Pages `Orders` through the server with `_next`, as a client would. */
async function serverPass(base: string): Promise<Pass> {
  const started = performance.now();
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
  return { pages, rows, ms: performance.now() - started };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function row(cells: (string | number)[]): string {
  return cells.map((c, i) => String(c)[i === 0 ? "padEnd" : "padStart"](i === 0 ? 34 : 11))
    .join(" ");
}

/** Runs the benchmark and prints its table. */
export async function run(): Promise<void> {
  const generatedMs = ensureDatabase();
  if (generatedMs > 0) console.log(`generated ${DB_PATH} in ${(generatedMs / 1000).toFixed(1)} s`);
  const db = new DatabaseSync(DB_PATH, { readOnly: true });
  const server = await startMockServer({ db: DB_PATH, token: TOKEN });
  try {
    // One warm-up pass each (JIT, page cache), then the median of ROUNDS passes.
    floorPass(db);
    await serverPass(server.url);
    const floor: Pass[] = [];
    const served: Pass[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      floor.push(floorPass(db));
      served.push(await serverPass(server.url));
    }
    const f = { ...floor[0], ms: median(floor.map((p) => p.ms)) };
    const s = { ...served[0], ms: median(served.map((p) => p.ms)) };
    if (f.rows !== s.rows) throw new Error(`server returned ${s.rows} rows, SQLite ${f.rows}`);
    console.log(
      `Orders at scale ${SCALE}: ${s.rows} rows in pages of ${PAGE_SIZE}; median of ${ROUNDS}`,
    );
    console.log(row(["", "pages", "ms", "pages/s", "rows/s", "× floor"]));
    for (
      const [name, p] of [["node:sqlite + JSON.stringify (floor)", f], [
        "mock server over HTTP",
        s,
      ]] as const
    ) {
      console.log(row([
        name,
        p.pages,
        p.ms.toFixed(1),
        (p.pages / p.ms * 1000).toFixed(1),
        Math.round(p.rows / p.ms * 1000),
        (p.ms / f.ms).toFixed(2),
      ]));
    }
    console.log(`goal: server ≤ 2.00× floor → ${s.ms / f.ms <= 2 ? "met" : "NOT met"}`);
  } finally {
    await server.close();
    db.close();
  }
}

if (import.meta.main) await run();
