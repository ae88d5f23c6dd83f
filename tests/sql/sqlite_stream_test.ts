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

Deno.test("a column of numbers only comes as doubles, text as JSON bytes", () => {
  const [page] = pagesOf(SEVEN, 2, 10);
  assertEquals(page.kind, "json");
  if (page.kind !== "json") return;
  assertEquals(page.columns[0], Float64Array.of(1, 2, 3, 4, 5, 6, 7));
  assertEquals(page.columns[1] instanceof Uint8Array, true);
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
