import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  openSqliteSource,
  type SqliteSourceOptions,
  sqliteTypeHint,
} from "../../lib/sql/sqlite_source.ts";
import { bindQuery, type ParamValue } from "../../lib/sql/params.ts";
import type { BuiltChunk } from "../../lib/sql/chunker.ts";
import type { SqlSource } from "../../lib/sql/source.ts";
import { vectorCells } from "../../lib/sinks/vectors.ts";
import { SqlError } from "../../lib/core/errors.ts";
import { LINE_ITEMS_QUERY, northwindDb } from "./northwind_fixture.ts";
import { prestartReaderThread } from "../../lib/sql/sqlite_start.ts";

async function readAll(
  source: SqlSource,
  sql: string,
  params: Record<string, ParamValue> = {},
  chunkRows = 1000,
): Promise<{ chunks: BuiltChunk[]; rows: Record<string, unknown[]> }> {
  const stream = await source.query(bindQuery(sql, params), { chunkRows });
  const chunks: BuiltChunk[] = [];
  const rows: Record<string, unknown[]> = {};
  for await (const chunk of stream.chunks) {
    chunks.push(chunk);
    if (chunk.batch.length === 0) continue;
    for (const column of chunk.batch.columns) {
      (rows[column.name] ??= []).push(...vectorCells(column, chunk.batch.length));
    }
  }
  return { chunks, rows };
}

/** Microseconds since the epoch of a SQLite text timestamp (UTC wall clock). */
function micros(text: string): number {
  return Date.parse(`${text.replace(" ", "T")}Z`) * 1000;
}

function expected(path: string, sql: string, ...values: ParamValue[]): Record<string, unknown>[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(sql).all(...values as (string | number | null)[]).map((r) => ({ ...r }));
  } finally {
    db.close();
  }
}

const MODES: [string, SqliteSourceOptions][] = [
  ["worker", {}],
  ["worker, plain text, small pages", { encodeText: false, pageRows: 7 }],
  ["inline", { worker: false }],
];

for (const [mode, options] of MODES) {
  Deno.test(`${mode}: the line-items query streams every row in query order, in chunks`, async () => {
    const path = await northwindDb();
    const source = await openSqliteSource(path, options);
    try {
      const { chunks, rows } = await readAll(
        source,
        LINE_ITEMS_QUERY,
        { start: "1997-01-01" },
        500,
      );
      const want = expected(path, LINE_ITEMS_QUERY.replace(":start", "?"), "1997-01-01");
      assert(want.length > 1500, `expected many rows, got ${want.length}`);
      assertEquals(rows.OrderID.length, want.length);
      assertEquals(
        chunks.map((c) => c.batch.length).slice(0, -1),
        new Array(chunks.length - 1).fill(500),
      );
      assertEquals(rows.OrderID, want.map((r) => r.OrderID));
      assertEquals(rows.ProductID, want.map((r) => r.ProductID));
      assertEquals(rows.OrderDate, want.map((r) => micros(r.OrderDate as string)));
    } finally {
      await source.close();
    }
  });

  Deno.test(`${mode}: declared types decide column types; text dates become timestamps`, async () => {
    const source = await openSqliteSource(await northwindDb(), options);
    try {
      const { chunks } = await readAll(source, LINE_ITEMS_QUERY, { start: "1996-01-01" });
      const types = Object.fromEntries(chunks[0].batch.columns.map((c) => [c.name, c.type]));
      assertEquals(types, {
        OrderID: "int64",
        CustomerID: "string",
        OrderDate: "timestamp",
        ShipCountry: "string",
        ProductID: "int64",
        UnitPrice: "float64",
        Quantity: "int64",
        Discount: "float64",
      });
    } finally {
      await source.close();
    }
  });

  Deno.test(`${mode}: a runtime error part-way fails loudly with SQLite's message`, async () => {
    const source = await openSqliteSource(await northwindDb(), options);
    try {
      // abs() of the smallest int64 overflows on exactly one row, in the middle of the result
      // (52 rows before it). Inline, the whole result is computed before the first chunk, so
      // no chunk comes at all. The reader thread hands pages over while the query runs: rows
      // before that one may come as chunks, but the stream ends with SQLite's error, never as
      // if it were complete (the extractor then removes their parts: extract_test.ts).
      const sql = `SELECT OrderID, abs(CASE WHEN OrderID = 10300 THEN -9223372036854775807 - 1
        ELSE OrderID END) AS a FROM Orders ORDER BY OrderID`;
      const stream = await source.query(bindQuery(sql, {}), { chunkRows: 10 });
      let chunks = 0;
      const error = await assertRejects(async () => {
        for await (const _ of stream.chunks) chunks++;
      }, SqlError);
      if (options.worker === false) assertEquals(chunks, 0);
      else assert(chunks <= 5, `${chunks} chunks of 10 rows came before the failing 53rd row`);
      assertStringIncludes(error.message, "the query failed: integer overflow");
    } finally {
      await source.close();
    }
  });
}

