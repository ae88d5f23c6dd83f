import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { escapeHtml, renderHtmlReport, statusClass } from "../../lib/report/html.ts";
import { buildRunReport, RunReportBuilder } from "../../lib/report/run_report.ts";
import { checkHtml } from "./html_check.ts";
import { RUN, runRecords, T0 } from "./fixture.ts";

function report() {
  const builder = new RunReportBuilder(RUN, { clock: () => T0 + 3000, startedAt: T0 });
  builder.startAsset("Orders", { source: "initial", value: "1997-01-01", reason: "<no state>" });
  for (const r of runRecords()) builder.request(r);
  builder.error("Order Details", 'bad "row" & <tag>');
  return builder.build();
}

Deno.test("the HTML report is well-formed, self-contained HTML5", () => {
  const elements = checkHtml(renderHtmlReport(report()));
  assert(elements.some((e) => e.name === "meta" && e.attributes.charset === "utf-8"));
  assert(elements.some((e) => e.name === "style"));
  assertEquals(elements.filter((e) => e.name === "title").length >= 1, true);
});

Deno.test("the timeline has one bar per manifest line", () => {
  const elements = checkHtml(renderHtmlReport(report()));
  const bars = elements.filter((e) => e.name === "g" && e.attributes.class === "req");
  assertEquals(bars.length, runRecords().length);
  assertEquals(bars.map((b) => b.attributes["data-status"]), ["200", "200", "200", "304"]);
});

Deno.test("retries and waits are visible: every attempt is drawn, sleeps hatched", () => {
  const html = renderHtmlReport(report());
  const retried = html.slice(html.indexOf('data-line="2"'), html.indexOf('data-line="3"'));
  assertEquals(retried.match(/class="s-[^"]+"/g), [
    'class="s-429"',
    'class="s-5xx"',
    'class="s-2xx"',
  ]);
  assertEquals((retried.match(/class="wait"/g) ?? []).length, 2);
  assertStringIncludes(retried, "3 attempts");
});

Deno.test("text from the run is escaped in the page", () => {
  const html = renderHtmlReport(report());
  assertStringIncludes(html, "bad &quot;row&quot; &amp; &lt;tag&gt;");
  assertStringIncludes(html, "&lt;no state&gt;");
  assertEquals(escapeHtml(`<a href='x'>&</a>`), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
});

Deno.test("a run without requests still renders a valid page", () => {
  const empty = buildRunReport(RUN, []);
  const elements = checkHtml(renderHtmlReport(empty));
  assertEquals(elements.filter((e) => e.attributes.class === "req").length, 0);
});

Deno.test("attempt colours follow the status family", () => {
  assertEquals(
    [200, 304, 429, 503, 404, null].map((s) => statusClass(s)),
    ["s-2xx", "s-304", "s-429", "s-5xx", "s-4xx", "s-sql"],
  );
  assertEquals(statusClass(null, "timeout"), "s-fail");
});
