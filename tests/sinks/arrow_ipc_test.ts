import pl from "nodejs-polars";
import { assert, assertEquals } from "../assert.ts";
import { castColumn, type ColumnType, type TypedColumn } from "../../lib/sinks/column_types.ts";
import { encodeArrowStream } from "../../lib/sinks/arrow_ipc.ts";
import { frameFromArrow, toSeries } from "../../lib/sinks/parquet.ts";
import { rowsToColumns } from "../../lib/sinks/mod.ts";

/** The frame built one Series per column (the reference) and the one read from Arrow bytes. */
function bothFrames(columns: TypedColumn[]): { reference: pl.DataFrame; arrow: pl.DataFrame } {
  const length = columns[0].values.length;
  return {
    reference: pl.DataFrame(columns.map(toSeries)),
    arrow: frameFromArrow(encodeArrowStream(columns, length)),
  };
}

function assertSameFrame(columns: TypedColumn[]): void {
  const { reference, arrow } = bothFrames(columns);
  assertEquals(arrow.columns, reference.columns);
  assertEquals(arrow.dtypes.map(String), reference.dtypes.map(String));
  assert(arrow.frameEqual(reference, true), `frames differ:\n${arrow}\n${reference}`);
}

function column(name: string, values: unknown[], type: ColumnType): TypedColumn {
  return castColumn(name, values, type);
}

Deno.test("int64 cells cross exactly: negatives, 32-bit edges, 2^53 - 1, bigints to ±2^63", () => {
  assertSameFrame([
    column("i", [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32) - 1, 2 ** 53 - 1], "int64"),
    column("big", [1n, 2n ** 60n, -(2n ** 63n), 2n ** 63n - 1n, 5, null, -7, 8], "int64"),
  ]);
  const bytes = encodeArrowStream([column("big", ["9223372036854775807"], "int64")], 1);
  const series = frameFromArrow(bytes).getColumn("big").cast(pl.Utf8);
  assertEquals(series.toArray(), ["9223372036854775807"]);
});

Deno.test("nulls keep their place in every column type", () => {
  assertSameFrame([
    column("i", [null, 2, null], "int64"),
    column("f", [1.5, null, null], "float64"),
    column("s", [null, "", "x"], "string"),
    column("b", [true, null, false], "boolean"),
    column("d", ["1996-07-04", null, "1969-12-31"], "date"),
    column("t", [null, "2026-01-01T10:00:03.120+02:00", "1969-12-31T23:59:59.999Z"], "datetime"),
    column("j", [{ a: 1 }, null, [1]], "json"),
    column("all_null", [null, null, null], "string"),
  ]);
});

Deno.test("the empty string and null stay different in text columns", () => {
  const bytes = encodeArrowStream([column("s", ["", null, "a"], "string")], 3);
  assertEquals(frameFromArrow(bytes).getColumn("s").toArray(), ["", null, "a"]);
});

Deno.test("floats keep -0, NaN, infinities and extremes", () => {
  const values = [-0, NaN, Infinity, -Infinity, 1e300, 5e-324, 0.1 + 0.2];
  const bytes = encodeArrowStream([column("f", values, "float64")], values.length);
  const out = frameFromArrow(bytes).getColumn("f").toArray() as number[];
  assert(Object.is(out[0], -0));
  assert(Number.isNaN(out[1]));
  assertEquals(out.slice(2), values.slice(2));
});

Deno.test("non-ASCII text round-trips: accents, CJK, emoji, and a lone surrogate as U+FFFD", () => {
  const values = ["Toms Spezialitäten", "日本語", "😀x", "\uD800", "plain", "a\u0000b"];
  const bytes = encodeArrowStream([column("s", values, "string")], values.length);
  assertEquals(frameFromArrow(bytes).getColumn("s").toArray(), [
    "Toms Spezialitäten",
    "日本語",
    "😀x",
    "\uFFFD",
    "plain",
    "a\u0000b",
  ]);
});

Deno.test("lone surrogates that would pair across neighbouring cells stay separate cells", () => {
  const values = ["a\uD83D", "\uDE00b", "ok"];
  const bytes = encodeArrowStream([column("s", values, "string")], values.length);
  assertEquals(frameFromArrow(bytes).getColumn("s").toArray(), ["a\uFFFD", "\uFFFDb", "ok"]);
});

Deno.test("text columns longer than one join chunk keep every offset right", () => {
  const values = Array.from({ length: 5000 }, (_, i) => i % 7 === 0 ? `é${i}` : `v${i}`);
  values[4321] = null as unknown as string;
  assertSameFrame([column("s", values, "string"), column("n", values.map((_, i) => i), "int64")]);
});

Deno.test("booleans pack into bits across byte boundaries", () => {
  const values = Array.from({ length: 19 }, (_, i) => i % 3 === 0 ? null : i % 2 === 0);
  assertSameFrame([column("b", values, "boolean")]);
});

Deno.test("column names with spaces, quotes and non-ASCII are kept", () => {
  assertSameFrame([
    column("Order Details", [1], "int64"),
    column('say "hi"', ["x"], "string"),
    column("Ünïcødé", [true], "boolean"),
  ]);
});

Deno.test("dates and timestamps before 1970 and far ahead keep their value", () => {
  assertSameFrame([
    column("d", ["0001-01-01", "1900-02-28", "9999-12-31"], "date"),
    column(
      "t",
      ["1900-01-01T00:00:00Z", "1969-12-31T23:59:59.999Z", "9999-12-31T23:59:59Z"],
      "datetime",
    ),
  ]);
});

Deno.test("rowsToColumns reads records of changing shapes into the right columns", () => {
  const rows: Record<string, unknown>[] = [
    { a: 1, b: "x" },
    { a: 2, b: "y" },
    { b: "z", a: 3 }, // same keys, other order
    { a: 4 }, // a key missing
    { a: 5, b: "w", c: true }, // a new key
    {},
    { a: undefined, b: "v" }, // a key present with undefined
    Object.assign(Object.create({ inherited: 1 }), { a: 6 }),
  ];
  const { columns, length } = rowsToColumns(rows);
  assertEquals(length, 8);
  assertEquals(Object.keys(columns), ["a", "b", "c"]);
  // Cells of rows lacking the key are holes or undefined: both are null to the writers.
  assertEquals([...columns.a], [1, 2, 3, 4, 5, undefined, undefined, 6]);
  assertEquals([...columns.b], ["x", "y", "z", undefined, "w", undefined, "v", undefined]);
  assertEquals([...columns.c], [
    undefined,
    undefined,
    undefined,
    undefined,
    true,
    undefined,
    undefined,
    undefined,
  ]);
});

Deno.test("rowsToColumns reads keys that are not identifiers", () => {
  const rows = [{ "Order ID": 1, 'q"uote': 2, "\u2028": 3, "__proto__x": 4 }];
  const { columns } = rowsToColumns(rows);
  assertEquals(columns, { "Order ID": [1], 'q"uote': [2], "\u2028": [3], "__proto__x": [4] });
});
