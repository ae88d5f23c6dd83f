/**
 * The watermark on the wire: by default it goes out in the form the source wrote the cursor
 * value, so a source comparing text finds the rows at the boundary; a source that still returns
 * none there is reported; a record whose cursor value cannot be read is rejected, not fatal.
 */
import { readRejects, rejectsPath } from "../../lib/contracts/rejects.ts";
import { formatLikeSource, watermarkParam } from "../../lib/harvest/watermark_wire.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import {
  designYaml,
  type MockFixture,
  parquetFrame,
  run,
  sorted,
  sourceKeys,
  withMockRun,
  yamlConfig,
} from "./fixture.ts";

Deno.test("formatLikeSource renders an instant in the shape of the source's text", () => {
  const at = "1998-05-07T13:45:06.789Z";
  assertEquals(formatLikeSource(at, "1998-05-06 00:00:00.000"), "1998-05-07 13:45:06.789");
  assertEquals(formatLikeSource(at, "1998-05-06"), "1998-05-07");
  assertEquals(formatLikeSource(at, "1998-05-06T00:00:00"), "1998-05-07T13:45:06");
  assertEquals(formatLikeSource(at, "1998-05-06T00:00:00Z"), "1998-05-07T13:45:06Z");
  assertEquals(formatLikeSource(at, "1998-05-06T00:00:00.000000Z"), "1998-05-07T13:45:06.789000Z");
  assertEquals(formatLikeSource(at, "1998-05-06T00:00+02:00"), "1998-05-07T15:45+02:00");
  assertEquals(formatLikeSource(at, "894412800"), "894548706");
  assertEquals(formatLikeSource(at, "894412800000"), "894548706789");
  assertEquals(formatLikeSource(at, "Wed, 06 May 1998 00:00:00 GMT"), null);
});

Deno.test("watermarkParam: auto sends the source's own text, fixed formats and ids stay as they were", () => {
  const source = { value: "1998-05-06T00:00:00.000Z", raw: "1998-05-06 00:00:00.000" };
  const auto = (w: string, samples = {}) =>
    watermarkParam(w, { kind: "timestamp", format: "auto", samples });
  assertEquals(auto(source.value, { source }), "1998-05-06 00:00:00.000");
  assertEquals(auto("1998-05-05T00:00:00.000Z", { source }), "1998-05-05 00:00:00.000");
  const user = { value: "1997-01-01T00:00:00.000Z", raw: "1997-01-01" };
  assertEquals(auto(user.value, { user }), "1997-01-01");
  assertEquals(auto(user.value, { source, user }), "1997-01-01 00:00:00.000");
  assertEquals(auto(source.value), source.value, "nothing to learn from: ISO-8601");
  assertEquals(
    watermarkParam(source.value, { kind: "timestamp", format: "iso", samples: { source } }),
    source.value,
  );
  assertEquals(
    watermarkParam("1861234567890123457", { kind: "id", format: "auto" }),
    "1861234567890123457",
  );
});

/** docs/design.md §7's config as a user writes it: no param_format anywhere. */
function designConfig(paramFormat = "") {
  return yamlConfig(designYaml({ incremental: paramFormat }));
}

function newestOrderDate(fixture: MockFixture): string {
  return (fixture.db.prepare("SELECT max(OrderDate) AS d FROM Orders").get() as { d: string }).d;
}

Deno.test("a row updated to the watermark's instant is re-read with the default param_format", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = designConfig();
    const first = await run(fixture, loaded, out);
    assertEquals(first.exitCode, 0);
    const watermark = newestOrderDate(fixture);
    const { OrderID } = fixture.db.prepare(
      "SELECT min(OrderID) AS OrderID FROM Orders WHERE OrderDate >= '1997-01-01'",
    ).get() as { OrderID: number };
    const response = await fixture.write(`/northwind/Orders/${OrderID}/-/update`, {
      update: { OrderDate: watermark, Freight: 123.45 },
    });
    assertEquals(response.status, 200);

    const requested: string[] = [];
    const second = await run(fixture, loaded, out, {
      fetch: (input, init) => {
        requested.push(new URL(input).searchParams.get("OrderDate__gte") ?? "");
        return fixture.fetch(input, init);
      },
    });
    assertEquals(second.exitCode, 0);
    assertEquals(requested[0], watermark, "the source's own text of the watermark");
    assertEquals(second.assets[0].rows, 1, "the updated row, and none of the boundary's again");
    const frame = await parquetFrame(out, "Orders");
    const freights = frame!.toRecords().filter((r) => Number(r.OrderID) === OrderID)
      .map((r) => r.Freight);
    assert(freights.includes(123.45), `the update was written: ${freights}`);
    assert(
      !JSON.stringify(second.report).includes("returned no row at the watermark"),
      "the boundary was seen, so no boundary warning",
    );
  });
});

Deno.test("a source that returns no row at the watermark the last run wrote rows at is reported", async () => {
  await withMockRun(async (fixture, out) => {
    // A fixed ISO form against a source comparing text: the boundary rows are not returned.
    const iso = designConfig(", param_format: iso");
    assertEquals((await run(fixture, iso, out)).exitCode, 0);
    const second = await run(fixture, iso, out);
    assertEquals(second.exitCode, 0);
    const notes = JSON.stringify(second.report);
    assertStringIncludes(notes, "returned no row at the watermark");
    assertStringIncludes(notes, "param_format");
  });
});

Deno.test("a record whose cursor value cannot be read goes to rejects; every other row is written", async () => {
  await withMockRun(async (fixture, out) => {
    const bad = fixture.db.prepare(
      "SELECT min(OrderID) AS id FROM Orders WHERE OrderDate >= '1998'",
    )
      .get() as { id: number };
    fixture.db.prepare("UPDATE Orders SET OrderDate = '31/12/1998 oops' WHERE OrderID = ?").run(
      bad.id,
    );
    const result = await run(fixture, designConfig(), out);
    assertEquals(result.exitCode, 0);
    const lines = await readRejects(rejectsPath(out, "Orders", result.runId));
    assertEquals(lines.length, 1);
    assertEquals(lines[0].reason, "cursor_unparseable");
    assertEquals(lines[0].row.OrderID, bad.id);
    assertStringIncludes(lines[0].issues[0].message, "31/12/1998 oops");
    assertEquals(lines[0].issues[0].path, "OrderDate");
    assertStringIncludes(lines[0].provenance.snapshot ?? "", "raw/Orders/");
    const expected = sorted(
      sourceKeys(fixture.db, "Orders", ["OrderID"]).filter((k) => {
        const row = fixture.db.prepare("SELECT OrderDate FROM Orders WHERE OrderID = ?").get(
          Number(k),
        ) as { OrderDate: string };
        return row.OrderDate >= "1997-01-01" && row.OrderDate !== "31/12/1998 oops";
      }),
    );
    const frame = await parquetFrame(out, "Orders");
    assertEquals(sorted(frame!.getColumn("OrderID").toArray().map(String)), expected);
  });
});
