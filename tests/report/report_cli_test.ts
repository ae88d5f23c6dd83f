import { assertEquals, assertStringIncludes } from "../assert.ts";
import { RunReportBuilder } from "../../lib/report/run_report.ts";
import { writeRunReport } from "../../lib/report/report_files.ts";
import { checkHtml } from "./html_check.ts";
import { RUN, runRecords, T0 } from "./fixture.ts";
import { cli } from "../cli/capture.ts";

async function withRun(fn: (out: string) => Promise<void>): Promise<void> {
  const out = await Deno.makeTempDir();
  try {
    const builder = new RunReportBuilder(RUN, { clock: () => T0 + 3000, startedAt: T0 });
    for (const r of runRecords()) builder.request(r);
    await writeRunReport(out, builder.build(), { html: false });
    await fn(out);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

Deno.test("tidemark report prints the latest run as a text table by default", async () => {
  await withRun(async (out) => {
    const { code, stdout } = await cli(["report", "--out", out]);
    assertEquals(code, 0);
    assertStringIncludes(stdout, `run ${RUN}  succeeded`);
    assertStringIncludes(stdout, "Order Details");
  });
});

Deno.test("tidemark report --format json prints the report JSON, --format html a page", async () => {
  await withRun(async (out) => {
    const json = await cli(["report", "--out", out, "--run", RUN, "--format", "json"]);
    assertEquals(JSON.parse(json.stdout).totals.requests, 4);
    const html = await cli(["report", "--out", out, "--format", "html"]);
    const bars = checkHtml(html.stdout).filter((e) => e.attributes.class === "req");
    assertEquals(bars.length, 4);
  });
});

Deno.test("tidemark report refuses a bad format, an unknown run and a missing folder", async () => {
  await withRun(async (out) => {
    const format = await cli(["report", "--out", out, "--format", "pdf"]);
    assertEquals(format.code, 2);
    assertStringIncludes(format.stderr, "--format must be one of text, json, html");
    const run = await cli(["report", "--out", out, "--run", "nope"]);
    assertEquals(run.code, 2);
    assertStringIncludes(run.stderr, `latest runs: ${RUN}`);
    assertEquals((await cli(["report", "--out", `${out}/x`])).code, 2);
    assertEquals((await cli(["report"])).code, 2);
  });
});
