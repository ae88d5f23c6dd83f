/**
 * Change detection before a scheduled run: with nothing changed, a run sends one cheap request
 * per asset (`latest`) or only 304s (`etag`), writes nothing, and its report says why; with a
 * change, the asset is harvested as usual. Requests are counted by the mock's `/-/stats`.
 */
import { join } from "node:path";
import { readWalkRecord } from "../../lib/harvest/change_detection.ts";
import type { FetchFunction } from "../../lib/http/fetch_resilient.ts";
import { loadManifest } from "../../lib/provenance/manifest.ts";
import { formatVerifyResult, verifyOut } from "../../lib/provenance/verify.ts";
import { parquetFiles } from "../../lib/sinks/write_mode.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import {
  BASE_URL,
  type MockFixture,
  ordersYaml,
  run,
  TOKEN,
  withMockRun,
  withState,
  yamlConfig,
} from "./fixture.ts";

async function requestsSince(fixture: MockFixture, before: number): Promise<number> {
  return (await fixture.requests()) - before;
}

const WORDPRESS = yamlConfig(`name: wp
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: posts
    path: /wp-json/wp/v2/posts
    params: { orderby: id, order: asc }
    pagination: { type: page, limit: 50, total_pages_header: X-WP-TotalPages, end_statuses: [400] }
    data_path: ""
    primary_key: [id]
    incremental: { cursor_field: modified_gmt, param: modified_after, initial: "2000-01-01T00:00:00Z" }
    change_detection: { params: { orderby: modified, order: desc, per_page: 1 } }
    output: { format: raw, partition_by: [load_date] }
  - name: media
    path: /wp-json/wp/v2/media
    params: { orderby: id, order: asc }
    pagination: { type: page, limit: 50, total_pages_header: X-WP-TotalPages, end_statuses: [400] }
    data_path: ""
    primary_key: [id]
    incremental: { cursor_field: modified_gmt, param: modified_after, initial: "2000-01-01T00:00:00Z" }
    change_detection: { params: { orderby: modified, order: desc, per_page: 1 } }
    output: { format: raw }
`);

Deno.test("change detection: an unchanged source costs one request per asset and writes no data, only the probes' provenance", async () => {
  await withMockRun(async (fixture, out) => {
    const first = await run(fixture, WORDPRESS, out, { detectChanges: true });
    assertEquals(first.assets.map((a) => [a.asset, a.status]), [["posts", "ok"], ["media", "ok"]]);
    const parts = (await parquetFiles(join(out, "parquet/posts"))).length;
    const lines = (await loadManifest(join(out, "manifest.jsonl"))).entries.length;

    const before = await fixture.requests();
    const second = await run(fixture, WORDPRESS, out, { detectChanges: true });
    assertEquals(await requestsSince(fixture, before), 2, "one request per asset");
    assertEquals(second.exitCode, 0);
    assertEquals(second.assets.map((a) => a.status), ["unchanged", "unchanged"]);
    assertEquals((await parquetFiles(join(out, "parquet/posts"))).length, parts);
    // Each check's response is kept like a page's: a snapshot and a `probe` line, no rows.
    const added = (await loadManifest(join(out, "manifest.jsonl"))).entries.slice(lines)
      .map((e) => e.record);
    assertEquals(added.map((r) => [r.kind, r.event, r.probe, r.asset, r.status, r.output]), [
      ["event", "probe", "latest", "posts", 200, null],
      ["event", "probe", "latest", "media", 200, null],
    ]);
    for (const line of added) {
      assertEquals(line.snapshot, `raw/${line.asset}/${second.runId}/probe-latest.json`);
      assertEquals(line.rows, 1);
      assertEquals((line.params as Record<string, string>).per_page, "1");
    }
    const verified = await verifyOut(out);
    assertEquals(verified.ok, true, formatVerifyResult(verified));
    assertEquals(verified.warnings, []);
    const posts = second.report.assets.find((a) => a.asset === "posts")!;
    assertEquals(posts.status, "unchanged");
    assertEquals(posts.start?.source, "state");
    assertMatch(posts.notes.join("\n"), /change detection: 1 request .*is not after the watermark/);
  });
});

