/**
 * Every pagination style the mock API serves, walked by the paginators over the in-process mock
 * with a tiny fetch loop: each style must reach exactly the table's key set, with no duplicate.
 */
import type { Hono } from "hono";
import type { MockEnv } from "../../mock_api/context.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { createRoutes } from "../../mock_api/routes/mod.ts";
import { parseConfig } from "../../lib/config/load.ts";
import type { AssetConfig } from "../../lib/config/schema.ts";
import { createPaginator, type PageRequest, requestUrl } from "../../lib/paginate/mod.ts";
import { select } from "../../lib/core/select.ts";
import { compareIds } from "../../lib/state/watermark.ts";
import { assert, assertEquals } from "../assert.ts";

const ORIGIN = "http://127.0.0.1:9000";
const db = generateNorthwind(":memory:", { scale: 1, seed: 42 });
const routes = createRoutes({ db, dbName: "northwind", now: () => Date.UTC(2024, 5, 1), seed: 42 });
globalThis.addEventListener("unload", () => db.close());

/** The same table through every style, as assets of one config (the schema checks them too). */
function stylesConfig(key: string, urlTable: string): AssetConfig[] {
  const yaml = `name: styles
base_url: ${ORIGIN}
assets:
  - name: datasette cursor
    path: /northwind/${urlTable}.json
    params: { _size: 97 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
  - name: datasette next_url
    path: /northwind/${urlTable}.json
    params: { _size: 97 }
    pagination: { type: body_link, response_path: next_url }
    data_path: rows
  - name: offset
    path: /offset/${urlTable}
    pagination: { type: offset, limit: 97, total_path: count }
    data_path: results
  - name: paged
    path: /paged/${urlTable}
    pagination: { type: page, limit: 97, total_pages_path: total_pages }
    data_path: items
  - name: linked
    path: /linked/${urlTable}
    pagination: { type: link, limit: 97 }
    data_path: ""
  - name: hal
    path: /hal/${urlTable}
    pagination: { type: body_link, limit: 97 }
    data_path: data
  - name: nested
    path: /nested/${urlTable}
    pagination: { type: cursor, param: cursor, response_path: meta.next_cursor, limit: 97 }
    data_path: result.items
${
    key.includes(",") ? "" : `  - name: stripe
    path: /v1/${urlTable}
    pagination: { type: cursor, param: starting_after, response_path: data.-1.${key}, has_more_path: has_more, limit: 97 }
    data_path: data
`
  }`;
  return parseConfig(yaml, { env: {} }).config.assets;
}

interface Walk {
  records: Record<string, unknown>[];
  requests: number;
}

/** The fetch loop the engine will run, minus retries, snapshots and sinks. */
async function walk(app: Hono<MockEnv>, asset: AssetConfig): Promise<Walk> {
  const paginator = createPaginator(asset.pagination, { maxPages: 500, label: asset.name });
  let request: PageRequest | "done" = paginator.first({
    url: ORIGIN + asset.path,
    params: asset.params,
  });
  const records: Record<string, unknown>[] = [];
  let requests = 0;
  while (request !== "done") {
    requests++;
    const response = await app.request(requestUrl(request));
    const body = await response.json();
    const ended = paginator.endStatuses.includes(response.status);
    assert(response.ok || ended, `${asset.name}: ${response.status} ${JSON.stringify(body)}`);
    const selected = ended ? [] : select(body, asset.data_path);
    assert(Array.isArray(selected), `${asset.name}: no records at ${asset.data_path}`);
    records.push(...selected);
    request = paginator.next(request, {
      status: response.status,
      headers: response.headers,
      body,
      records: selected,
    });
  }
  return { records, requests };
}

function keysOf(records: Record<string, unknown>[], key: string[]): string[] {
  return records.map((r) => key.map((k) => String(r[k])).join(","));
}

function sourceKeys(table: string, key: string[]): string[] {
  const cols = key.map((k) => `"${k}"`).join(", ");
  return (db.prepare(`SELECT ${cols} FROM "${table}" ORDER BY ${cols}`).all() as Record<
    string,
    unknown
  >[])
    .map((r) => key.map((k) => String(r[k])).join(","));
}

