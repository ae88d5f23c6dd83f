/**
 * Incremental harvests (docs/design.md §4): `>=` the watermark with the previous boundary's rows
 * dropped, so a re-run fetches nothing new, rows inserted between runs land exactly once, ties
 * at the boundary are neither lost nor duplicated, a lookback re-reads without duplicating, and
 * the starting point follows its precedence.
 */
import { readBoundary } from "../../lib/harvest/asset_plan.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import {
  type MockFixture,
  northwindYaml,
  ordersYaml,
  parquetKeys,
  partCount,
  run,
  sorted,
  sourceKeys,
  withMockRun,
  withState,
  yamlConfig,
} from "./fixture.ts";

/** Inserts orders through the mock's write API (Datasette 1.0); resolves to their ids. */
async function insertOrders(fixture: MockFixture, dates: string[]): Promise<number[]> {
  const response = await fixture.write("/northwind/Orders/-/insert", {
    return: true,
    rows: dates.map((date) => ({
      CustomerID: "VINET",
      EmployeeID: 5,
      OrderDate: date,
      ShipVia: 3,
      Freight: 10.5,
      ShipCountry: "France",
    })),
  });
  assertEquals(response.status, 201);
  const body = await response.json() as { rows: { OrderID: number }[] };
  return body.rows.map((r) => r.OrderID);
}

function maxOrderDate(fixture: MockFixture): string {
  return (fixture.db.prepare("SELECT max(OrderDate) AS d FROM Orders").get() as { d: string }).d;
}

const ORDERS_ONLY = (extra = "", size = 100) =>
  yamlConfig(ordersYaml({
    name: "inc",
    size,
    asset: [
      `incremental: { cursor_field: OrderDate, param: OrderDate__gte, param_format: datetime${extra} }`,
      "contract: orders",
    ].join("\n"),
  }));

Deno.test("incremental: a re-run with no change fetches nothing new and writes no new part", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(northwindYaml());
    const first = await run(fixture, loaded, out);
    assertEquals(first.exitCode, 0);
    const parts = await partCount(out, "Orders") + await partCount(out, "Order Details");
    const requestsBefore = await fixture.requests();

    const second = await run(fixture, loaded, out);
    assertEquals(second.exitCode, 0);
    assertEquals(second.assets.map((a) => [a.asset, a.status, a.rows]), [
      ["Orders", "unchanged", 0],
      ["Order Details", "unchanged", 0],
    ]);
    assertEquals(await partCount(out, "Orders") + await partCount(out, "Order Details"), parts);
    // One page per asset: the boundary rows, read again and dropped.
    assertEquals(await fixture.requests() - requestsBefore, 2);
    assertEquals(second.report.assets[0].start?.source, "state");
  });
});

Deno.test("incremental: rows inserted between runs through the write API land exactly once", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(northwindYaml());
    await run(fixture, loaded, out);
    const ids = await insertOrders(fixture, [
      "1998-06-01 00:00:00.000",
      "1998-06-02 00:00:00.000",
      "1998-06-02 00:00:00.000",
    ]);
    const second = await run(fixture, loaded, out);
    assertEquals(second.assets[0].rows, 3);
    const third = await run(fixture, loaded, out);
    assertEquals(third.assets[0].rows, 0);
    const keys = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(keys.length, new Set(keys).size, "no duplicate");
    assertEquals(sorted(keys), sourceKeys(fixture.db, "Orders", ["OrderID"]));
    for (const id of ids) assertEquals(keys.filter((k) => k === String(id)).length, 1);
  });
});

Deno.test("incremental: rows tied at the watermark boundary are neither lost nor duplicated", async () => {
  await withMockRun(async (fixture, out) => {
    const max = maxOrderDate(fixture);
    // Several rows share the last date, across pages of 2.
    await insertOrders(fixture, [max, max, max]);
    const loaded = ORDERS_ONLY(', initial: "1998-04-25"', 2);
    const first = await run(fixture, loaded, out, { assets: ["Orders"] });
    assertEquals(first.exitCode, 0);
    // A late row with the very same date arrives after the run.
    const [late] = await insertOrders(fixture, [max]);
    const second = await run(fixture, loaded, out);
    assertEquals(second.assets[0].rows, 1);
    assertEquals(second.assets[0].duplicatesDropped, 4, "the 4 rows tied at the boundary");
    const keys = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(keys.length, new Set(keys).size);
    const expected = (fixture.db.prepare(
      "SELECT OrderID FROM Orders WHERE OrderDate >= '1998-04-25' ORDER BY OrderID",
    ).all() as { OrderID: number }[]).map((r) => String(r.OrderID));
    assertEquals(sorted(keys), sorted(expected));
    assert(keys.includes(String(late)));
  });
});

Deno.test("incremental: the boundary keeps the keys of the rows at the watermark", async () => {
  await withMockRun(async (fixture, out) => {
    const max = maxOrderDate(fixture);
    const ids = await insertOrders(fixture, [max]);
    await run(fixture, ORDERS_ONLY(), out);
    await withState(out, async (state) => {
      const boundary = await readBoundary(state, "Orders");
      assertEquals(boundary?.value, `${max.slice(0, 10)}T00:00:00.000Z`);
      const keys = boundary!.keys.map(([key]) => JSON.parse(key)[0]);
      assert(keys.includes(ids[0]));
      assertEquals((await state.getWatermark("Orders"))?.lastTimestamp, boundary?.value);
    });
  });
});

Deno.test("incremental: a lookback re-reads its window for late rows without duplicating", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = ORDERS_ONLY(", lookback: 30d");
    await run(fixture, loaded, out);
    const again = await run(fixture, loaded, out);
    assertEquals(again.assets[0].rows, 0);
    assert(again.assets[0].duplicatesDropped > 1, "the whole window was read again");
    // A late row: older than the watermark, inside the window.
    const [late] = await insertOrders(fixture, ["1998-04-20 00:00:00.000"]);
    const third = await run(fixture, loaded, out);
    assertEquals(third.assets[0].rows, 1);
    const keys = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(keys.length, new Set(keys).size);
    assertEquals(sorted(keys), sourceKeys(fixture.db, "Orders", ["OrderID"]));
    assert(keys.includes(String(late)));
  });
});

Deno.test("incremental: a watermark in the future is clamped to now with a warning", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = ORDERS_ONLY();
    await run(fixture, loaded, out);
    await withState(
      out,
      (state) => state.setWatermark({ assetId: "Orders", lastTimestamp: "2999-01-01T00:00:00Z" }),
    );
    const result = await run(fixture, loaded, out);
    assertEquals(result.exitCode, 0);
    const notes = result.report.assets[0].notes.join("\n");
    assertStringIncludes(notes, "is in the future; clamped to");
    assertEquals(result.assets[0].rows, 0);
  });
});

Deno.test("incremental: --full-refresh beats --since, which beats the stored watermark", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = ORDERS_ONLY(', initial: "1997-01-01"');
    const first = await run(fixture, loaded, out);
    assertEquals(first.report.assets[0].start?.source, "initial");
    const since = await run(fixture, loaded, out, { since: "1998-05-01" });
    assertEquals(since.report.assets[0].start?.source, "since");
    assertStringIncludes(since.report.assets[0].start!.reason, "OrderDate >= 1998-05-01");
    const full = await run(fixture, loaded, out, { since: "1998-05-01", fullRefresh: true });
    assertEquals(full.report.assets[0].start?.source, "full_refresh");
    const stored = await run(fixture, loaded, out);
    assertEquals(stored.report.assets[0].start?.source, "state");
  });
});
