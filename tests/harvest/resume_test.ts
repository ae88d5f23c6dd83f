/**
 * What a crash leaves, repaired by the next run: a page whose manifest line was appended but
 * whose commit was not is adopted (not fetched again); parts written but never described are
 * deleted and their pages fetched again; pages that shared a part are adopted together or not at
 * all. Each crash is reproduced exactly by rewinding the state and manifest of a finished run.
 */
import { DatabaseSync } from "node:sqlite";
import { readPlan, savePlan } from "../../lib/harvest/asset_plan.ts";
import { verifyOut } from "../../lib/provenance/verify.ts";
import { openSqliteState } from "../../lib/state/mod.ts";
import { assertEquals } from "../assert.ts";
import {
  BASE_URL,
  type MockFixture,
  mockFixture,
  parquetKeys,
  partCount,
  run,
  sorted,
  sourceKeys,
  tempOut,
  yamlConfig,
} from "./fixture.ts";

function ordersConfig(batchSize: number) {
  return yamlConfig(`name: resume
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: 100 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    batch_size: ${batchSize}
`);
}

/**
 * Rewinds a finished run to the instant of a crash: pages after `committed` uncommitted, the
 * asset in progress, the run still "running", and the last `dropLines` manifest lines gone.
 */
async function rewind(out: string, committed: number, dropLines: number): Promise<void> {
  const db = new DatabaseSync(`${out}/state.sqlite`);
  db.prepare("DELETE FROM pages WHERE page > ?").run(committed);
  db.exec("UPDATE pages SET completed = 0, completed_by = NULL");
  db.exec("UPDATE runs SET status = 'running', finished_at = NULL");
  db.close();
  const state = openSqliteState(`${out}/state.sqlite`);
  const plan = await readPlan(state, "Orders");
  await savePlan(state, "Orders", { ...plan!, status: "active" });
  await state.close();
  // Killed before the asset completed: its `complete` event was never written either.
  const lines = (await Deno.readTextFile(`${out}/manifest.jsonl`)).trimEnd().split("\n")
    .filter((line) => !line.includes('"event":"complete"'));
  await Deno.writeTextFile(
    `${out}/manifest.jsonl`,
    lines.slice(0, lines.length - dropLines).join("\n") + "\n",
  );
}

async function withOut(fn: (fixture: MockFixture, out: string) => Promise<void>) {
  const fixture = mockFixture();
  const out = await tempOut();
  try {
    await fn(fixture, out);
  } finally {
    fixture.close();
    await Deno.remove(out, { recursive: true });
  }
}

async function assertExactlyOnce(fixture: MockFixture, out: string) {
  const keys = await parquetKeys(out, "Orders", ["OrderID"]);
  assertEquals(keys.length, new Set(keys).size, "no order written twice");
  assertEquals(sorted(keys), sourceKeys(fixture.db, "Orders", ["OrderID"]));
}

Deno.test("resume: pages whose manifest lines were written but not committed are adopted, not fetched again", async () => {
  await withOut(async (fixture, out) => {
    const first = await run(fixture, ordersConfig(100), out);
    assertEquals(first.report.totals.pages, 9);
    await rewind(out, 6, 0);
    const before = await fixture.requests();
    const second = await run(fixture, ordersConfig(100), out);
    assertEquals(second.crashedRuns, [first.runId]);
    assertEquals(second.adoptedPages, 3);
    assertEquals(await fixture.requests() - before, 0, "nothing fetched again");
    await assertExactlyOnce(fixture, out);
    assertEquals((await verifyOut(out)).mismatches, []);
  });
});

Deno.test("resume: parts written but never described are deleted and their pages fetched again", async () => {
  await withOut(async (fixture, out) => {
    await run(fixture, ordersConfig(100), out);
    await rewind(out, 6, 3);
    const before = await fixture.requests();
    const second = await run(fixture, ordersConfig(100), out);
    assertEquals(second.adoptedPages, 0);
    assertEquals(second.assets[0].orphansRemoved, 3);
    assertEquals(second.assets[0].resumed, true);
    assertEquals(await fixture.requests() - before, 3, "pages 7, 8 and 9 again");
    assertEquals(await partCount(out, "Orders"), 9);
    await assertExactlyOnce(fixture, out);
    assertEquals((await verifyOut(out)).mismatches, []);
  });
});

Deno.test("resume: pages that shared a part are adopted together or not at all", async () => {
  await withOut(async (fixture, out) => {
    // Batches of 3 pages: pages 7-9 share one part; only 2 of their 3 lines reached the manifest.
    await run(fixture, ordersConfig(300), out);
    await rewind(out, 6, 1);
    const second = await run(fixture, ordersConfig(300), out);
    assertEquals(second.adoptedPages, 0);
    assertEquals(second.assets[0].orphansRemoved, 1);
    await assertExactlyOnce(fixture, out);
  });
});

Deno.test("resume: a whole batch whose lines were written is adopted", async () => {
  await withOut(async (fixture, out) => {
    await run(fixture, ordersConfig(300), out);
    await rewind(out, 6, 0);
    const before = await fixture.requests();
    const second = await run(fixture, ordersConfig(300), out);
    assertEquals(second.adoptedPages, 3);
    assertEquals(await fixture.requests() - before, 0);
    await assertExactlyOnce(fixture, out);
    assertEquals((await verifyOut(out)).mismatches, []);
  });
});
