import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { runReportSchema } from "../../lib/report/report_model.ts";
import { buildRunReport, RunReportBuilder } from "../../lib/report/run_report.ts";
import { listRuns, readRunReport, writeRunReport } from "../../lib/report/report_files.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { httpRecord } from "../provenance/fixture.ts";
import { RUN, runRecords, T0 } from "./fixture.ts";

function builtReport() {
  let now = T0;
  const builder = new RunReportBuilder(RUN, { clock: () => now });
  builder.startAsset("Orders", { source: "state", value: "1997-01-01", reason: "watermark" });
  builder.startAsset("Order Details", { source: "initial", reason: "no state yet" });
  for (const r of runRecords()) builder.request(r);
  builder.rejects("Orders", 3);
  now = T0 + 1000;
  builder.finishAsset("Order Details");
  builder.error("Orders", "contract: 3 rows rejected");
  now = T0 + 3000;
  builder.finishAsset("Orders", "ok");
  return builder.build();
}

Deno.test("the run report counts pages, records, retries, 429s and 304s per asset", () => {
  const report = builtReport();
  const orders = report.assets.find((a) => a.asset === "Orders")!;
  assertEquals(
    [orders.pages, orders.requests, orders.records, orders.rejects, orders.retries],
    [2, 2, 400, 3, 2],
  );
  assertEquals([orders.status_429, orders.status_304, orders.bytes, orders.seconds], [
    1,
    0,
    10100,
    3,
  ]);
  assertEquals(orders.start, { source: "state", value: "1997-01-01", reason: "watermark" });
  const details = report.assets.find((a) => a.asset === "Order Details")!;
  assertEquals([details.pages, details.records, details.status_304, details.seconds], [
    2,
    500,
    1,
    1,
  ]);
});

Deno.test("the run report totals add up the assets", () => {
  const report = builtReport();
  assertEquals(report.totals, {
    assets: 2,
    pages: 4,
    requests: 4,
    records: 900,
    rejects: 3,
    retries: 2,
    status_429: 1,
    status_304: 1,
    skips: 0,
    bytes: 19100,
    seconds: 3,
    pages_failed: 0,
    errors: 1,
  });
  assertEquals(report.status, "succeeded");
  assertEquals(report.started_at, "2026-11-23T10:15:00.000Z");
});

Deno.test("the run report is valid against its schema and lists one request per manifest line", () => {
  const report = builtReport();
  assertEquals(runReportSchema.parse(report), report);
  assertEquals(report.requests.length, runRecords().length);
  const retried = report.requests[1];
  assertEquals(retried.tries.map((t) => [t.status, t.offset_ms, t.slept_ms]), [
    [429, 150, 2000],
    [503, 2160, 400],
    [200, 2700, 0],
  ]);
});

Deno.test("a failed or skipped asset makes the run partial and counts its skips", () => {
  const builder = new RunReportBuilder(RUN, { clock: () => T0 });
  builder.skip("Timeline alice", "wait of 900 s above max_wait_s 120");
  builder.error("Orders", "HTTP 404 for http://127.0.0.1:9000/x");
  builder.finishAsset("Orders");
  const report = builder.build();
  assertEquals(report.status, "partial");
  assertEquals(report.assets.map((a) => [a.asset, a.status, a.skips]), [
    ["Timeline alice", "skipped", 1],
    ["Orders", "failed", 0],
  ]);
});

Deno.test("a run whose every asset failed has failed", () => {
  const builder = new RunReportBuilder(RUN, { clock: () => T0 });
  builder.error("Orders", "HTTP 404 for http://127.0.0.1:9000/x");
  builder.finishAsset("Orders");
  assertEquals(builder.build().status, "failed");
});

Deno.test("a report rebuilt from the manifest alone is incomplete and counts what it proves", () => {
  const other = httpRecord({ run_id: "20261124T000000Z-000000", page: 9 });
  const report = buildRunReport(RUN, [...runRecords(), other]);
  assertEquals(report.status, "incomplete");
  assertEquals(report.finished_at, null);
  assertEquals(report.totals.requests, 4);
  assertEquals(report.totals.retries, 2);
  assertEquals(report.started_at, "2026-11-23T10:15:00.000Z");
  assert(report.assets.every((a) => a.status === "incomplete"));
  assertEquals(runReportSchema.safeParse(report).success, true);
});

Deno.test("writeRunReport writes JSON and HTML atomically with secrets masked", async () => {
  const out = await Deno.makeTempDir();
  try {
    const builder = new RunReportBuilder(RUN, { clock: () => T0 });
    builder.error("Orders", "login failed with password hunter2-secret");
    const written = await writeRunReport(out, builder.build(), { secrets: ["hunter2-secret"] });
    assertEquals(written, { json: `reports/${RUN}.json`, html: `reports/${RUN}.html` });
    const json = await Deno.readTextFile(`${out}/${written.json}`);
    const html = await Deno.readTextFile(`${out}/${written.html}`);
    assertEquals(json.includes("hunter2-secret") || html.includes("hunter2-secret"), false);
    assertStringIncludes(JSON.parse(json).assets[0].errors[0], "password ***");
    assertEquals([...Deno.readDirSync(`${out}/reports`)].length, 2);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("readRunReport picks the latest run and rebuilds one that wrote no report", async () => {
  const out = await Deno.makeTempDir();
  try {
    await writeRunReport(out, builtReport(), { html: false });
    const later = "20261124T080000Z-abcdef";
    const lines = [
      ...runRecords(),
      httpRecord({ run_id: later, timestamp: "2026-11-24T08:00:01.000Z" }),
    ];
    await Deno.writeTextFile(
      `${out}/manifest.jsonl`,
      lines.map((l) => JSON.stringify(l)).join("\n") + "\n",
    );
    assertEquals((await listRuns(out)).map((r) => [r.run_id, r.has_report]), [
      [RUN, true],
      [later, false],
    ]);
    const latest = await readRunReport(out);
    assertEquals([latest.run_id, latest.status, latest.totals.requests], [later, "incomplete", 1]);
    const first = await readRunReport(out, RUN);
    assertEquals([first.status, first.totals.rejects], ["succeeded", 3]);
    await assertRejects(() => readRunReport(out, "nope"), UsageError, 'no run "nope"');
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("readRunReport refuses a missing folder and a folder without runs", async () => {
  const out = await Deno.makeTempDir();
  try {
    await assertRejects(() => readRunReport(`${out}/x`), UsageError, "does not exist");
    await assertRejects(() => readRunReport(out), UsageError, "has no runs yet");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
