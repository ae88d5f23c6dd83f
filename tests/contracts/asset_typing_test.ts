/**
 * The typing of a REST asset: `columns:` / `select:` as a zod contract (convert, rename, select,
 * reject with the column and why), date inference from the first page, and what a type change
 * from the recorded types does (widen and report, or stop naming the column).
 */
import { z } from "zod";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../assert.ts";
import {
  AssetTyping,
  declaredContract,
  inferTextDateType,
  typeChange,
} from "../../lib/contracts/mod.ts";
import { ContractError } from "../../lib/core/errors.ts";
import { parseJsonExact } from "../../lib/core/json_parse.ts";
import { columnDeclSchema } from "../../lib/sinks/column_schema.ts";
import type { ColumnDecl } from "../../lib/sinks/column_types.ts";

function decls(input: Record<string, unknown>): Record<string, ColumnDecl> {
  return z.record(z.string(), columnDeclSchema).parse(input);
}

const ORDER = {
  OrderID: 10248,
  CustomerID: "VINET",
  OrderDate: "1996-07-04 00:00:00.000",
  Freight: 32.38,
};

Deno.test("columns: converts declared values, renames them and keeps only select, in its order", () => {
  const contract = declaredContract(
    decls({
      OrderID: { type: "int", rename: "order_id" },
      OrderDate: { type: "date", rename: "order_date" },
      Freight: "decimal(10,2)",
    }),
    ["Freight", "OrderID", "OrderDate"],
  );
  const row = contract.parse({ ...ORDER, OrderID: "10248" });
  // A text date without a format stays the source text: the sink reads it with the same parser.
  assertEquals(row, { Freight: "32.38", order_id: 10248, order_date: "1996-07-04 00:00:00.000" });
  assertEquals(Object.keys(row), ["Freight", "order_id", "order_date"]);
});

Deno.test("columns: a value that does not fit names the column and why", () => {
  const contract = declaredContract(decls({ OrderDate: "date", OrderID: "int" }));
  const result = contract.safeParse({ ...ORDER, OrderDate: "04/07/1996", OrderID: 1.5 });
  assert(!result.success);
  const issues = result.error.issues.map((i) => [i.path.join("."), i.message]);
  assertEquals(issues.map((i) => i[0]), ["OrderDate", "OrderID"]);
  assertStringIncludes(issues[0][1], '"04/07/1996" does not match format ISO-8601');
  assertStringIncludes(issues[1][1], "is not a whole number");
});

Deno.test("columns: nullable false rejects a null or missing value", () => {
  const contract = declaredContract(decls({ CustomerID: { type: "string", nullable: false } }));
  assert(!contract.safeParse({ ...ORDER, CustomerID: null }).success);
  assert(!contract.safeParse({ OrderID: 1 }).success);
  assert(contract.safeParse(ORDER).success);
});

Deno.test("columns: a text date with a format becomes the declared type", () => {
  const contract = declaredContract(decls({
    Shipped: { type: "timestamp", format: "%d/%m/%Y %H:%M" },
  }));
  assertEquals(contract.parse({ Shipped: "04/07/1996 13:05" }).Shipped, 836485500000000);
});

Deno.test("inference: one date form across every value is date, timestamp or timestamp_tz", () => {
  assertEquals(inferTextDateType(["1996-07-04", null, "1996-07-05"]), "date");
  assertEquals(inferTextDateType(["1996-07-04 00:00:00.000", "1996-07-04T10:00"]), "timestamp");
  assertEquals(
    inferTextDateType(["2026-01-01T10:00:03.120Z", "2026-01-01 10:00:03+02:00"]),
    "timestamp_tz",
  );
});

