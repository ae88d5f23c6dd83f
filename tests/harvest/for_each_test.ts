/**
 * Multi-step pipelines: step 2 (`for_each: customers`) takes its parameters from the
 * records of step 1. Its output equals the direct join of the two tables in the source; a batch
 * sends several ids per request; a child never runs without a complete harvest of its parent.
 */
import { join } from "node:path";
import { loadManifest } from "../../lib/provenance/manifest.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import {
  BASE_URL,
  type MockFixture,
  parquetFrame,
  parquetKeys,
  run,
  sorted,
  withMockRun,
  yamlConfig,
} from "./fixture.ts";

function pipeline(options: { batch?: number; child?: string; parentPath?: string } = {}) {
  return yamlConfig(`name: pipeline
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
retry: { max_attempts: 2, base_ms: 1, cap_ms: 2 }
assets:
  - name: customers
    path: ${options.parentPath ?? "/northwind/Customers.json"}
    params: { Country: Germany, _size: 5 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [CustomerID]
  - name: orders
    path: /northwind/Orders.json
    for_each: customers
${options.batch ? `    for_each_batch: ${options.batch}\n` : ""}    params: { ${
    options.batch ? "CustomerID__in" : "CustomerID"
  }: "{record.CustomerID}", _size: 500 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
${options.child ?? ""}
`);
}

/** The direct join in the source: orders of German customers. */
function joined(fixture: MockFixture): string[] {
  return (fixture.db.prepare(
    `SELECT o.OrderID AS id FROM Orders o JOIN Customers c ON o.CustomerID = c.CustomerID
     WHERE c.Country = 'Germany'`,
  ).all() as { id: number }[]).map((r) => String(r.id)).sort();
}

function germanCustomers(fixture: MockFixture): number {
  return (fixture.db.prepare("SELECT count(*) AS n FROM Customers WHERE Country = 'Germany'")
    .get() as { n: number }).n;
}

Deno.test("for_each: the child's output equals the direct join of the source tables", async () => {
  await withMockRun(async (fixture, out) => {
    const result = await run(fixture, pipeline(), out);
    assertEquals(result.exitCode, 0);
    assertEquals(result.assets.map((a) => a.status), ["ok", "ok"]);
    const keys = await parquetKeys(out, "orders", ["OrderID"]);
    assert(keys.length > 50, "a meaningful number of orders");
    assertEquals(sorted(keys), joined(fixture));
    assertEquals(result.assets[1].partitions, germanCustomers(fixture), "one walk per customer");
  });
});

Deno.test("for_each: for_each_batch sends that many parent ids per request, comma-joined", async () => {
  await withMockRun(async (fixture, out) => {
    const customers = germanCustomers(fixture);
    const result = await run(fixture, pipeline({ batch: 5 }), out);
    assertEquals(result.assets[1].partitions, Math.ceil(customers / 5));
    const lines = (await loadManifest(join(out, "manifest.jsonl"))).entries
      .map((e) => e.record).filter((r) => r.asset === "orders" && r.kind === "http");
    assertEquals(lines.length, Math.ceil(customers / 5), "one page per batch");
    const sent = lines.map((l) => String((l.params as Record<string, string>).CustomerID__in));
    assertEquals(sent.flatMap((s) => s.split(",")).length, customers);
    const sizes = Array.from(
      { length: Math.ceil(customers / 5) },
      (_, i) => Math.min(5, customers - 5 * i),
    );
    assertEquals(sent.map((s) => s.split(",").length).sort(), sizes.sort());
    assertEquals(sorted(await parquetKeys(out, "orders", ["OrderID"])), joined(fixture));
  });
});

Deno.test("for_each: flatten false keeps the record as raw_data beside key fields, insert_id and add_fields", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = pipeline({
      child: `    transform:
      flatten: false
      key_fields: [OrderID]
      add_fields: { source: northwind, customer: "{record.CustomerID}", run: "{run_id}" }`,
    });
    const result = await run(fixture, loaded, out);
    const frame = (await parquetFrame(out, "orders"))!;
    assertEquals(
      frame.columns.sort(),
      ["OrderID", "customer", "extracted_at", "insert_id", "raw_data", "run", "source"],
    );
    const rows = frame.toRecords() as Record<string, unknown>[];
    const row = rows[0];
    const raw = JSON.parse(String(row.raw_data));
    const source = fixture.db.prepare("SELECT * FROM Orders WHERE OrderID = ?").get(
      Number(row.OrderID),
    );
    assertEquals(raw, { ...source });
    assertEquals([row.customer, row.source, row.run], [raw.CustomerID, "northwind", result.runId]);
    assertEquals(String(row.insert_id).length, 64);
    assertEquals(new Set(rows.map((r) => r.insert_id)).size, rows.length);
    assertEquals(new Set(rows.map((r) => String(r.extracted_at))).size, 1, "one time per run");
  });
});

Deno.test("for_each: a child whose parent failed is not run, and says why", async () => {
  await withMockRun(async (fixture, out) => {
    const result = await run(fixture, pipeline({ parentPath: "/northwind/NoSuchTable.json" }), out);
    assertEquals(result.exitCode, 1);
    assertEquals(result.assets.map((a) => a.status), ["failed", "failed"]);
    assertStringIncludes(result.assets[1].error ?? "", 'takes its parameters from "customers"');
    const lines = (await loadManifest(join(out, "manifest.jsonl"))).entries;
    assertEquals(lines.filter((e) => e.record.asset === "orders").length, 0);
    assertEquals(await fixture.requests(), 1, "the parent's one request (a 404 is not retried)");
  });
});

Deno.test("for_each: a child run alone before any harvest of its parent fails clearly", async () => {
  await withMockRun(async (fixture, out) => {
    const result = await run(fixture, pipeline(), out, { assets: ["orders"] });
    assertEquals(result.assets[0].status, "failed");
    assertStringIncludes(result.assets[0].error ?? "", 'harvest "customers" first');
    assertEquals(await fixture.requests(), 0);
  });
});

Deno.test("for_each: a child run alone takes its parents from the parent's latest harvest", async () => {
  await withMockRun(async (fixture, out) => {
    await run(fixture, pipeline(), out, { assets: ["customers"] });
    const before = await fixture.requests();
    const result = await run(fixture, pipeline(), out, { assets: ["orders"] });
    assertEquals(result.assets[0].status, "ok");
    assertEquals(await fixture.requests() - before, germanCustomers(fixture));
    assertEquals(sorted(await parquetKeys(out, "orders", ["OrderID"])), joined(fixture));
  });
});