Deno.test("change detection: the probe is the newest-first request of one record", async () => {
  await withMockRun(async (fixture, out) => {
    await run(fixture, WORDPRESS, out);
    const seen: string[] = [];
    const fetch: FetchFunction = (input, init) => {
      seen.push(new URL(input).search);
      return fixture.fetch(input, init);
    };
    await run(fixture, WORDPRESS, out, { detectChanges: true, fetch, assets: ["posts"] });
    assertEquals(seen, ["?orderby=modified&order=desc&per_page=1"]);
  });
});

Deno.test("change detection: without it (a plain harvest) the pages are requested as usual", async () => {
  await withMockRun(async (fixture, out) => {
    await run(fixture, WORDPRESS, out);
    const before = await fixture.requests();
    const second = await run(fixture, WORDPRESS, out);
    assertEquals(await requestsSince(fixture, before), 2, "one page after the watermark each");
    assertEquals(second.assets.every((a) => a.changeDetection === undefined), true);
  });
});

const ORDERS_LATEST = yamlConfig(ordersYaml({
  size: 500,
  asset: [
    "incremental: { cursor_field: OrderDate, param: OrderDate__gte, param_format: datetime }",
    "change_detection: { params: { _sort_desc: OrderDate, _size: 1 } }",
    "output: { format: jsonl }",
  ].join("\n"),
}));

Deno.test("change detection: a record newer than the watermark makes the asset run and land it", async () => {
  await withMockRun(async (fixture, out) => {
    await run(fixture, ORDERS_LATEST, out, { detectChanges: true });
    const response = await fixture.write("/northwind/Orders/-/insert", {
      row: { CustomerID: "VINET", OrderDate: "2030-01-01 00:00:00.000", ShipCountry: "France" },
    });
    assertEquals(response.status, 201);
    const second = await run(fixture, ORDERS_LATEST, out, { detectChanges: true });
    assertEquals(second.assets[0].status, "ok");
    assertEquals(second.assets[0].rows, 1);
    assertMatch(second.report.assets[0].notes.join("\n"), /is after the watermark/);
  });
});

Deno.test("change detection: a record inserted with exactly the watermark's value is noticed and lands once", async () => {
  const config = yamlConfig(ordersYaml({
    size: 500,
    asset: [
      "incremental: { cursor_field: OrderDate, param: OrderDate__gte, param_format: datetime }",
      // A few records, so a record tied with the newest is among them.
      "change_detection: { params: { _sort_desc: OrderDate, _size: 5 } }",
      "output: { format: jsonl }",
    ].join("\n"),
  }));
  await withMockRun(async (fixture, out) => {
    await run(fixture, config, out, { detectChanges: true });
    const unchanged = await run(fixture, config, out, { detectChanges: true });
    assertEquals(unchanged.assets[0].status, "unchanged", "the newest record was written");
    const newest = fixture.db.prepare(`SELECT max(OrderDate) AS d FROM Orders`).get() as {
      d: string;
    };
    const response = await fixture.write("/northwind/Orders/-/insert", {
      row: { CustomerID: "VINET", OrderDate: newest.d, ShipCountry: "France" },
    });
    assertEquals(response.status, 201);
    const second = await run(fixture, config, out, { detectChanges: true });
    assertEquals(second.assets[0].status, "ok");
    assertEquals(second.assets[0].rows, 1, "only the new record, not the tied one written before");
    assertMatch(second.report.assets[0].notes.join("\n"), /did not write it/);
  });
});

const CUSTOMERS = yamlConfig(`name: customers
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
rate_limit: { max_wait_s: 120 }
assets:
  - name: Customers
    path: /northwind/Customers.json
    params: { _size: 20 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [CustomerID]
    output: { format: jsonl }
`);

