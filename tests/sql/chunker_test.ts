import { assert, assertEquals, assertStringIncludes, assertThrows } from "../assert.ts";
import {
  type BuiltChunk,
  ChunkBuilder,
  type ChunkBuilderOptions,
  type SqlColumn,
} from "../../lib/sql/chunker.ts";
import { columnDeclSchema } from "../../lib/sinks/column_schema.ts";
import { vectorCells } from "../../lib/sinks/vectors.ts";
import { SqlError } from "../../lib/core/errors.ts";

function col(name: string, hint: SqlColumn["hint"], declaredType: string | null = null) {
  return { name, hint, declaredType };
}

/** Every chunk of `rows` pushed one page at a time, then the last one. */
function build(
  columns: SqlColumn[],
  pages: unknown[][][],
  options: ChunkBuilderOptions = {},
): BuiltChunk[] {
  const builder = new ChunkBuilder(columns, options);
  const chunks = pages.flatMap((page) => builder.push(page));
  const last = builder.finish();
  return last ? [...chunks, last] : chunks;
}

/** A chunk's columns as cells by name (dates as days, timestamps as µs). */
function cells(chunk: BuiltChunk): Record<string, unknown[]> {
  return Object.fromEntries(
    chunk.batch.columns.map((c) => [c.name, vectorCells(c, chunk.batch.length)]),
  );
}

function types(chunk: BuiltChunk): Record<string, string> {
  return Object.fromEntries(chunk.batch.columns.map((c) => [c.name, c.type]));
}

Deno.test("rows become one typed vector per column, chunkRows rows at a time", () => {
  const chunks = build([col("id", "int64"), col("p", "float64"), col("s", "string")], [
    [[1n, 1.5, "a"], [2, 2.5, "b"], [3n, null, null]],
  ], { chunkRows: 2 });
  assertEquals(chunks.map((c) => [c.firstRow, c.batch.length]), [[0, 2], [2, 1]]);
  assert(chunks[0].batch.columns[0].values instanceof Float64Array);
  assertEquals(cells(chunks[0]), { id: [1, 2], p: [1.5, 2.5], s: ["a", "b"] });
  assertEquals(cells(chunks[1]), { id: [3], p: [null], s: [null] });
});

Deno.test("integers beyond 2^53 stay exact", () => {
  const [chunk] = build([col("id", "int64")], [[[1n], [9007199254740993n], [null]]]);
  assert(chunk.batch.columns[0].values instanceof BigInt64Array);
  assertEquals(cells(chunk).id, [1, 9007199254740993n, null]);
});

Deno.test("a column without declared type takes the type of its first non-null value", () => {
  const [chunk] = build([col("n", "any"), col("s", "any"), col("f", "any")], [
    [[null, null, null]],
    [[7n, "N/A", 2.5]],
  ]);
  assertEquals(types(chunk), { n: "int64", s: "string", f: "float64" });
  assertEquals(cells(chunk), { n: [null, 7], s: [null, "N/A"], f: [null, 2.5] });
});

Deno.test("NUMERIC columns holding whole numbers are float64 from the start", () => {
  const [chunk] = build([col("price", "numeric", "NUMERIC")], [[[14n], [9.8]]]);
  assertEquals(types(chunk), { price: "float64" });
  assertEquals(cells(chunk).price, [14, 9.8]);
});

Deno.test("an untyped column widens from int64 to float64 within the first chunk", () => {
  const [chunk] = build([col("x", "any")], [[[2n], [null]], [[2.5], [2 ** 60]]]);
  assertEquals(types(chunk), { x: "float64" });
  assertEquals(cells(chunk).x, [2, null, 2.5, 2 ** 60]);
});

Deno.test("types are fixed by the first chunk: a later misfit is a reject naming column and CAST", () => {
  const chunks = build([col("id", "int64", "INTEGER"), col("x", "any")], [
    [[1, 2n], [2, 3n], [3, 2.5], [4, 4n]],
  ], { chunkRows: 2 });
  assertEquals(chunks.map((c) => c.batch.length), [2, 1]);
  const [reject] = chunks[1].rejects;
  assertEquals(reject.row, { id: 3, x: 2.5 });
  assertEquals(reject.index, 2);
  assertEquals(reject.reason, "column_type");
  assertEquals(reject.issues[0].path, "x");
  assertStringIncludes(reject.issues[0].message, "2.5 is not a whole number");
  assertStringIncludes(reject.issues[0].message, "CAST it in the query");
  assertEquals(cells(chunks[1]), { id: [4], x: [4] });
});

Deno.test("a declared INTEGER column holding text is a reject, not a silent string", () => {
  const [chunk] = build([col("id", "int64", "INTEGER")], [[["abc"], ["42"], [7]]]);
  assertEquals(cells(chunk).id, [42, 7]);
  assertEquals(chunk.rejects.length, 1);
  assertStringIncludes(chunk.rejects[0].issues[0].message, "declared INTEGER");
});

Deno.test("a column null throughout the first chunk keeps its declared type later", () => {
  const chunks = build([col("shipped", "int64", "INTEGER")], [[[null], [5n]]], { chunkRows: 1 });
  assertEquals(chunks.map(types), [{ shipped: "int64" }, { shipped: "int64" }]);
});