for (
  const [table, key, urlTable] of [
    ["Orders", ["OrderID"], "Orders"],
    ["Order Details", ["OrderID", "ProductID"], "Order%20Details"],
  ] as const
) {
  const expected = sourceKeys(table, [...key]);
  for (const asset of stylesConfig(key.join(","), urlTable)) {
    Deno.test(`mock styles: ${asset.name} harvests every ${table} key exactly once`, async () => {
      const { records, requests } = await walk(routes, asset);
      const keys = keysOf(records, [...key]);
      assertEquals(keys.length, expected.length, "no row fetched twice or missed");
      assertEquals([...keys].sort(), [...expected].sort());
      // 97 does not divide the row count: the last page is short, and no extra request is made
      // after it except where the style cannot know it ended (cursor-in-body styles know).
      assert(requests <= Math.ceil(expected.length / 97) + 1, `${requests} requests`);
    });
  }
}

Deno.test("mock styles: WordPress pages end at X-WP-TotalPages with every post once", async () => {
  const [asset] = parseConfig(
    `name: wp
base_url: ${ORIGIN}
assets:
  - name: posts
    path: /wp-json/wp/v2/posts
    pagination: { type: page, limit: 7, total_pages_header: X-WP-TotalPages, end_statuses: [400] }
    data_path: ""
`,
    { env: {} },
  ).config.assets;
  const first = await routes.request(`${ORIGIN}/wp-json/wp/v2/posts?per_page=1`);
  const total = Number(first.headers.get("X-WP-Total"));
  await first.body?.cancel();
  assert(total > 7, "several pages of posts");
  const { records, requests } = await walk(routes, asset);
  const ids = records.map((r) => r.id);
  assertEquals(ids.length, total);
  assertEquals(new Set(ids).size, total);
  assertEquals(requests, Math.ceil(total / 7));
});

Deno.test("mock styles: WordPress without a total stops on the 400 past the last page", async () => {
  const [asset] = parseConfig(
    `name: wp
base_url: ${ORIGIN}
assets:
  - name: posts
    path: /wp-json/wp/v2/posts
    pagination: { type: page, limit: 7, end_statuses: [400], stop_on_short_page: false }
    data_path: ""
`,
    { env: {} },
  ).config.assets;
  const { records, requests } = await walk(routes, asset);
  const total = records.length;
  assertEquals(new Set(records.map((r) => r.id)).size, total);
  // Every page, then the one past the end, which answers 400 and ends the walk.
  assertEquals(requests, Math.ceil(total / 7) + 1);
});

Deno.test("mock styles: a timeline walks newest first and reports its id extent by BigInt order", async () => {
  const [asset] = parseConfig(
    `name: tl
base_url: ${ORIGIN}
assets:
  - name: posts
    path: /2/users/2244994945/posts
    pagination: { type: timeline, limit: 20 }
    data_path: data
`,
    { env: {} },
  ).config.assets;
  const paginatorCheck = await walk(routes, asset);
  const ids = paginatorCheck.records.map((r) => String(r.id));
  assert(ids.length > 20, "several pages");
  assertEquals(new Set(ids).size, ids.length);
  const sorted = [...ids].sort((a, b) => compareIds(b, a));
  assertEquals(ids, sorted, "newest first, by BigInt order");

  // Forward from the newest id but one: exactly the newest post comes back.
  const forward = createPaginator(asset.pagination, { sinceId: sorted[1] });
  const request = forward.first({ url: ORIGIN + asset.path, params: {} });
  const response = await routes.request(requestUrl(request));
  const body = await response.json();
  assertEquals(body.data.map((p: { id: string }) => p.id), [sorted[0]]);
  forward.next(request, { status: 200, headers: response.headers, body, records: body.data });
  assertEquals(forward.extent?.(), { newest: sorted[0], oldest: sorted[0] });
});