Deno.test("a bound injection attempt is compared as a value and the table survives", async () => {
  const path = await northwindDb();
  const source = await openSqliteSource(path);
  try {
    const { rows } = await readAll(source, "SELECT OrderID FROM Orders WHERE CustomerID = :c", {
      c: "'; DROP TABLE Orders; --",
    });
    assertEquals(rows, {});
    assertEquals(expected(path, "SELECT count(*) AS n FROM Orders"), [{ n: 830 }]);
  } finally {
    await source.close();
  }
});

Deno.test("integers beyond 2^53 come through exactly", async () => {
  const source = await openSqliteSource(await northwindDb());
  try {
    const { rows } = await readAll(source, "SELECT 9007199254740993 AS big, 1 AS small");
    assertEquals(rows, { big: [9007199254740993n], small: [1] });
  } finally {
    await source.close();
  }
});

Deno.test("the edges of exactness: ±(2^53 - 1) as numbers, 2^53 and int64's least as big integers, -0 and infinities kept", async () => {
  const sql = `SELECT column1 AS i, column2 AS f FROM (VALUES
    (9007199254740991, 1.5), (-9007199254740991, -0.0), (9007199254740992, 1e999),
    (-9223372036854775807 - 1, -1e999))`;
  for (const worker of [true, false]) {
    const source = await openSqliteSource(await northwindDb(), { worker });
    try {
      const { rows } = await readAll(source, sql);
      assertEquals(rows, {
        i: [9007199254740991, -9007199254740991, 9007199254740992n, -9223372036854775808n],
        f: [1.5, -0, Infinity, -Infinity],
      }, worker ? "reader thread" : "inline");
    } finally {
      await source.close();
    }
  }
});

Deno.test("a missing database file is refused before anything runs", async () => {
  const error = await assertRejects(() => openSqliteSource("/nonexistent/nw.db"), SqlError);
  assertStringIncludes(error.message, "/nonexistent/nw.db does not exist");
});

Deno.test("a file that is not SQLite is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "x.db");
    await Deno.writeTextFile(path, "not a database ".repeat(100));
    await assertRejects(() => openSqliteSource(path), SqlError, "cannot read");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a syntax error and a missing table are refused when the query starts", async () => {
  const source = await openSqliteSource(await northwindDb());
  try {
    const syntax = await assertRejects(
      () => source.query(bindQuery("SELEC OrderID FROM Orders", {})),
      SqlError,
    );
    assertStringIncludes(syntax.message, 'near "SELEC": syntax error');
    await assertRejects(
      () => source.query(bindQuery("SELECT * FROM Orderz", {})),
      SqlError,
      "no such table: Orderz",
    );
  } finally {
    await source.close();
  }
});

Deno.test("duplicate result column names are refused with the alias to add", async () => {
  const source = await openSqliteSource(await northwindDb());
  try {
    await assertRejects(
      () =>
        source.query(bindQuery(
          'SELECT o.OrderID, d.OrderID FROM Orders o JOIN "Order Details" d USING (OrderID)',
          {},
        )),
      SqlError,
      'two columns named "OrderID"',
    );
  } finally {
    await source.close();
  }
});

Deno.test("breaking out of the chunks stops the reader", async () => {
  const source = await openSqliteSource(await northwindDb());
  try {
    const stream = await source.query(bindQuery("SELECT * FROM Orders", {}), { chunkRows: 10 });
    let seen = 0;
    for await (const chunk of stream.chunks) {
      seen += chunk.batch.length;
      break;
    }
    assertEquals(seen, 10);
  } finally {
    await source.close();
  }
});

Deno.test("SQLite declared types map to column types by affinity", () => {
  assertEquals(
    ["INTEGER", "BIGINT", "NVARCHAR(40)", "TEXT", "REAL", "DOUBLE", "NUMERIC", "DECIMAL(10,2)"]
      .map(sqliteTypeHint),
    ["int64", "int64", "string", "string", "float64", "float64", "numeric", "numeric"],
  );
  assertEquals([null, "DATETIME", "DATE", "BLOB", "BOOLEAN"].map(sqliteTypeHint), [
    "any",
    "any",
    "any",
    "any",
    "boolean",
  ]);
});

Deno.test("a reader thread booted before the query is known reads that query's rows", async () => {
  const path = await northwindDb();
  // As lib/cli/extract_main.ts does: the thread boots first, the source takes it.
  prestartReaderThread();
  const source = await openSqliteSource(path);
  try {
    const { rows } = await readAll(source, "SELECT OrderID, ShipCountry FROM Orders ORDER BY 1");
    const want = expected(path, "SELECT OrderID, ShipCountry FROM Orders ORDER BY 1");
    assertEquals(rows.OrderID, want.map((r) => r.OrderID));
    assertEquals(rows.ShipCountry, want.map((r) => r.ShipCountry));
  } finally {
    await source.close();
  }
});