Deno.test("an untyped column null throughout the first chunk becomes text, and stays text", () => {
  const chunks = build([col("x", "any")], [[[null], [5n]]], { chunkRows: 1 });
  assertEquals(chunks.map(types), [{ x: "string" }, { x: "string" }]);
  assertEquals(cells(chunks[1]).x, ["5"]);
});

Deno.test("BLOB values are refused with the conversion to use", () => {
  assertThrows(
    () => build([col("Picture", "any", "BLOB")], [[[new Uint8Array([1, 2])]]]),
    SqlError,
    "hex(Picture)",
  );
});

Deno.test("booleans accept 0/1 and true/false", () => {
  const [chunk] = build([col("b", "boolean")], [[[1n], [false], [null], [0]]]);
  assertEquals(cells(chunk).b, [true, false, null, false]);
});

Deno.test("PostgreSQL's text forms: int8 digits, numeric(p,s) decimals, dates and timestamps", () => {
  const [chunk] = build([
    col("id", "int64"),
    col("amount", "decimal(10,2)"),
    col("day", "date"),
    col("at", "timestamp"),
    col("zoned", "timestamp_tz"),
  ], [[[
    "9223372036854775807",
    "12.5",
    "1996-07-04",
    "1996-07-04 10:00:00.123456",
    "1996-07-04 12:00:00+02",
  ]]]);
  assertEquals(types(chunk), {
    id: "int64",
    amount: "decimal(10,2)",
    day: "date",
    at: "timestamp",
    zoned: "timestamp_tz",
  });
  const day = 9681 * 86_400_000_000;
  assertEquals(cells(chunk), {
    id: [9223372036854775807n],
    amount: ["12.50"],
    day: [9681],
    at: [day + 36_000_123_456],
    zoned: [day + 36_000_000_000],
  });
});

Deno.test("chunkRows must be a positive whole number", () => {
  assertThrows(() => new ChunkBuilder([], { chunkRows: 0 }), SqlError, "positive");
});

Deno.test("pages crossing chunk boundaries make whole chunks", () => {
  const rows = Array.from({ length: 7 }, (_, i) => [BigInt(i), `r${i}`]);
  const chunks = build(
    [col("id", "int64"), col("s", "string")],
    [rows.slice(0, 3), rows.slice(3)],
    {
      chunkRows: 5,
    },
  );
  assertEquals(chunks.map((c) => c.batch.length), [5, 2]);
  assertEquals(cells(chunks[0]), { id: [0, 1, 2, 3, 4], s: ["r0", "r1", "r2", "r3", "r4"] });
});

Deno.test("text travels dictionary-encoded while it repeats, plain once it does not", () => {
  const [chunk] = build([col("country", "string")], [[["USA"], ["France"], [null], ["USA"]]]);
  const values = chunk.batch.columns[0].values as { dict: string[] };
  assertEquals(values.dict, ["USA", "France"]);
  assertEquals(cells(chunk).country, ["USA", "France", null, "USA"]);
  const ids = Array.from({ length: 100 }, (_, i) => [`id-${i}`]);
  const [plain] = build([col("id", "string")], [ids], { chunkRows: 100 });
  assert(Array.isArray(plain.batch.columns[0].values));
  assertEquals(cells(plain).id, ids.map(([v]) => v));
  const [unencoded] = build([col("c", "string")], [[["a"], ["a"]]], { encodeText: false });
  assert(Array.isArray(unencoded.batch.columns[0].values));
});

Deno.test("text holding one ISO date form across the first chunk becomes DATE/TIMESTAMP", () => {
  const columns = [
    col("day", "string", "TEXT"),
    col("at", "any", "DATETIME"),
    col("zoned", "any"),
    col("mixed", "any"),
    col("label", "string"),
  ];
  const chunks = build(columns, [
    [["1996-07-04", "1996-07-04 00:00:00.000", "1996-07-04T10:00:00Z", "1996-07-04", "x"]],
    [[null, "1996-07-05 10:30:00.500", "1996-07-04T12:00:00+02:00", "1996-07-05 10:00", "y"]],
    [["1996-07-06", "not a date", null, null, "z"]],
  ], { chunkRows: 2, shape: { inferDates: true } });
  assertEquals(types(chunks[0]), {
    day: "date",
    at: "timestamp",
    zoned: "timestamp_tz",
    mixed: "string",
    label: "string",
  });
  const day = 9681 * 86_400_000_000;
  assertEquals(cells(chunks[0]), {
    day: [9681, null],
    at: [day, day + 86_400_000_000 + 37_800_500_000],
    zoned: [day + 36_000_000_000, day + 36_000_000_000],
    mixed: ["1996-07-04", "1996-07-05 10:00"],
    label: ["x", "y"],
  });
  // The types are fixed: a later value that does not read as one is a reject.
  assertEquals(chunks[1].batch.length, 0);
  assertEquals(chunks[1].rejects[0].issues[0].path, "at");
  assertStringIncludes(chunks[1].rejects[0].issues[0].message, '"not a date" does not match');
  assertStringIncludes(chunks[1].rejects[0].issues[0].message, "type: string keeps text");
});

