/** The watermark tracker: max/min of the cursor, the boundary window, and exact de-duplication. */
import { WatermarkTracker } from "../../lib/pipeline/watermark_tracker.ts";
import { assertEquals, assertStringIncludes } from "../assert.ts";

const order = (id: number, date: string) => ({ OrderID: id, OrderDate: date });

Deno.test("tracker: the watermark is the largest cursor value, normalized to UTC ISO-8601", () => {
  const t = new WatermarkTracker("OrderDate", { primaryKey: ["OrderID"] });
  t.visit([order(1, "1997-01-02 00:00:00.000"), order(2, "1997-01-01T23:00:00-02:00")]);
  assertEquals(t.newest, "1997-01-02T01:00:00.000Z");
  assertEquals(t.oldest, "1997-01-02T00:00:00.000Z");
});

Deno.test("tracker: the boundary keeps the keys of every row at the largest value, across pages", () => {
  const t = new WatermarkTracker("OrderDate", { primaryKey: ["OrderID"] });
  t.visit([order(1, "1997-01-03"), order(2, "1997-01-05")]);
  t.visit([order(3, "1997-01-05"), order(4, "1997-01-04")]);
  const b = t.boundary()!;
  assertEquals(b.value, "1997-01-05T00:00:00.000Z");
  assertEquals(b.keys.map(([k]) => k).sort(), ["[2]", "[3]"]);
});

Deno.test("tracker: rows the previous run wrote at its boundary are dropped; new ties are kept", () => {
  const first = new WatermarkTracker("OrderDate", { primaryKey: ["OrderID"] });
  first.visit([order(1, "1997-01-05"), order(2, "1997-01-05")]);
  const next = new WatermarkTracker("OrderDate", {
    primaryKey: ["OrderID"],
    previous: first.boundary(),
  });
  const kept = next.visit([order(1, "1997-01-05"), order(2, "1997-01-05"), order(9, "1997-01-05")])
    .kept;
  assertEquals(kept.map((r) => r.OrderID), [9]);
  assertEquals(next.dropped, 2);
  // The new boundary still holds all three, so a third run drops them all.
  assertEquals(next.boundary()!.keys.length, 3);
});

Deno.test("tracker: a row updated since (same key, later value) is not dropped", () => {
  const first = new WatermarkTracker("modified", { primaryKey: ["id"] });
  first.visit([{ id: 1, modified: "2024-01-01T00:00:00Z" }]);
  const next = new WatermarkTracker("modified", { primaryKey: ["id"], previous: first.boundary() });
  const kept = next.visit([{ id: 1, modified: "2024-01-02T00:00:00Z" }]).kept;
  assertEquals(kept.length, 1);
});

Deno.test("tracker: a lookback keeps every row within the window of the largest value", () => {
  const t = new WatermarkTracker("OrderDate", { primaryKey: ["OrderID"], lookback: "2d" });
  t.visit([order(1, "1997-01-01"), order(2, "1997-01-04"), order(3, "1997-01-05")]);
  assertEquals(t.boundary()!.keys.map(([k]) => k).sort(), ["[2]", "[3]"]);
});

Deno.test("tracker: ids compare as BigInt beyond 2^53", () => {
  const t = new WatermarkTracker("id", { kind: "id" });
  t.visit([{ id: "1861234567890123457" }, { id: "1861234567890123456" }, { id: "999" }]);
  assertEquals(t.newest, "1861234567890123457");
  assertEquals(t.oldest, "999");
});

Deno.test("tracker: without a primary key the whole record is its identity", () => {
  const t = new WatermarkTracker("d");
  t.visit([{ d: "2024-01-01", v: 1 }]);
  const next = new WatermarkTracker("d", { previous: t.boundary() });
  assertEquals(next.visit([{ d: "2024-01-01", v: 1 }, { d: "2024-01-01", v: 2 }]).kept.length, 1);
});

