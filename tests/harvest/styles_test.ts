/**
 * Every pagination style the mock serves, harvested end to end (snapshots, Parquet, manifest,
 * state): each lands exactly the source table's key set, once.
 */
import { verifyOut } from "../../lib/provenance/verify.ts";
import { assert, assertEquals } from "../assert.ts";
import { parquetKeys, run, sorted, sourceKeys, withMockRun, yamlConfig } from "./fixture.ts";

const STYLES: Record<string, string> = {
  "datasette cursor": `path: /northwind/Orders.json
    params: { _size: 97 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows`,
  "datasette next_url": `path: /northwind/Orders.json
    params: { _size: 97 }
    pagination: { type: body_link, response_path: next_url }
    data_path: rows`,
  "offset with a total": `path: /offset/Orders
    pagination: { type: offset, limit: 97, total_path: count }
    data_path: results`,
  "page numbers with total pages": `path: /paged/Orders
    pagination: { type: page, limit: 97, total_pages_path: total_pages }
    data_path: items`,
  "Link header": `path: /linked/Orders
    pagination: { type: link, limit: 97 }
    data_path: ""`,
  "next link in the body": `path: /hal/Orders
    pagination: { type: body_link, limit: 97 }
    data_path: data`,
  "nested cursor": `path: /nested/Orders
    pagination: { type: cursor, param: cursor, response_path: meta.next_cursor, limit: 97 }
    data_path: result.items`,
  "cursor from the last record": `path: /v1/Orders
    pagination: { type: cursor, param: starting_after, response_path: data.-1.OrderID, has_more_path: has_more, limit: 97 }
    data_path: data`,
};

for (const [style, yaml] of Object.entries(STYLES)) {
  Deno.test(`harvest: ${style} lands every Orders key exactly once`, async () => {
    await withMockRun(async (fixture, out) => {
      const loaded = yamlConfig(`name: styles
base_url: http://127.0.0.1:9000
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: Orders
    ${yaml}
    primary_key: [OrderID]
`);
      const result = await run(fixture, loaded, out);
      assertEquals(result.exitCode, 0, result.assets[0].error);
      const keys = await parquetKeys(out, "Orders", ["OrderID"]);
      const expected = sourceKeys(fixture.db, "Orders", ["OrderID"]);
      assertEquals(keys.length, expected.length, "no row written twice or missed");
      assertEquals(sorted(keys), expected);
      assert((await verifyOut(out)).ok, "snapshots, outputs and state match the manifest");
    });
  });
}

Deno.test("harvest: Order Details (compound key, space in the name) lands every line once", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(`name: details
base_url: http://127.0.0.1:9000
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: Order Details
    path: /northwind/Order%20Details.json
    params: { _size: 300 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID, ProductID]
`);
    const result = await run(fixture, loaded, out);
    assertEquals(result.exitCode, 0);
    const keys = await parquetKeys(out, "Order Details", ["OrderID", "ProductID"]);
    const expected = sourceKeys(fixture.db, "Order Details", ["OrderID", "ProductID"]);
    assertEquals(keys.length, expected.length);
    assertEquals(sorted(keys), expected);
  });
});