Deno.test("inference: mixed forms, other text, numbers or only nulls stay what they are", () => {
  assertEquals(inferTextDateType(["1996-07-04", "1996-07-04 10:00"]), undefined);
  assertEquals(inferTextDateType(["2026-01-01T10:00:03Z", "2026-01-01T10:00:03"]), undefined);
  assertEquals(inferTextDateType(["1996-07-04", "soon"]), undefined);
  assertEquals(inferTextDateType(["1996-02-30"]), undefined);
  assertEquals(inferTextDateType([19960704]), undefined);
  assertEquals(inferTextDateType([null, undefined]), undefined);
});

Deno.test("type changes: int → float and date → timestamp widen; the reverse fits; others are incompatible", () => {
  assertEquals(typeChange("int64", "float64"), "widen");
  assertEquals(typeChange("date", "timestamp"), "widen");
  assertEquals(typeChange("float64", "int64"), "fits");
  assertEquals(typeChange("timestamp", "date"), "fits");
  assertEquals(typeChange("string", "timestamp"), "fits");
  assertEquals(typeChange("timestamp", "string"), "incompatible");
  assertEquals(typeChange("int64", "boolean"), "incompatible");
});

Deno.test("typing: the first page makes text dates timestamps; the order of the fields is kept", () => {
  const typing = new AssetTyping({ asset: "Orders" });
  const { rows, rejects } = typing.rows([ORDER, { ...ORDER, OrderID: 10249 }]);
  assertEquals(typing.columns, {
    OrderID: "int64",
    CustomerID: "string",
    OrderDate: "timestamp",
    Freight: "float64",
  });
  assertEquals(rows[0], ORDER, "the source text stays: the sink parses it");
  assertEquals(rejects, []);
});

Deno.test("typing: a later value that does not parse as the inferred type is a column_type reject", () => {
  const typing = new AssetTyping({ asset: "Orders" });
  typing.rows([ORDER]);
  const { rows, rejects } = typing.rows([
    { ...ORDER, OrderID: 1 },
    { ...ORDER, OrderID: 2, OrderDate: "sometime" },
  ]);
  assertEquals(rows.map((r) => r.OrderID), [1]);
  assertEquals(rejects.length, 1);
  assertEquals(rejects[0].index, 1);
  assertEquals(rejects[0].reason, "column_type");
  assertEquals(rejects[0].issues[0].path, "OrderDate");
  assertStringIncludes(rejects[0].issues[0].message, '"sometime" does not match');
});

Deno.test("typing: type string under columns: turns date inference off for that column", () => {
  const typing = new AssetTyping({ asset: "Orders", columns: decls({ OrderDate: "string" }) });
  typing.rows([ORDER]);
  assertEquals(typing.columns.OrderDate, "string");
});

Deno.test("typing: without inference (CSV, JSONL) text dates stay text", () => {
  const typing = new AssetTyping({ asset: "Orders", inferDates: false });
  typing.rows([ORDER]);
  assertEquals(typing.columns.OrderDate, "string");
});

Deno.test("typing: a named contract runs first, then the declarations on its output", () => {
  const contract = z.looseObject({ OrderID: z.coerce.number().int().positive() });
  const typing = new AssetTyping({
    asset: "Orders",
    contract,
    contractTypes: { OrderID: "int64" },
    columns: decls({ Freight: { type: "decimal(10,2)", rename: "freight" } }),
  });
  const { rows, rejects } = typing.rows([
    { ...ORDER, OrderID: "10248" },
    { ...ORDER, OrderID: -1 },
    { ...ORDER, Freight: "lots" },
  ]);
  assertEquals(rows.map((r) => [r.OrderID, r.freight]), [[10248, "32.38"]]);
  assertEquals(rejects.map((r) => [r.index, r.reason ?? "contract", r.issues[0].path]), [
    [1, "contract", "OrderID"],
    [2, "column_type", "Freight"],
  ]);
  assertEquals(typing.columns.freight, "decimal(10,2)");
});