Deno.test("tracker: records without a cursor value are written and ignored by the watermark", () => {
  const t = new WatermarkTracker("d");
  assertEquals(t.visit([{ d: null }, {}]).kept.length, 2);
  assertEquals(t.boundary(), null);
});

Deno.test("tracker: a record whose cursor value cannot be read is set apart, naming the field and value, and moves no watermark", () => {
  const t = new WatermarkTracker("OrderDate");
  const page = t.visit([
    { OrderDate: "1998-05-06 00:00:00.000" },
    { OrderDate: "31/12/1998 oops" },
    { OrderDate: "1997-01-01 00:00:00.000" },
  ]);
  assertEquals(page.kept.length, 2);
  assertEquals(page.unparseable.map((u) => u.index), [1]);
  assertStringIncludes(page.unparseable[0].message, "31/12/1998 oops");
  assertEquals(t.boundary()?.value, "1998-05-06T00:00:00.000Z");
  const ids = new WatermarkTracker("id", { kind: "id" });
  const idPage = ids.visit([{ id: "abc" }, { id: "7" }]);
  assertStringIncludes(idPage.unparseable[0].message, 'cursor_field "id"');
  assertEquals(ids.boundary()?.value, "7");
});

Deno.test("tracker: the boundary keeps the newest value as the source wrote it", () => {
  const t = new WatermarkTracker("OrderDate");
  t.visit([{ OrderDate: "1998-05-05 10:00:00.000" }, { OrderDate: "1998-05-06 00:00:00.000" }]);
  t.visit([{ OrderDate: "1998-05-06T00:00:00Z" }, { OrderDate: "1998-05-01 00:00:00.000" }]);
  assertEquals(t.boundary()?.raw, "1998-05-06 00:00:00.000");
  const n = new WatermarkTracker("ts");
  n.visit([{ ts: 1700000000 }]);
  assertEquals(n.boundary()?.raw, "1700000000");
});

Deno.test("tracker: counts the rows seen at the previous boundary's value", () => {
  const first = new WatermarkTracker("d", { primaryKey: ["id"] });
  first.visit([{ id: 1, d: "2024-01-01" }, { id: 2, d: "2024-01-01" }]);
  const next = new WatermarkTracker("d", { primaryKey: ["id"], previous: first.boundary() });
  assertEquals(next.previousAtValue, 2);
  next.visit([{ id: 3, d: "2024-01-02" }]);
  assertEquals(next.atPreviousValue, 0);
  next.visit([{ id: 1, d: "2024-01-01" }]);
  assertEquals(next.atPreviousValue, 1);
});

Deno.test("tracker: over many pages the window holds only the rows at the largest value, once each", () => {
  const t = new WatermarkTracker("OrderDate", { primaryKey: ["OrderID"] });
  // 5000 orders over 50 days in order, then order 4999 seen again (a page read twice).
  const day = (i: number) => `1997-02-${String(1 + Math.floor(i / 100) % 28).padStart(2, "0")}`;
  const rows = Array.from({ length: 2800 }, (_, i) => order(i, day(i)));
  for (let start = 0; start < rows.length; start += 1000) t.visit(rows.slice(start, start + 1000));
  t.visit([order(2799, day(2799))]);
  const b = t.boundary()!;
  assertEquals(b.value, "1997-02-28T00:00:00.000Z");
  const expected = Array.from({ length: 100 }, (_, i) => `[${2700 + i}]`);
  assertEquals(b.keys.map(([k]) => k).sort(), expected.sort());
});

Deno.test("tracker: keys of composite and text primary keys are JSON arrays of their cells", () => {
  const t = new WatermarkTracker("at", { primaryKey: ["a", "b"] });
  t.visit([{ a: "x", b: 1, at: "2026-01-01" }, { a: 'q"', b: null, at: "2026-01-01" }]);
  assertEquals(t.boundary()!.keys.map(([k]) => k).sort(), ['["q\\"",null]', '["x",1]']);
  assertEquals(t.keyOf({ a: "x", b: 1 }), '["x",1]');
});
