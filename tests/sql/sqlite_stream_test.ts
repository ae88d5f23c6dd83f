import { assertEquals, assertThrows } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import {
  giveCredit,
  newReaderControl,
  stopReader,
  streamPages,
  takeCredit,
} from "../../lib/sql/sqlite_stream.ts";
import { decodePage, type SqlitePage } from "../../lib/sql/sqlite_read.ts";
import { SqlError } from "../../lib/core/errors.ts";

/** Pages of `sql` on an in-memory database, `pageRows` rows each. */
function pagesOf(sql: string, width: number, pageRows: number): SqlitePage[] {
  const db = new DatabaseSync(":memory:");
  try {
    const columns = Array.from({ length: width }, (_, i) => ({
      name: `c${i}`,
      declaredType: null,
      hint: "any" as const,
    }));
    const pages: SqlitePage[] = [];
    streamPages(db, { columns, values: [], text: sql }, pageRows, (page) => pages.push(page));
    return pages;
  } finally {
    db.close();
  }
}

const SEVEN = `SELECT value AS n, 'row ' || value AS label FROM json_each('[7,6,5,4,3,2,1]')
  ORDER BY value`;

Deno.test("pages come in the query's order, pageRows rows each, the last one shorter", () => {
  const pages = pagesOf(SEVEN, 2, 3);
  assertEquals(pages.map((p) => p.length), [3, 3, 1]);
  const rows = pages.flatMap((p) => {
    const [n, label] = decodePage(p, 2);
    return Array.from({ length: p.length }, (_, r) => [n[r], label[r]]);
  });
  assertEquals(rows, [1, 2, 3, 4, 5, 6, 7].map((n) => [n, `row ${n}`]));
});

Deno.test("a column of numbers only comes as doubles, of text and nulls as one text, else as JSON bytes", () => {
  const [page] = pagesOf(
    `SELECT value AS n, CASE WHEN value = 2 THEN NULL ELSE 'row ' || value END AS label,
      CASE WHEN value = 3 THEN 'three' ELSE value END AS mixed
      FROM json_each('[1,2,3,4,5,6,7]')`,
    3,
    10,
  );
  assertEquals(page.kind, "json");
  if (page.kind !== "json") return;
  assertEquals(page.columns[0], Float64Array.of(1, 2, 3, 4, 5, 6, 7));
  const label = page.columns[1];
  if (label instanceof Uint8Array || label instanceof Float64Array) throw new Error("not text");
  assertEquals(label.lengths, Int32Array.of(5, -1, 5, 5, 5, 5, 5));
  assertEquals(page.columns[2] instanceof Uint8Array, true);
  assertEquals(
    decodePage(page, 3),
    [
      [1, 2, 3, 4, 5, 6, 7],
      ["row 1", null, "row 3", "row 4", "row 5", "row 6", "row 7"],
      [1, 2, "three", 4, 5, 6, 7],
    ].map((column, c) => c === 0 ? Float64Array.from(column as number[]) : column) as never,
  );
});

Deno.test("text comes back exactly: a leading BOM, empty, quotes, newlines, accents, astral characters", () => {
  const texts = ["\ufeffbom first", "", 'a"b', "line\nnext", "Zürich", "😀 x", "\u0000 nul", ""];
  const db = new DatabaseSync(":memory:");
  try {
    db.exec("CREATE TABLE t (s TEXT)");
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    for (const text of texts) insert.run(text);
    const pages: SqlitePage[] = [];
    const columns = [{ name: "s", declaredType: "TEXT", hint: "string" as const }];
    streamPages(db, { columns, values: [], text: "SELECT s FROM t" }, 4, (p) => pages.push(p));
    assertEquals(pages.flatMap((p) => decodePage(p, 1)[0]), texts);
  } finally {
    db.close();
  }
});

Deno.test("a text repeated row after row is sent once and comes back as the same string", () => {
  const [page] = pagesOf(
    `SELECT column1 FROM (VALUES ('a'), ('a'), (NULL), ('a'), ('bb'), ('bb'), ('a'))`,
    1,
    8,
  );
  if (page.kind !== "json") throw new Error(`a ${page.kind} page`);
  const column = page.columns[0];
  if (column instanceof Uint8Array || column instanceof Float64Array) throw new Error("not text");
  assertEquals(column.lengths, Int32Array.of(1, -2, -1, 1, 2, -2, 1));
  assertEquals(new TextDecoder().decode(column.text), "aabba");
  assertEquals(decodePage(page, 1), [["a", "a", null, "a", "bb", "bb", "a"]]);
});

Deno.test("-0 and infinities: exact as doubles; a page mixing them with text comes as its values", () => {
  const [doubles] = pagesOf(`SELECT column1 FROM (VALUES (-0.0), (1e999), (-1e999), (2.5))`, 1, 8);
  assertEquals(doubles.kind, "json");
  assertEquals(Object.is(decodePage(doubles, 1)[0][0], -0), true);
  assertEquals([...decodePage(doubles, 1)[0]].slice(1), [Infinity, -Infinity, 2.5]);
  const [mixed] = pagesOf(`SELECT column1 FROM (VALUES (-0.0), (1e999), ('x'))`, 1, 8);
  assertEquals(mixed.kind, "values");
  assertEquals(decodePage(mixed, 1), [[-0, Infinity, "x"]]);
});

Deno.test("a page JSON cannot carry exactly comes as its values; the next page is JSON again", () => {
  const pages = pagesOf(
    `SELECT column1 FROM (VALUES (1), (9007199254740993), (x'00ff'), (4), (5), (6))`,
    1,
    3,
  );
  assertEquals(pages.map((p) => p.kind), ["values", "json"]);
  assertEquals(decodePage(pages[0], 1), [[1, 9007199254740993n, Uint8Array.of(0, 255)]]);
});

Deno.test("a query failing part-way throws SQLite's message after the pages before it", () => {
  const db = new DatabaseSync(":memory:");
  try {
    const pages: SqlitePage[] = [];
    const columns = [{ name: "a", declaredType: null, hint: "any" as const }];
    const text = `SELECT abs(CASE WHEN value = 5 THEN -9223372036854775807 - 1 ELSE value END)
      FROM json_each('[1,2,3,4,5,6]')`;
    const error = assertThrows(
      () => streamPages(db, { columns, values: [], text }, 2, (page) => pages.push(page)),
      SqlError,
    );
    assertEquals(pages.map((p) => p.length), [2, 2]);
    assertEquals(error.message.startsWith("the query failed: integer overflow"), true);
  } finally {
    db.close();
  }
});

Deno.test("credits: the reader takes what the consumer gives; once stopped it throws, not waits", () => {
  const control = newReaderControl(2);
  takeCredit(control);
  takeCredit(control);
  giveCredit(control);
  takeCredit(control);
  stopReader(control);
  // No credit left and stopped: throws at once instead of waiting.
  assertThrows(() => takeCredit(control), SqlError, "the consumer stopped reading");
});
