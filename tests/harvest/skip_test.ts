/**
 * Rate-limit skips: a server-requested wait above `max_wait_s` skips the asset (its
 * committed pages kept, the skip recorded) while the others complete; the next run takes the
 * skipped asset first and finishes it, exactly once.
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import {
  northwindYaml,
  parquetKeys,
  run,
  sorted,
  sourceKeys,
  withMockRun,
  withState,
  yamlConfig,
} from "./fixture.ts";

Deno.test("skip: a wait above max_wait_s skips the asset, and the next run takes it first", async () => {
  let now = Date.UTC(2026, 0, 1, 10, 0, 0);
  // 8 requests per 10 minutes: the first run runs out while paging Order Details.
  const limited = { rateLimit: 8, rateWindowMs: 600_000, now: () => now };
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(
      northwindYaml({ size: 250, top: "workers: 1\nrate_limit: { max_wait_s: 120 }" }),
    );
    const first = await run(fixture, loaded, out);
    assertEquals(first.exitCode, 0, "a skip is not a failure");
    assertEquals(first.status, "partial");
    assertEquals(first.assets.map((a) => [a.asset, a.status]), [
      ["Orders", "ok"],
      ["Order Details", "skipped"],
    ]);
    assertStringIncludes(first.assets[1].error ?? "", "rate limited");
    const skips = await withState(out, (state) => state.listSkips());
    assertEquals(skips.map((s) => s.assetId), ["Order Details"]);

    now += 601_000; // the server's window has reset
    const second = await run(fixture, loaded, out);
    assertEquals(second.exitCode, 0);
    assertEquals(second.assets.map((a) => [a.asset, a.status]), [
      ["Order Details", "ok"],
      ["Orders", "unchanged"],
    ]);
    assertEquals(second.assets[0].resumed, true);
    assertEquals(await withState(out, (state) => state.listSkips()), []);
    const lines = await parquetKeys(out, "Order Details", ["OrderID", "ProductID"]);
    assertEquals(lines.length, new Set(lines).size);
    assertEquals(sorted(lines), sourceKeys(fixture.db, "Order Details", ["OrderID", "ProductID"]));
  }, limited);
});
