/**
 * `deno task demo`: the whole product end to end, on this machine, in a few seconds. It generates
 * Northwind into `demo-out/.work/`, serves it on a free port with bearer auth, a rate limit and a
 * mild fault profile (fixed seed), runs the real harvest of `jobs/northwind.yaml` into
 * `demo-out/`, derives `line_items` (Order Details ⋈ Orders, by order year), prints the report
 * and where the Parquet, snapshots, manifest, state and report are, then verifies every snapshot
 * against the manifest, replays the whole out folder offline from its snapshots alone into
 * `demo-out/.work/replay/` and proves it holds the same rows, and stops the server.
 *
 * Running it again is safe and incremental: the source database is kept, three new orders (with
 * their lines) are added to it, and the harvest — resuming anything an interrupted demo left —
 * fetches and writes only what is new.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { describeResult } from "../lib/cli/harvest.ts";
import { loadConfig } from "../lib/config/load.ts";
import { harvest } from "../lib/harvest/run.ts";
import { compareOuts, formatComparison } from "../lib/replay/compare_outs.ts";
import { replayOut } from "../lib/replay/replay.ts";
import { formatVerifyResult, verifyOut } from "../lib/provenance/verify.ts";
import { generateNorthwind } from "../mock_api/data/northwind.ts";
import { startMockServer } from "../mock_api/server.ts";

const OUT = "demo-out";
const WORK_DIR = `${OUT}/.work`;
const DB_PATH = `${WORK_DIR}/northwind.sqlite`;
const TOKEN = "demo-token";
const CONFIG = fileURLToPath(new URL("./northwind.yaml", import.meta.url));
const REPLAY_DIR = `${WORK_DIR}/replay`;

/** Writes the database under a temporary name, then renames it into place. */
function generateDatabase(): void {
  Deno.mkdirSync(WORK_DIR, { recursive: true });
  const tmp = `${DB_PATH}.${Deno.pid}.tmp`;
  generateNorthwind(tmp, { scale: 1, seed: 42 }).close();
  Deno.renameSync(tmp, DB_PATH);
}

/** Adds `count` orders dated today, two lines each: what a re-run should pick up. */
function addOrders(count: number): number[] {
  const db = new DatabaseSync(DB_PATH);
  try {
    const today = `${new Date().toISOString().slice(0, 10)} 00:00:00.000`;
    const ids: number[] = [];
    const order = db.prepare(
      `INSERT INTO Orders (CustomerID, EmployeeID, OrderDate, RequiredDate, ShipVia, Freight,
         ShipName, ShipAddress, ShipCity, ShipPostalCode, ShipCountry)
       VALUES ('VINET', 5, ?, ?, 3, 32.38, 'Vins et alcools Chevalier', '59 rue de l''Abbaye',
         'Reims', '51100', 'France')`,
    );
    const line = db.prepare(
      `INSERT INTO "Order Details" (OrderID, ProductID, UnitPrice, Quantity, Discount)
       VALUES (?, ?, 14, 12, 0)`,
    );
    for (let i = 0; i < count; i++) {
      const id = Number(order.run(today, today).lastInsertRowid);
      line.run(id, 11);
      line.run(id, 42);
      ids.push(id);
    }
    return ids;
  } finally {
    db.close();
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const rerun = exists(DB_PATH) && exists(`${OUT}/state.sqlite`);
  if (rerun) {
    const ids = addOrders(3);
    console.log(
      `tidemark demo (re-run, incremental): ${DB_PATH} kept; added orders ${
        ids.join(", ")
      } with 2 lines each — only they should be fetched and written (delete ${OUT}/ to start clean)`,
    );
  } else {
    console.log(
      `tidemark demo (first run, into a fresh ${OUT}/): generating Northwind into ${DB_PATH}`,
    );
    generateDatabase();
  }
  const server = await startMockServer({
    db: DB_PATH,
    auth: "bearer",
    token: TOKEN,
    rateLimit: 10,
    rateWindowMs: 1_000,
    faults: { "500": 0.03, "503": 0.02, "429": 0.02, truncate: 0.01 },
    faultSeed: 7,
  });
  try {
    console.log(
      `serving it at ${server.url}: bearer auth, 10 requests/s, faults 500=3% 503=2% 429=2% truncate=1%`,
    );
    const loaded = await loadConfig(CONFIG, { env: { ...Deno.env.toObject(), API_TOKEN: TOKEN } });
    const result = await harvest(loaded, { out: OUT, baseUrl: server.url, logFormat: "human" });
    console.log("");
    console.log(describeResult(result));
    for (const d of result.derived) {
      console.log(
        `  parquet/${d.name}/  ${d.name}: ${d.status}${
          d.status === "ok" ? `, ${d.rows} rows` : ""
        }` +
          `${d.error ? ` (${d.error})` : ""}`,
      );
    }
    const verified = await verifyOut(OUT);
    console.log("");
    console.log(formatVerifyResult(verified));
    // Rebuild everything from raw/ + manifest.jsonl + configs/ alone, as `tidemark replay` does.
    await Deno.remove(REPLAY_DIR, { recursive: true }).catch(() => {});
    const replayed = await replayOut(OUT, REPLAY_DIR);
    const comparison = await compareOuts(OUT, REPLAY_DIR, replayed.assets);
    console.log("");
    console.log(`replayed ${OUT} offline into ${REPLAY_DIR}:`);
    console.log(formatComparison(comparison));
    const ok = result.exitCode === 0 && verified.ok && comparison.identical;
    console.log(
      ok
        ? `demo ok: open ${OUT}/${
          result.reportPaths?.html ?? result.reportPaths?.json
        } for the report; run it again to see an incremental run`
        : "demo FAILED: see the report above",
    );
    return ok ? 0 : 1;
  } finally {
    await server.close();
  }
}

if (import.meta.main) Deno.exit(await main());
