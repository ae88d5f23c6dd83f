/**
 * Where an incremental asset starts, by precedence: `--full-refresh` > `--since` > the watermark
 * in state > the newest `load_date=` partition in the output (local folder or destination) >
 * `incremental.initial`. Each case checks the decision in the report and the filter actually
 * sent (`modified_after`).
 */
import { join } from "node:path";
import type { FetchFunction } from "../../lib/http/fetch_resilient.ts";
import { decideStart, type StoredWatermarks } from "../../lib/harvest/plan.ts";
import { newestLoadDate } from "../../lib/harvest/output_start.ts";
import { normalizeTimestamp } from "../../lib/state/watermark.ts";
import { assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { BASE_URL, type MockFixture, run, withMockRun, yamlConfig } from "./fixture.ts";

function postsConfig(destination?: string) {
  return yamlConfig(`name: wp
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: posts
    path: /wp-json/wp/v2/posts
    params: { orderby: id, order: asc }
    pagination: { type: page, limit: 100, total_pages_header: X-WP-TotalPages, end_statuses: [400] }
    data_path: ""
    primary_key: [id]
    incremental: { cursor_field: modified_gmt, param: modified_after, initial: "2001-02-03T00:00:00Z" }
    output: { format: raw, partition_by: [load_date, load_time]${
    destination ? `, destination: "${destination}"` : ""
  } }
`);
}

/** How the mock's WordPress writes `modified_gmt`: ISO-8601 without a zone or fraction. */
const SOURCE_SHAPE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

/** A transport that records the `modified_after` of every request. */
function recording(fixture: MockFixture): { fetch: FetchFunction; sent: (string | null)[] } {
  const sent: (string | null)[] = [];
  return {
    sent,
    fetch: (input, init) => {
      sent.push(new URL(input).searchParams.get("modified_after"));
      return fixture.fetch(input, init);
    },
  };
}

/** An earlier load's folder, as a harvest (or another tool) left it. */
async function loadFolder(root: string, date: string): Promise<void> {
  const dir = join(root, `load_date=${date}`, "load_time=101500");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "part-x.parquet"), "");
}

Deno.test("precedence: no state and no output start from incremental.initial", async () => {
  await withMockRun(async (fixture, out) => {
    const t = recording(fixture);
    const result = await run(fixture, postsConfig(), out, { fetch: t.fetch });
    const start = result.report.assets[0].start!;
    assertEquals([start.source, start.value], ["initial", "2001-02-03T00:00:00.000Z"]);
    assertEquals(t.sent[0], "2001-02-03T00:00:00Z", "incremental.initial as the user wrote it");
  });
});

Deno.test("precedence: without state, the newest load_date= folder of the output beats initial", async () => {
  await withMockRun(async (fixture, out) => {
    await loadFolder(join(out, "parquet/posts"), "2020-05-01");
    await loadFolder(join(out, "parquet/posts"), "2020-11-30");
    const t = recording(fixture);
    const result = await run(fixture, postsConfig(), out, { fetch: t.fetch });
    const start = result.report.assets[0].start!;
    assertEquals([start.source, start.value], ["output", "2020-11-30T00:00:00.000Z"]);
    assertStringIncludes(start.reason, "parquet/posts/load_date=2020-11-30");
    assertEquals(t.sent[0], "2020-11-30T00:00:00.000Z");
  });
});

Deno.test("precedence: a load_date= in the destination counts too, the newest of both wins", async () => {
  await withMockRun(async (fixture, out) => {
    const lake = join(out, "lake");
    await loadFolder(join(out, "parquet/posts"), "2020-05-01");
    await loadFolder(join(lake, "posts"), "2021-01-31");
    const found = await newestLoadDate(out, postsConfig(lake).config.assets[0]);
    assertEquals(found?.date, "2021-01-31");
    assertStringIncludes(found?.where ?? "", "posts/load_date=2021-01-31");
    const local = await newestLoadDate(out, postsConfig().config.assets[0]);
    assertEquals(local?.date, "2020-05-01");
    const t = recording(fixture);
    const result = await run(fixture, postsConfig(lake), out, { fetch: t.fetch });
    assertEquals(result.report.assets[0].start?.source, "output");
    assertEquals(t.sent[0], "2021-01-31T00:00:00.000Z");
  });
});

Deno.test("precedence: the watermark in state beats the output's load_date=", async () => {
  await withMockRun(async (fixture, out) => {
    await run(fixture, postsConfig(), out);
    await loadFolder(join(out, "parquet/posts"), "2099-01-01");
    const t = recording(fixture);
    const result = await run(fixture, postsConfig(), out, { fetch: t.fetch });
    const start = result.report.assets[0].start!;
    assertEquals(start.source, "state");
    assertEquals(normalizeTimestamp(t.sent[0]!), start.value);
    assertMatch(t.sent[0]!, SOURCE_SHAPE, "the source's own text of its newest value");
    assertEquals(String(start.value).startsWith("2099"), false);
  });
});

Deno.test("precedence: --since beats the watermark in state", async () => {
  await withMockRun(async (fixture, out) => {
    await run(fixture, postsConfig(), out);
    const t = recording(fixture);
    const result = await run(fixture, postsConfig(), out, { fetch: t.fetch, since: "2020-06-01" });
    const start = result.report.assets[0].start!;
    assertEquals([start.source, start.value], ["since", "2020-06-01T00:00:00.000Z"]);
    assertEquals(t.sent[0], "2020-06-01T00:00:00", "--since in the shape the source writes");
  });
});

Deno.test("precedence: --full-refresh beats --since (and everything else)", async () => {
  await withMockRun(async (fixture, out) => {
    await run(fixture, postsConfig(), out);
    await loadFolder(join(out, "parquet/posts"), "2099-01-01");
    const t = recording(fixture);
    const result = await run(fixture, postsConfig(), out, {
      fetch: t.fetch,
      since: "2020-06-01",
      fullRefresh: true,
    });
    const start = result.report.assets[0].start!;
    assertEquals([start.source, start.value], ["full_refresh", "2001-02-03T00:00:00.000Z"]);
    assertEquals(t.sent[0], "2001-02-03T00:00:00", "initial in the shape the source writes");
    assertEquals(result.assets[0].rows, 137, "every post again");
  });
});

Deno.test("precedence: decideStart orders the five rules", () => {
  const asset = postsConfig().config.assets[0];
  const output = { date: "2020-11-30", where: "parquet/posts/load_date=2020-11-30" };
  const stored: StoredWatermarks = { newest: "2021-01-01T00:00:00.000Z", oldest: null };
  const none: StoredWatermarks = { newest: null, oldest: null };
  const source = (s: StoredWatermarks, o: Parameters<typeof decideStart>[2]) =>
    decideStart(asset, s, { now: new Date("2026-01-01T00:00:00Z"), ...o }).decision.source;
  assertEquals(source(none, {}), "initial");
  assertEquals(source(none, { output }), "output");
  assertEquals(source(stored, { output }), "state");
  assertEquals(source(stored, { output, since: "2020-01-01" }), "since");
  assertEquals(source(stored, { output, since: "2020-01-01", fullRefresh: true }), "full_refresh");
});