Deno.test("change detection: an asset without a watermark re-walks its last pages with If-None-Match: only 304s", async () => {
  await withMockRun(async (fixture, out) => {
    const first = await run(fixture, CUSTOMERS, out, { detectChanges: true });
    const pages = first.assets[0].pages;
    assertEquals(pages, 5, "91 customers, 20 a page");
    const record = await withState(out, (state) => readWalkRecord(state, "Customers"));
    assertEquals(record?.pages.length, 5);
    assertEquals(record?.pages.at(-1)?.cursor_out, null);

    const before = await fixture.statuses();
    const lines = (await loadManifest(join(out, "manifest.jsonl"))).entries.length;
    const second = await run(fixture, CUSTOMERS, out, { detectChanges: true });
    const after = await fixture.statuses();
    assertEquals((after["304"] ?? 0) - (before["304"] ?? 0), 5, "every page answered 304");
    assertEquals((after["200"] ?? 0) - (before["200"] ?? 0), 0, "no body downloaded");
    assertEquals(second.assets[0].status, "unchanged");
    assertEquals(second.assets[0].rows, 0);
    assertEquals(second.report.assets[0].status_304, 5);
    assertStringIncludes(second.report.assets[0].notes.join("\n"), "304 Not Modified");
    const manifest = (await loadManifest(join(out, "manifest.jsonl"))).entries.map((e) => e.record);
    const added = manifest.slice(lines);
    assertEquals(added.length, 5);
    assert(added.every((r) => r.unchanged === true && r.snapshot === null && r.output === null));
  });
});

Deno.test("change detection: 304s spend no token of the server's rate limit", async () => {
  await withMockRun(async (fixture, out) => {
    await run(fixture, CUSTOMERS, out, { detectChanges: true });
    const remaining = async () =>
      Number(
        (await fixture.app.request(`${BASE_URL}/northwind/Customers.json?_size=1`, {
          headers: { Authorization: `Bearer ${TOKEN}` },
        })).headers.get("X-RateLimit-Remaining"),
      );
    const before = await remaining();
    await run(fixture, CUSTOMERS, out, { detectChanges: true });
    assertEquals(await remaining(), before - 1, "only the probe of this test itself counted");
  }, { rateLimit: 1000, rateWindowMs: 3_600_000, now: () => Date.UTC(2026, 0, 1, 10) });
});

Deno.test("change detection: a changed page answers 200 and the asset is harvested again", async () => {
  await withMockRun(async (fixture, out) => {
    await run(fixture, CUSTOMERS, out, { detectChanges: true });
    const update = await fixture.write("/northwind/Customers/WOLZA/-/update", {
      update: { City: "Kraków" },
    });
    assertEquals(update.status, 200);
    const second = await run(fixture, CUSTOMERS, out, { detectChanges: true });
    assertEquals(second.assets[0].status, "ok");
    assertEquals(second.assets[0].rows, 91);
    assertMatch(second.report.assets[0].notes.join("\n"), /page 5 of 5 changed \(200, not 304\)/);
    // The 200 that told the change is kept too: a `changed` probe with the new value in it.
    const probes = (await loadManifest(join(out, "manifest.jsonl"))).entries.map((e) => e.record)
      .filter((r) => r.event === "probe" && r.run_id === second.runId);
    assertEquals(probes.map((p) => [p.probe, p.status, p.rows]), [["changed", 200, 11]]);
    assertStringIncludes(await Deno.readTextFile(join(out, probes[0].snapshot!)), "Kraków");
    const verified = await verifyOut(out);
    assertEquals(verified.ok, true, formatVerifyResult(verified));
  });
});

Deno.test("change detection: mode off always harvests", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(`name: customers
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: Customers
    path: /northwind/Customers.json
    params: { _size: 100 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    change_detection: { mode: off }
    output: { format: jsonl }
`);
    await run(fixture, loaded, out, { detectChanges: true });
    const second = await run(fixture, loaded, out, { detectChanges: true });
    assertEquals([second.assets[0].status, second.assets[0].rows], ["ok", 91]);
  });
});

Deno.test("change detection: mode latest without incremental is refused before any request", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(`name: customers
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: Customers
    path: /northwind/Customers.json
    data_path: rows
    change_detection: { params: { _size: 1 } }
`);
    let message = "";
    try {
      await run(fixture, loaded, out, { detectChanges: true });
    } catch (error) {
      message = (error as Error).message + JSON.stringify((error as { issues?: unknown }).issues);
    }
    assertStringIncludes(message, "assets[0].change_detection");
    assertStringIncludes(message, "has no incremental");
    assertEquals(await fixture.requests(), 0);
  });
});