Deno.test("typing: a widened column (int recorded, float now) takes the wider type and says so", () => {
  const typing = new AssetTyping({
    asset: "Orders",
    recorded: { OrderID: "int64", Freight: "int64", OrderDate: "timestamp", CustomerID: "string" },
  });
  typing.rows([{ ...ORDER, Extra: true }]);
  assertEquals(typing.columns.Freight, "float64");
  assertEquals(typing.changes, [
    "column Freight widened from int64 to float64",
    "new column Extra (boolean)",
  ]);
});

Deno.test("typing: a recorded type whose values still fit it is kept (float column, int values)", () => {
  const typing = new AssetTyping({ asset: "Orders", recorded: { Freight: "float64" } });
  typing.rows([{ ...ORDER, Freight: 32 }]);
  assertEquals(typing.columns.Freight, "float64");
  assertEquals(typing.changes, [
    "new column OrderID (int64)",
    "new column CustomerID (string)",
    "new column OrderDate (timestamp)",
  ]);
});

Deno.test("typing: a declared narrowing of a recorded type stops with the column, both types and the fix", () => {
  const typing = new AssetTyping({
    asset: "Orders",
    recorded: { Freight: "float64" },
    columns: decls({ Freight: "int" }),
  });
  const error = assertThrows(() => typing.rows([ORDER]), ContractError);
  assertStringIncludes(error.message, "column Freight was float64 in earlier runs");
  assertStringIncludes(error.message, "int64, a narrowing change; nothing was written");
  assertStringIncludes(error.message, "under columns:");
  assertStringIncludes(error.message, "--full-refresh");
  assertThrows(() => typing.rows([ORDER]), ContractError, "column Freight");
});

Deno.test("typing: a recorded timestamp column whose values no longer parse at all stops the asset", () => {
  const typing = new AssetTyping({ asset: "Orders", recorded: { OrderDate: "timestamp" } });
  assertThrows(
    () => typing.rows([{ ...ORDER, OrderDate: "July 4th" }]),
    ContractError,
    "column OrderDate was timestamp in earlier runs and its values are now string",
  );
});

Deno.test("typing: a recorded timestamp column with one bad value rejects that row only", () => {
  const typing = new AssetTyping({ asset: "Orders", recorded: { OrderDate: "timestamp" } });
  const { rows, rejects } = typing.rows([ORDER, { ...ORDER, OrderDate: "July 4th" }]);
  assertEquals(rows.length, 1);
  assertEquals(rejects.map((r) => [r.index, r.issues[0].path]), [[1, "OrderDate"]]);
  assertEquals(typing.columns.OrderDate, "timestamp");
});

Deno.test("JSON bodies keep integers beyond 2^53 as their exact digits", () => {
  const body = parseJsonExact(
    '{"rows":[{"id":9007199254740993,"n":-12345678901234567890,"f":1.5}]}',
  );
  assertEquals(body, { rows: [{ id: "9007199254740993", n: "-12345678901234567890", f: 1.5 }] });
  assertEquals(parseJsonExact('{"id":9007199254740991}'), { id: 9007199254740991 });
});

Deno.test("typing: a first page without rows decides nothing; the first page with rows does", () => {
  const typing = new AssetTyping({ asset: "Orders" });
  assertEquals(typing.rows([]), { rows: [], rejects: [] });
  assert(!typing.decided);
  typing.rows([ORDER]);
  assertEquals(typing.columns.OrderDate, "timestamp");
});

Deno.test("typing: a column first seen after the first page is a change once types were recorded", () => {
  const typing = new AssetTyping({ asset: "Orders", recorded: { OrderID: "int64" } });
  typing.rows([{ OrderID: 1 }]);
  assertEquals(typing.laterColumns({ OrderID: "int64", Late: "string" }), [
    "new column Late (string)",
  ]);
  const first = new AssetTyping({ asset: "Orders" });
  first.rows([{ OrderID: 1 }]);
  assertEquals(first.laterColumns({ OrderID: "int64", Late: "string" }), []);
});
