/**
 * Concurrency: key-range partitions (found with one sorted size-1 request at each end) and
 * page-number groups (after the first page gives the total) are walked by the run's bounded
 * workers, and together land exactly the source's rows.
 */
import { join } from "node:path";
import type { FetchFunction } from "../../lib/http/fetch_resilient.ts";
import { compareOuts } from "../../lib/replay/compare_outs.ts";
import { loadManifest } from "../../lib/provenance/manifest.ts";
import { replayOut } from "../../lib/replay/replay.ts";
import { formatVerifyResult, verifyOut } from "../../lib/provenance/verify.ts";
import { readPlan } from "../../lib/harvest/asset_plan.ts";
import { assert, assertEquals } from "../assert.ts";
import {
  BASE_URL,
  type MockFixture,
  ordersYaml,
  parquetKeys,
  run,
  sorted,
  sourceKeys,
  TOKEN,
  withMockRun,
  withState,
  yamlConfig,
} from "./fixture.ts";

/** A transport that counts requests in flight at once. */
function counting(fixture: MockFixture): { fetch: FetchFunction; peak: () => number } {
  let inFlight = 0;
  let peak = 0;
  return {
    fetch: async (input, init) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        const response = await fixture.app.request(input, init);
        // Read here so the count covers the whole body.
        return new Response(await response.arrayBuffer(), response);
      } finally {
        inFlight--;
      }
    },
    peak: () => peak,
  };
}

Deno.test("partitions: 4 key ranges on 4 workers land exactly the source's orders", async () => {
  await withMockRun(async (fixture, out) => {
    const transport = counting(fixture);
    const loaded = yamlConfig(ordersYaml({
      name: "ranges",
      size: 50,
      top: "workers: 4",
      asset: "partition: { by: OrderID, parts: 4 }\nbatch_size: 100",
    }));
    const result = await run(fixture, loaded, out, { fetch: transport.fetch });
    assertEquals(result.exitCode, 0);
    assertEquals(result.assets[0].partitions, 4);
    const keys = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(keys.length, new Set(keys).size);
    assertEquals(sorted(keys), sourceKeys(fixture.db, "Orders", ["OrderID"]));
    assert(transport.peak() > 1 && transport.peak() <= 4, `peak ${transport.peak()} in flight`);
    const plan = await withState(out, (state) => readPlan(state, "Orders"));
    const min = sourceKeys(fixture.db, "Orders", ["OrderID"]).map(Number).sort((a, b) => a - b)[0];
    assertEquals(plan?.partitions.map((p) => p.key), [
      `OrderID<${min + 208}`,
      `OrderID>=${min + 208}<${min + 416}`,
      `OrderID>=${min + 416}<${min + 624}`,
      `OrderID>=${min + 624}`,
    ]);
  });
});

Deno.test("partitions: key ranges start with one sorted size-1 request at each end", async () => {
  await withMockRun(async (fixture, out) => {
    const seen: string[] = [];
    const loaded = yamlConfig(`name: probe
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: Order Details
    path: /northwind/Order%20Details.json
    params: { _size: 500 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    partition: { by: OrderID, parts: 3 }
`);
    const result = await run(fixture, loaded, out, {
      fetch: (input, init) => {
        const url = new URL(input);
        if (url.searchParams.get("_size") === "1") seen.push(url.search);
        return fixture.app.request(input, init);
      },
    });
    assertEquals(result.exitCode, 0);
    assertEquals(seen, ["?_size=1&_sort=OrderID", "?_size=1&_sort_desc=OrderID"]);
    const keys = await parquetKeys(out, "Order Details", ["OrderID", "ProductID"]);
    assertEquals(sorted(keys), sourceKeys(fixture.db, "Order Details", ["OrderID", "ProductID"]));
  });
});

Deno.test("partitions: each probe response is kept like a page (snapshot, manifest line, verified) and replay skips it", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(ordersYaml({
      name: "probes",
      size: 100,
      asset: "partition: { by: OrderID, parts: 3 }",
    }));
    const result = await run(fixture, loaded, out);
    assertEquals(result.exitCode, 0);
    const lines = (await loadManifest(join(out, "manifest.jsonl"))).entries.map((e) => e.record);
    const probes = lines.filter((r) => r.event === "probe");
    assertEquals(probes.map((p) => [p.probe, p.status, p.rows, p.output]), [
      ["key_min", 200, 1, null],
      ["key_max", 200, 1, null],
    ]);
    const ids = sourceKeys(fixture.db, "Orders", ["OrderID"]).map(Number).sort((a, b) => a - b);
    for (const [probe, id] of [[probes[0], ids[0]], [probes[1], ids[ids.length - 1]]] as const) {
      assertEquals(probe.snapshot, `raw/Orders/${result.runId}/${`probe-${probe.probe}`}.json`);
      assertEquals((probe.params as Record<string, string>)._size, "1");
      const body = JSON.parse(await Deno.readTextFile(join(out, probe.snapshot!)));
      assertEquals(body.rows.map((r: { OrderID: number }) => r.OrderID), [id]);
    }
    // Probes come before the plan they shaped, and are not pages.
    assert(lines.indexOf(probes[1]) < lines.findIndex((r) => r.event === "plan"));
    assertEquals(result.report.totals.pages, lines.filter((r) => r.kind === "http").length);
    const verified = await verifyOut(out);
    assertEquals(verified.ok, true, formatVerifyResult(verified));
    assertEquals(verified.warnings, [], "every snapshot on disk has its line");
    const to = `${out}-replay`;
    try {
      const replayed = await replayOut(out, to);
      assertEquals((await compareOuts(out, to, replayed.assets)).identical, true);
    } finally {
      await Deno.remove(to, { recursive: true }).catch(() => {});
    }
  });
});

Deno.test("partitions: WordPress pages after the first are fetched concurrently in groups, each post once", async () => {
  await withMockRun(async (fixture, out) => {
    const first = await fixture.app.request(`${BASE_URL}/wp-json/wp/v2/posts?per_page=10`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    const total = Number(first.headers.get("X-WP-Total"));
    const pages = Number(first.headers.get("X-WP-TotalPages"));
    await first.body?.cancel();
    assert(pages > 4, `${pages} pages`);
    const transport = counting(fixture);
    const loaded = yamlConfig(`name: wp
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
workers: 3
assets:
  - name: posts
    path: /wp-json/wp/v2/posts
    pagination: { type: page, limit: 10, total_pages_header: X-WP-TotalPages, end_statuses: [400] }
    partition: { by: page, parts: 3 }
    data_path: ""
    primary_key: [id]
    batch_size: 20
`);
    const before = await fixture.requests();
    const result = await run(fixture, loaded, out, { fetch: transport.fetch });
    assertEquals(result.exitCode, 0);
    assertEquals(result.assets[0].partitions, 4, "the first page, then 3 groups");
    const ids = await parquetKeys(out, "posts", ["id"]);
    assertEquals(ids.length, total);
    assertEquals(new Set(ids).size, total);
    assertEquals(await fixture.requests() - before, pages, "each page once, none past the end");
    assert(transport.peak() > 1, "groups ran at the same time");
  });
});
