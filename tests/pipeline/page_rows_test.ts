/** Bytes → records → rows, pure: what harvest and replay share. */
import { rowsFromBytes, selectRecords } from "../../lib/pipeline/page_rows.ts";
import { pagesOfPart, partKey } from "../../lib/harvest/page_step.ts";
import { getContract } from "../../lib/contracts/mod.ts";
import { PaginationError } from "../../lib/core/errors.ts";
import { assertEquals, assertThrows } from "../assert.ts";

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

Deno.test("page rows: records at data_path; null is no records, and so is absent where the API leaves it out", () => {
  assertEquals(selectRecords({ rows: [{ a: 1 }] }, "rows"), [{ a: 1 }]);
  assertEquals(selectRecords({ rows: null }, "rows"), []);
  assertEquals(selectRecords({ meta: { result_count: 0 } }, "data", "t", { optional: true }), []);
  assertEquals(selectRecords([{ a: 1 }], ""), [{ a: 1 }]);
});

Deno.test("page rows: a data_path the response does not have is an error naming it and the keys there are", () => {
  const error = assertThrows(
    () => selectRecords({ ok: true, results: [] }, "items.rows", "lines"),
    PaginationError,
    'no "items.rows"',
  );
  assertEquals(error.message.includes("ok, results"), true);
  assertEquals(error.message.includes("data_optional"), true);
});

Deno.test("page rows: a data_path that is not a list of objects is an error naming it", () => {
  assertThrows(() => selectRecords({ rows: 3 }, "rows"), PaginationError, 'data_path "rows"');
  assertThrows(() => selectRecords({ rows: [1] }, "rows"), PaginationError, "not an object");
});

Deno.test("page rows: the contract coerces valid rows and rejects the others with every issue", () => {
  const { records, rows, rejects } = rowsFromBytes(
    bytes({
      rows: [
        { OrderID: "10248", ProductID: 11, UnitPrice: 14, Quantity: 12, Discount: 0 },
        { OrderID: 10249, ProductID: 42, UnitPrice: 9.8, Quantity: 0, Discount: 1.5 },
      ],
    }),
    { dataPath: "rows", contract: getContract("order_details") },
  );
  assertEquals(records.length, 2);
  assertEquals(rows.map((r) => r.OrderID), [10248]);
  assertEquals(rejects[0].issues.map((i) => i.path), ["Quantity", "Discount"]);
});

Deno.test("page rows: a body that is not JSON is an error", () => {
  assertThrows(
    () => rowsFromBytes(new TextEncoder().encode("<html>"), { dataPath: "rows" }),
    PaginationError,
    "not JSON",
  );
});

Deno.test("page rows: part keys carry the pages of their batch and read back", () => {
  assertEquals(partKey(null, 7, 16), "00007-00016");
  assertEquals(partKey(1, 7, 7), "p01-00007-00007");
  const run = "20261123T101500Z-3fa9c1";
  assertEquals(
    pagesOfPart(`parquet/Orders/ShipCountry=USA/part-${run}-p01-00007-00016.parquet`, run),
    {
      first: 7,
      last: 16,
    },
  );
  assertEquals(pagesOfPart(`parquet/Orders/part-${run}-00003-00003-b002.parquet`, run), {
    first: 3,
    last: 3,
  });
  assertEquals(pagesOfPart("parquet/Orders/part-other-00001-00002.parquet", run), null);
});
