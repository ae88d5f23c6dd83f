import { assert, assertEquals, assertStringIncludes, assertThrows } from "../assert.ts";
import {
  chunkToArrays,
  ColumnChunker,
  concatChunks,
  decodeChunk,
  type SqlColumn,
} from "../../lib/sql/chunker.ts";
import { SqlError } from "../../lib/core/errors.ts";

function col(name: string, hint: SqlColumn["hint"], declaredType: string | null = null) {
  return { name, hint, declaredType };
}

Deno.test("rows become one typed buffer per column, chunkRows rows at a time", () => {
  const chunker = new ColumnChunker([col("id", "int64"), col("p", "float64"), col("s", "string")], {
    chunkRows: 2,
  });
  assertEquals(chunker.add([1n, 1.5, "a"]), false);
  assertEquals(chunker.add([2n, 2.5, "b"]), true);
  const chunk = chunker.take();
  assertEquals(chunk.length, 2);
  assert(chunk.columns[0].values instanceof Float64Array);
  assert(chunk.columns[1].values instanceof Float64Array);
  assertEquals(chunkToArrays(chunk), { id: [1, 2], p: [1.5, 2.5], s: ["a", "b"] });
  chunker.add([3n, null, null]);
  const next = chunker.take();
  assertEquals(next.firstRow, 2);
  assertEquals(chunkToArrays(next), { id: [3], p: [null], s: [null] });
});

Deno.test("integers beyond 2^53 stay exact", () => {
  const chunker = new ColumnChunker([col("id", "int64")]);
  chunker.add([1n]);
  chunker.add([9007199254740993n]);
  chunker.add([null]);
  const chunk = chunker.take();
  assert(chunk.columns[0].values instanceof BigInt64Array);
  assertEquals(chunkToArrays(chunk).id, [1, 9007199254740993n, null]);
});

Deno.test("a column without declared type takes the type of its first non-null value", () => {
  const chunker = new ColumnChunker([col("n", "any"), col("d", "any"), col("f", "any")]);
  chunker.add([null, null, null]);
  chunker.add([7n, "1996-07-04 00:00:00.000", 2.5]);
  const chunk = chunker.take();
  assertEquals(chunk.columns.map((c) => c.type), ["int64", "string", "float64"]);
  assertEquals(chunkToArrays(chunk).d, [null, "1996-07-04 00:00:00.000"]);
});

Deno.test("NUMERIC columns holding whole numbers are float64 from the start", () => {
  const chunker = new ColumnChunker([col("price", "numeric", "NUMERIC")]);
  chunker.add([14n]);
  chunker.add([9.8]);
  const chunk = chunker.take();
  assertEquals(chunk.columns[0].type, "float64");
  assertEquals(chunkToArrays(chunk).price, [14, 9.8]);
});

Deno.test("an untyped column widens from int64 to float64 within the first chunk", () => {
  const chunker = new ColumnChunker([col("x", "any")]);
  chunker.add([2n]);
  chunker.add([null]);
  chunker.add([2.5]);
  const chunk = chunker.take();
  assertEquals(chunk.columns[0].type, "float64");
  assertEquals(chunkToArrays(chunk).x, [2, null, 2.5]);
});

Deno.test("types are fixed by the first chunk: a later misfit names column, row and CAST", () => {
  const chunker = new ColumnChunker([col("x", "any")], { chunkRows: 1 });
  chunker.add([2n]);
  chunker.take();
  const error = assertThrows(() => chunker.add([2.5]), SqlError);
  assertStringIncludes(error.message, 'column "x"');
  assertStringIncludes(error.message, "row 2");
  assertStringIncludes(error.message, "CAST(x AS REAL)");
});

Deno.test("a declared INTEGER column holding text is an error, not a silent string", () => {
  const chunker = new ColumnChunker([col("id", "int64", "INTEGER")]);
  assertThrows(() => chunker.add(["abc"]), SqlError, "declared INTEGER");
});

Deno.test("a column null throughout the first chunk keeps its declared type later", () => {
  const chunker = new ColumnChunker([col("shipped", "int64", "INTEGER")], { chunkRows: 1 });
  chunker.add([null]);
  assertEquals(chunker.take().columns[0].type, "int64");
  chunker.add([5n]);
  assertEquals(chunker.take().columns[0].type, "int64");
});

