/**
 * What a crash leaves, repaired by the next run: a page whose manifest line was appended but
 * whose commit was not is adopted (not fetched again); parts written but never described are
 * deleted and their pages fetched again; pages that shared a part are adopted together or not at
 * all. Each crash is reproduced exactly by rewinding the state and manifest of a finished run.
 */
import { join } from "node:path";
import { readRejects } from "../../lib/contracts/mod.ts";
import { verifyOut } from "../../lib/provenance/verify.ts";
import { assert, assertEquals } from "../assert.ts";
import {
  type MockFixture,
  ordersYaml,
  parquetKeys,
  partCount,
  rewindToCrash,
  run,
  sorted,
  sourceKeys,
  withMockRun,
  yamlConfig,
} from "./fixture.ts";

// rewindToCrash turns a finished run back into a crashed one by rewinding state and manifest;
// that reproduces a crash exactly only where parts land in the asset folder as they are written,
// which is append. Replace and merge stage their parts; the SIGKILL tests cover them.
function ordersConfig(batchSize: number) {
  return yamlConfig(
    ordersYaml({ name: "resume", asset: `batch_size: ${batchSize}\noutput: { mode: append }` }),
  );
}

async function assertExactlyOnce(fixture: MockFixture, out: string) {
  const keys = await parquetKeys(out, "Orders", ["OrderID"]);
  assertEquals(keys.length, new Set(keys).size, "no order written twice");
  assertEquals(sorted(keys), sourceKeys(fixture.db, "Orders", ["OrderID"]));
}

Deno.test("resume: pages whose manifest lines were written but not committed are adopted, not fetched again", async () => {
  await withMockRun(async (fixture, out) => {
    const first = await run(fixture, ordersConfig(100), out);
    assertEquals(first.report.totals.pages, 9);
    await rewindToCrash(out, { committed: 6 });
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
  await withMockRun(async (fixture, out) => {
    await run(fixture, ordersConfig(100), out);
    await rewindToCrash(out, { committed: 6, dropLines: 3 });
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
  await withMockRun(async (fixture, out) => {
    // Batches of 3 pages: pages 7-9 share one part; only 2 of their 3 lines reached the manifest.
    await run(fixture, ordersConfig(300), out);
    await rewindToCrash(out, { committed: 6, dropLines: 1 });
    const second = await run(fixture, ordersConfig(300), out);
    assertEquals(second.adoptedPages, 0);
    assertEquals(second.assets[0].orphansRemoved, 1);
    await assertExactlyOnce(fixture, out);
  });
});

Deno.test("resume: a whole batch whose lines were written is adopted", async () => {
  await withMockRun(async (fixture, out) => {
    await run(fixture, ordersConfig(300), out);
    await rewindToCrash(out, { committed: 6 });
    const before = await fixture.requests();
    const second = await run(fixture, ordersConfig(300), out);
    assertEquals(second.adoptedPages, 3);
    assertEquals(await fixture.requests() - before, 0);
    await assertExactlyOnce(fixture, out);
    assertEquals((await verifyOut(out)).mismatches, []);
  });
});

Deno.test("resume: rejects of pages fetched again are kept once, not once per attempt", async () => {
  await withMockRun(async (fixture, out) => {
    // A few orders break the `orders` contract (negative freight), spread over the pages.
    fixture.db.exec("UPDATE Orders SET Freight = -1 WHERE OrderID % 150 = 0");
    const bad = (fixture.db.prepare("SELECT OrderID FROM Orders WHERE Freight < 0 ORDER BY 1")
      .all() as { OrderID: number }[]).map((r) => r.OrderID);
    assert(bad.length >= 4, `${bad.length} bad orders`);
    const config = yamlConfig(ordersYaml({
      name: "rejects",
      asset: "contract: orders\nbatch_size: 100\noutput: { mode: append }",
    }));
    const first = await run(fixture, config, out);
    assertEquals(first.assets[0].rejected, bad.length);
    // Killed after the rejects of the last pages were appended, before their manifest lines.
    await rewindToCrash(out, { committed: 4, dropLines: 3 });
    const second = await run(fixture, config, out);
    assertEquals(second.crashedRuns, [first.runId]);
    const rejected: number[] = [];
    for await (const file of Deno.readDir(join(out, "rejects", "Orders"))) {
      for (const line of await readRejects(join(out, "rejects", "Orders", file.name))) {
        rejected.push(line.row.OrderID as number);
      }
    }
    assertEquals(rejected.sort((a, b) => a - b), bad, "each rejected order once");
    const keys = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(keys.length, new Set(keys).size, "no order written twice");
    const rejectedKeys = new Set(bad.map(String));
    assertEquals(
      sorted(keys),
      sourceKeys(fixture.db, "Orders", ["OrderID"]).filter((k) => !rejectedKeys.has(k)),
    );
  });
});
