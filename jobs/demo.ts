/**
 * `deno task demo`, first version: generate Northwind into `demo-out/.work/`, serve it on a free
 * port with bearer auth and a tight rate limit, page `Orders` with `_next` using a plain fetch
 * loop that honours `Retry-After`, print what was seen, stop the server. The harvest issue swaps
 * the middle (`pageOrders`) for the real harvester.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { generateNorthwind } from "../mock_api/data/northwind.ts";
import { startMockServer } from "../mock_api/server.ts";

const WORK_DIR = "demo-out/.work";
const DB_PATH = `${WORK_DIR}/northwind.sqlite`;
const TOKEN = "demo-token";
const PAGE_SIZE = 20;

/** What the client saw. */
interface Seen {
  pages: number;
  rows: number;
  ids: Set<number>;
  throttled: number;
  waitedMs: number;
}

/** Writes the database under a temporary name, then renames it into place. */
function prepareDatabase(): void {
  Deno.mkdirSync(WORK_DIR, { recursive: true });
  const tmp = `${DB_PATH}.${Deno.pid}.tmp`;
  generateNorthwind(tmp, { scale: 1, seed: 42 }).close();
  Deno.renameSync(tmp, DB_PATH);
}

function retryAfterMs(header: string | null): number {
  if (header === null) return 1000;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  return Math.max(0, Date.parse(header) - Date.now());
}

/** A plain client: follow `next`, and on a 429 wait what `Retry-After` asks. */
async function pageOrders(base: string): Promise<Seen> {
  const seen: Seen = { pages: 0, rows: 0, ids: new Set(), throttled: 0, waitedMs: 0 };
  let next: string | null = null;
  do {
    const url = new URL(`${base}/northwind/Orders.json`);
    url.searchParams.set("_size", String(PAGE_SIZE));
    if (next !== null) url.searchParams.set("_next", next);
    const res = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } });
    if (res.status === 429) {
      await res.body?.cancel();
      const wait = retryAfterMs(res.headers.get("retry-after"));
      seen.throttled += 1;
      seen.waitedMs += wait;
      console.log(`  429 after ${seen.pages} pages: waiting ${wait} ms as Retry-After asks`);
      await new Promise((resolve) => setTimeout(resolve, wait));
      continue;
    }
    if (res.status !== 200) {
      throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
    }
    const body = await res.json() as { rows: { OrderID: number }[]; next: string | null };
    seen.pages += 1;
    seen.rows += body.rows.length;
    for (const r of body.rows) seen.ids.add(r.OrderID);
    next = body.next;
  } while (next !== null);
  return seen;
}

async function main(): Promise<number> {
  console.log(`tidemark demo: generating Northwind into ${DB_PATH}`);
  prepareDatabase();
  const server = await startMockServer({
    db: DB_PATH,
    auth: "bearer",
    token: TOKEN,
    rateLimit: 20,
    rateWindowMs: 2_000,
  });
  try {
    console.log(`serving it at ${server.url} (bearer auth, 20 requests per 2 s)`);
    const started = performance.now();
    const seen = await pageOrders(server.url);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const db = new DatabaseSync(DB_PATH, { readOnly: true });
    const expected = (db.prepare("SELECT count(*) AS n FROM Orders").get() as { n: number }).n;
    db.close();
    console.log(`pages: ${seen.pages}`);
    console.log(
      `rows: ${seen.rows} (${seen.ids.size} distinct OrderIDs; the database holds ${expected})`,
    );
    console.log(`429s received: ${seen.throttled} (waited ${(seen.waitedMs / 1000).toFixed(1)} s)`);
    console.log(`took ${seconds} s`);
    const ok = seen.rows === expected && seen.ids.size === expected;
    console.log(
      ok ? "demo ok: every order read exactly once" : "demo FAILED: rows missing or repeated",
    );
    return ok ? 0 : 1;
  } finally {
    await server.close();
  }
}

if (import.meta.main) Deno.exit(await main());
