import { assertEquals, assertThrows } from "../assert.ts";
import {
  castColumn,
  extendSchema,
  formatDate,
  formatDatetime,
  inferColumnType,
  parseTimestamp,
} from "../../lib/sinks/column_types.ts";
import { ContractError } from "../../lib/core/errors.ts";

Deno.test("inference picks int64 for integers, float64 once any value has a fraction", () => {
  assertEquals(inferColumnType([1, null, 2n]), "int64");
  assertEquals(inferColumnType([1, 2.5]), "float64");
  assertEquals(inferColumnType([true, null]), "boolean");
  assertEquals(inferColumnType([new Date(0)]), "datetime");
  assertEquals(inferColumnType(["1996-07-04"]), "string");
  assertEquals(inferColumnType([{ a: 1 }, 2]), "json");
  assertEquals(inferColumnType([1, "x"]), "string");
  assertEquals(inferColumnType([null, undefined]), undefined);
});

Deno.test("int64 cast accepts integers, bigints and digit strings, keeping big ones exact", () => {
  const column = castColumn("id", [1, "42", 2n ** 62n, null, " -7 ", 2n ** 10n], "int64");
  assertEquals(column.values, [1, 42, 2n ** 62n, null, -7, 1024]);
  assertEquals([column.nulls, column.big], [1, true]);
});

Deno.test("int64 cast rejects fractions and values beyond the int64 range", () => {
  assertThrows(() => castColumn("q", [1.5], "int64"), ContractError, 'column "q"');
  assertThrows(() => castColumn("q", [2n ** 63n], "int64"), ContractError, "row 0");
  assertThrows(() => castColumn("q", ["1e3"], "int64"), ContractError, '"1e3"');
});

Deno.test("float64, boolean and string casts convert what is unambiguous", () => {
  assertEquals(castColumn("f", [1, "2.5", 3n], "float64").values, [1, 2.5, 3]);
  assertEquals(castColumn("b", [true, "false", 1, "0"], "boolean").values, [
    true,
    false,
    true,
    false,
  ]);
  assertEquals(castColumn("s", [1, true, 2n, new Date(0), { a: 1 }], "string").values, [
    "1",
    "true",
    "2",
    "1970-01-01T00:00:00.000Z",
    '{"a":1}',
  ]);
  assertThrows(() => castColumn("f", ["abc"], "float64"), ContractError, '"abc"');
  assertThrows(() => castColumn("b", ["yes"], "boolean"), ContractError, '"yes"');
});

Deno.test("date and datetime casts take Dates, timestamp texts and epoch milliseconds", () => {
  assertEquals(castColumn("d", ["1996-07-04 00:00:00.000", new Date(86_400_000)], "date").values, [
    9681,
    1,
  ]);
  assertEquals(
    castColumn("t", ["2026-01-01T10:00:03.120Z", "2026-01-01T12:00:00+02:00", 5], "datetime")
      .values,
    [Date.UTC(2026, 0, 1, 10, 0, 3, 120), Date.UTC(2026, 0, 1, 10), 5],
  );
  assertThrows(() => castColumn("t", ["tomorrow"], "datetime"), ContractError, '"tomorrow"');
});

Deno.test("timestamp texts parse as UTC unless they carry an offset; impossible dates fail", () => {
  assertEquals(parseTimestamp("1996-07-04"), Date.UTC(1996, 6, 4));
  assertEquals(parseTimestamp("1996-07-04 10:20:30.5"), Date.UTC(1996, 6, 4, 10, 20, 30, 500));
  assertEquals(parseTimestamp("1996-07-04T10:20-0130"), Date.UTC(1996, 6, 4, 11, 50));
  assertEquals(parseTimestamp("1996-02-30"), undefined);
  assertEquals(parseTimestamp("04/07/1996"), undefined);
});

Deno.test("schema extension keeps fixed types and types null-only new columns as string", () => {
  assertEquals(
    extendSchema({ id: "int64" }, { id: ["x"], price: [1.5], note: [null] }, { when: "date" }),
    { id: "int64", when: "date", price: "float64", note: "string" },
  );
});

Deno.test("dates and timestamps render exactly as toISOString, also outside years 0–9999", () => {
  const samples = [0, -1, 1, 86_399_999, 1_577_934_245_678, Date.parse("0000-01-01T00:00:00Z")];
  samples.push(Date.parse("9999-12-31T23:59:59.999Z"), Date.parse("+010000-01-01T00:00:00Z") + 5);
  samples.push(Date.parse("0000-01-01T00:00:00Z") - 1);
  for (let i = 0; i < 2000; i++) samples.push(Math.round(Math.sin(i) * 3e14));
  for (const ms of samples) {
    assertEquals(formatDatetime(ms), new Date(ms).toISOString());
    const days = Math.floor(ms / 86_400_000);
    assertEquals(formatDate(days), new Date(days * 86_400_000).toISOString().slice(0, -14));
  }
});
