/**
 * What a crash leaves, repaired by the next run: a page whose manifest line was appended but
 * whose commit was not is adopted (not fetched again); parts written but never described are
 * deleted and their pages fetched again; pages that shared a part are adopted together or not at
 * all. Each crash is reproduced exactly by rewinding the state and manifest of a finished run.
 */
import { verifyOut } from "../../lib/provenance/verify.ts";
import { assertEquals } from "../assert.ts";
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

function ordersConfig(batchSize: number) {
  return yamlConfig(ordersYaml({ name: "resume", asset: `batch_size: ${batchSize}` }));
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