Deno.test("an untyped column null throughout the first chunk becomes text, and stays text", () => {
  const chunker = new ColumnChunker([col("x", "any")], { chunkRows: 1 });
  chunker.add([null]);
  assertEquals(chunker.take().columns[0].type, "string");
  chunker.add([5n]);
  const chunk = chunker.take();
  assertEquals(chunkToArrays(chunk).x, ["5"]);
});

Deno.test("BLOB values are refused with the conversion to use", () => {
  const chunker = new ColumnChunker([col("Picture", "any", "BLOB")]);
  assertThrows(() => chunker.add([new Uint8Array([1, 2])]), SqlError, "hex(Picture)");
});

Deno.test("booleans accept 0/1 and true/false", () => {
  const chunker = new ColumnChunker([col("b", "boolean")]);
  chunker.add([1n]);
  chunker.add([false]);
  chunker.add([null]);
  assertEquals(chunkToArrays(chunker.take()).b, [true, false, null]);
});

Deno.test("PostgreSQL text forms of int8 and numeric are parsed", () => {
  const chunker = new ColumnChunker([col("id", "int64"), col("amount", "float64")]);
  chunker.add(["9223372036854775807", "12.50"]);
  const arrays = chunkToArrays(chunker.take());
  assertEquals(arrays.id, [9223372036854775807n]);
  assertEquals(arrays.amount, [12.5]);
});

Deno.test("chunkRows must be a positive whole number", () => {
  assertThrows(() => new ColumnChunker([], { chunkRows: 0 }), SqlError, "positive");
});

Deno.test("batches never cross a chunk boundary and join back into whole chunks", () => {
  const chunker = new ColumnChunker([col("id", "int64"), col("s", "string")], {
    chunkRows: 5,
    batchRows: 2,
  });
  const batches = [];
  for (let i = 0; i < 7; i++) {
    if (chunker.add([BigInt(i), `r${i}`])) batches.push(chunker.take());
  }
  if (chunker.length > 0) batches.push(chunker.take());
  assertEquals(batches.map((b) => b.length), [2, 2, 1, 2]);
  const chunk = concatChunks(batches.slice(0, 3));
  assertEquals(chunkToArrays(chunk), { id: [0, 1, 2, 3, 4], s: ["r0", "r1", "r2", "r3", "r4"] });
});

Deno.test("types stay open for the whole first chunk even when it comes in batches", () => {
  const chunker = new ColumnChunker([col("x", "any"), col("later", "any")], {
    chunkRows: 4,
    batchRows: 2,
  });
  chunker.add([1n, null]);
  chunker.add([2n, null]);
  const first = chunker.take();
  chunker.add([2.5, null]);
  chunker.add([3n, 7n]);
  const chunk = concatChunks([first, chunker.take()]);
  assertEquals(chunk.columns.map((c) => c.type), ["float64", "int64"]);
  assertEquals(chunkToArrays(chunk), { x: [1, 2, 2.5, 3], later: [null, null, null, 7] });
  chunker.add([1.5, 8n]);
  assertThrows(() => chunker.add([4.5, 9.5]), SqlError, 'column "later"');
});

Deno.test("text can travel dictionary-encoded and decodes to the same values", () => {
  const chunker = new ColumnChunker([col("country", "string")], { encodeText: true });
  for (const v of ["USA", "France", null, "USA", "France"]) chunker.add([v]);
  const chunk = chunker.take();
  const column = chunk.columns[0] as { encoded?: { dict: string[] } };
  assertEquals(column.encoded?.dict, ["USA", "France"]);
  assertEquals(chunkToArrays(decodeChunk(chunk)).country, ["USA", "France", null, "USA", "France"]);
});

Deno.test("text with mostly distinct values falls back from the dictionary to plain arrays", () => {
  const chunker = new ColumnChunker([col("id", "string")], { encodeText: true, chunkRows: 100 });
  const values = Array.from({ length: 100 }, (_, i) => `id-${i}`);
  for (const v of values) chunker.add([v]);
  const chunk = decodeChunk(chunker.take());
  assertEquals(chunkToArrays(chunk).id, values);
});