Deno.test("without inference (PostgreSQL's text) date-like text stays text", () => {
  const [chunk] = build([col("d", "string")], [[["1996-07-04"]]]);
  assertEquals(types(chunk), { d: "string" });
});

Deno.test("declared columns: type, format, nullable, rename and select shape the output", () => {
  const decl = (value: unknown) => columnDeclSchema.parse(value);
  const [chunk] = build([
    col("id", "int64"),
    col("when", "string"),
    col("price", "any"),
    col("flag", "any"),
    col("note", "string"),
  ], [[
    [1, "04/07/1996", "12.5", "t", "keep"],
    [2, "1996-07-04", "1.005", "f", "keep"],
    [3, "05/07/1996", null, "x", "keep"],
    [4, "06/07/1996", "3", "1", null],
  ]], {
    shape: {
      columns: {
        when: decl({ type: "date", format: "%d/%m/%Y", rename: "day" }),
        price: decl("decimal(6,2)"),
        flag: decl("bool"),
        note: decl({ type: "string", nullable: false }),
      },
      select: ["when", "id", "price", "flag", "note"],
      inferDates: true,
    },
  });
  assertEquals(types(chunk), {
    day: "date",
    id: "int64",
    price: "decimal(6,2)",
    flag: "boolean",
    note: "string",
  });
  assertEquals(cells(chunk), {
    day: [9681],
    id: [1],
    price: ["12.50"],
    flag: [true],
    note: ["keep"],
  });
  assertEquals(
    chunk.rejects.map((r) => [r.index, r.issues.map((i) => i.path)]),
    [[1, ["when", "price"]], [2, ["flag"]], [3, ["note"]]],
  );
  assertStringIncludes(chunk.rejects[0].issues[1].message, "without rounding");
  assertStringIncludes(chunk.rejects[2].issues[0].message, "nullable: false");
});

Deno.test("select and columns name columns the query has; output names stay unique", () => {
  const columns = [col("a", "int64"), col("b", "int64")];
  assertThrows(
    () => new ChunkBuilder(columns, { shape: { select: ["c"] } }),
    SqlError,
    "select: c",
  );
  assertThrows(
    () => new ChunkBuilder(columns, { shape: { columns: { z: columnDeclSchema.parse("int") } } }),
    SqlError,
    "columns: z",
  );
  assertThrows(
    () =>
      new ChunkBuilder(columns, {
        shape: { columns: { a: columnDeclSchema.parse({ type: "int", rename: "b" }) } },
      }),
    SqlError,
    'named "b"',
  );
});

Deno.test("incremental: rows of the previous boundary are dropped, the new boundary kept raw", () => {
  const builder = new ChunkBuilder([col("id", "int64"), col("at", "any")], {
    chunkRows: 10,
    shape: { inferDates: true },
    incremental: {
      column: "at",
      keys: ["id"],
      previous: {
        column: "at",
        type: "string",
        value: "1996-07-04 00:00:00",
        keys: ["id"],
        rows: ["[1]"],
      },
    },
  });
  builder.push([[1, "1996-07-04 00:00:00"], [2, "1996-07-04 00:00:00"], [
    3,
    "1996-07-05 00:00:00",
  ]]);
  const chunk = builder.finish()!;
  assertEquals(chunk.dropped, 1);
  assertEquals(chunk.rowsRead, 3);
  assertEquals(cells(chunk).id, [2, 3]);
  assertEquals(types(chunk).at, "timestamp");
  assertEquals(builder.boundary(), {
    column: "at",
    type: "string",
    value: "1996-07-05 00:00:00",
    keys: ["id"],
    rows: ["[3]"],
  });
});

Deno.test("page columns of doubles: integers, a fraction widening an untyped column, a reject in a declared one, floats", () => {
  const columns = [col("n", "any"), col("declared", "int64", "INTEGER"), col("f", "float64")];
  const builder = new ChunkBuilder(columns, { chunkRows: 4 });
  const pages = [
    [Float64Array.of(1, 2, 3), Float64Array.of(4, 5, 6), Float64Array.of(0.5, 1.5, -0)],
    [Float64Array.of(4.5, 5), Float64Array.of(7.5, 8), Float64Array.of(Infinity, 2)],
  ];
  const chunks = pages.flatMap((page) => builder.pushColumns(page as never, page[0].length));
  const last = builder.finish();
  if (last) chunks.push(last);
  assertEquals(chunks.map((c) => c.batch.length), [3, 1]);
  assertEquals(types(chunks[0]), { n: "float64", declared: "int64", f: "float64" });
  assertEquals(cells(chunks[0]), { n: [1, 2, 3], declared: [4, 5, 6], f: [0.5, 1.5, -0] });
  assertEquals(cells(chunks[1]), { n: [5], declared: [8], f: [2] });
  assertEquals(chunks[0].rejects.map((r) => [r.index, r.issues[0].path]), [[3, "declared"]]);
});
