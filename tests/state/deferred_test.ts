import { deferWrites } from "../../lib/state/deferred.ts";
import { openSqliteState } from "../../lib/state/sqlite.ts";
import { assertEquals } from "../assert.ts";

const START = {
  runId: "r1",
  startedAt: "2026-01-01T00:00:00.000Z",
  configSha256: "c",
  command: "harvest",
  assets: ["Orders"],
};

Deno.test("deferWrites: reads do not start the run; the first write does, once", async () => {
  const store = openSqliteState(":memory:");
  let starts = 0;
  let started: Promise<void> | undefined;
  const run = deferWrites(store, () =>
    started ??= (async () => {
      starts++;
      await store.startRun(START);
    })());
  assertEquals(await run.getWatermark("Orders"), undefined);
  assertEquals(await run.listSkips(), []);
  assertEquals(await run.pendingPages("Orders"), []);
  assertEquals(await store.listRuns(), [], "reading wrote nothing");
  await run.setWatermark({ assetId: "Orders", lastId: "5" });
  await run.recordSkip({ runId: "r1", assetId: "Orders", reason: "r", retryAt: null });
  assertEquals(starts, 1);
  assertEquals((await store.listRuns()).map((r) => r.runId), ["r1"]);
  assertEquals((await run.getWatermark("Orders"))?.lastId, "5");
  await run.close();
});
