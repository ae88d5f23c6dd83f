import { folderDigest } from "../../reliability/harness.ts";
import { assertEquals } from "../assert.ts";
import { ordersYaml, run, withMockRun, withState, yamlConfig } from "./fixture.ts";

// No backoff: a failing page uses its three attempts at once.
const ORDERS = yamlConfig(ordersYaml({
  size: 200,
  top: "retry: { max_attempts: 3, base_ms: 0, cap_ms: 0 }",
}));

Deno.test("a run that fails within its first batch leaves out/ and state byte for byte as they were", async () => {
  await withMockRun(async (fixture, out) => {
    const first = await run(fixture, ORDERS, out);
    assertEquals(first.exitCode, 0);
    const before = await folderDigest(out);
    // Page 1 answers, page 2 fails for good: page 1 was staged, never committed, and is dropped.
    const failing = await run(fixture, ORDERS, out, { fullRefresh: true });
    assertEquals(failing.exitCode, 1);
    assertEquals(failing.reportPaths, null);
    assertEquals(await folderDigest(out), before);
    const runs = await withState(out, (state) => state.listRuns());
    assertEquals(runs.map((r) => r.runId), [first.runId], "no run row for the failed run");
  }, { faultScript: [...Array(5).fill("ok"), "ok", "500", "500", "500"] });
});

Deno.test("a run that fails on its first response writes no config stamp, plan, manifest line or report", async () => {
  await withMockRun(async (fixture, out) => {
    const failing = await run(fixture, ORDERS, out);
    assertEquals(failing.exitCode, 1);
    const files = [...(await folderDigest(out)).keys()];
    assertEquals(
      files.filter((f) => !f.startsWith("state.sqlite") && f !== ".tidemark.lock"),
      [],
      "only the state file and the folder's lock",
    );
    assertEquals(await withState(out, (state) => state.listRuns()), []);
  }, { faultScript: ["500", "500", "500"] });
});
