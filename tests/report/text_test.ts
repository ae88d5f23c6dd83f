import { assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { renderTextReport } from "../../lib/report/text.ts";
import { RunReportBuilder } from "../../lib/report/run_report.ts";
import { formatBytes, formatCount, formatSeconds } from "../../lib/core/units.ts";
import { RUN, runRecords, T0 } from "./fixture.ts";

Deno.test("the text report has a line per asset, a total line and the errors", () => {
  const builder = new RunReportBuilder(RUN, { clock: () => T0 + 3000, startedAt: T0 });
  builder.startAsset("Orders", { source: "state", value: "1997-01-01", reason: "watermark" });
  for (const r of runRecords()) builder.request(r);
  builder.skip("Order Details", "wait 900 s > max_wait_s 120");
  const text = renderTextReport(builder.build());
  const lines = text.split("\n");
  assertMatch(lines[0], new RegExp(`^run ${RUN}  partial  3\\.0 s`));
  assertMatch(lines[2], /^asset\s+status\s+pages\s+records/);
  assertMatch(
    lines[3],
    /^Orders\s+ok\s+2\s+400\s+0\s+2\s+1\s+0\s+0\s+9\.9 KB\s+.*state: watermark$/,
  );
  assertMatch(lines[4], /^Order Details\s+skipped\s+2\s+500\s+0\s+0\s+0\s+1\s+1/);
  assertMatch(lines[6], /^total \(2\)\s+partial\s+4\s+900/);
  assertStringIncludes(text, "skipped Order Details: wait 900 s > max_wait_s 120");
  // Numeric columns line up on the right.
  assertEquals(lines[3].indexOf("400") + 3, lines[2].indexOf("records") + 7);
});

Deno.test("units are human: bytes, seconds, counts", () => {
  assertEquals([formatBytes(512), formatBytes(1536), formatBytes(5 * 1024 ** 3)], [
    "512 B",
    "1.5 KB",
    "5.0 GB",
  ]);
  assertEquals([formatSeconds(0.042), formatSeconds(12.34), formatSeconds(754)], [
    "42 ms",
    "12.3 s",
    "12m34s",
  ]);
  assertEquals(formatCount(1234567), "1,234,567");
});
