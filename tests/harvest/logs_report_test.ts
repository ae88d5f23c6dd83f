/**
 * What a run tells its user: `--log-level` picks the least severe line shown, every retry is one
 * `http.retry` line (status, attempt, wait), and the report gives pages ok and failed, retries,
 * records, bytes and time, and names each page that failed with its last error.
 */
import type { LogRecord } from "../../lib/report/logger.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { ordersYaml, run, withMockRun, yamlConfig } from "./fixture.ts";

/** A log output that keeps every JSON line. */
function captured(): {
  output: { writeSync(b: Uint8Array): number; isTerminal(): boolean };
  lines: LogRecord[];
} {
  const lines: LogRecord[] = [];
  const decoder = new TextDecoder();
  return {
    lines,
    output: {
      writeSync: (bytes) => {
        for (const line of decoder.decode(bytes).split("\n")) {
          if (line.trim()) lines.push(JSON.parse(line));
        }
        return bytes.length;
      },
      isTerminal: () => false,
    },
  };
}

const ORDERS = yamlConfig(ordersYaml({
  name: "logs",
  size: 200,
  top: "retry: { max_attempts: 3, base_ms: 1, cap_ms: 5 }",
}));

Deno.test("--log-level warn shows no info line; debug adds one line per committed page", async () => {
  for (
    const [level, expectInfo, expectDebug] of [["warn", false, false], [
      "debug",
      true,
      true,
    ]] as const
  ) {
    await withMockRun(async (fixture, out) => {
      const log = captured();
      await run(fixture, ORDERS, out, {
        logOutput: log.output,
        logFormat: "json",
        logLevel: level,
      });
      assertEquals(log.lines.some((l) => l.level === "info"), expectInfo, level);
      assertEquals(log.lines.some((l) => l.event === "page.committed"), expectDebug, level);
    });
  }
});

Deno.test("every retry is one http.retry line with its status, attempt and wait", async () => {
  await withMockRun(async (fixture, out) => {
    const log = captured();
    const result = await run(fixture, ORDERS, out, { logOutput: log.output, logFormat: "json" });
    assertEquals(result.exitCode, 0);
    const retries = log.lines.filter((l) => l.event === "http.retry");
    assertEquals(retries.map((l) => [l.status, l.attempt]), [[503, 1], [500, 2]]);
    assert(retries.every((l) => typeof l.wait_ms === "number"), "each says how long it waits");
    assertEquals(result.report.totals.retries, 2);
  }, { faultScript: ["503", "500"] });
});

Deno.test("the report counts pages ok and failed and names each failed page with its last error", async () => {
  await withMockRun(async (fixture, out) => {
    const result = await run(fixture, ORDERS, out);
    assertEquals(result.exitCode, 1);
    const asset = result.report.assets[0];
    // The page before the failure was staged, not committed: a failure drops it, as a kill would.
    assertEquals([asset.pages, asset.pages_failed], [0, 1]);
    assertEquals(asset.failed_pages.map((f) => f.page), [2]);
    assertStringIncludes(asset.failed_pages[0].error, "500");
    assert(asset.failed_pages[0].cursor !== null, "the cursor it was asked with");
    const totals = result.report.totals;
    assertEquals([totals.pages, totals.pages_failed, totals.records], [0, 1, 0]);
    assert(totals.seconds >= 0);
    assertEquals(result.reportPaths, null, "it wrote nothing, its report included");
  }, { faultScript: ["ok", "500", "500", "500"] });
});
