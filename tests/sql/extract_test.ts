import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { runExtract } from "../../lib/sql/extract.ts";
import { lockOutFolder, OutFolderBusyError } from "../../lib/run/out_lock.ts";
import { SqlError, UsageError } from "../../lib/core/errors.ts";
import { loadManifest } from "../../lib/provenance/manifest.ts";
import { sha256File } from "../../lib/core/stamps.ts";
import { verifyOut } from "../../lib/provenance/verify.ts";
import { listFiles, parquetDtypes, parquetRows } from "../sinks/read_back.ts";
import {
  LINE_ITEMS_BY_YEAR,
  LINE_ITEMS_QUERY,
  LINE_ITEMS_START,
  northwindDb,
  readParts,
  withOut,
} from "./northwind_fixture.ts";

const START = LINE_ITEMS_START;

/** The query's rows straight from SQLite, for comparison. */
function queryRows(path: string, sql: string, ...values: (string | number)[]) {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(sql).all(...values).map((r) => ({ ...r }));
  } finally {
    db.close();
  }
}

const EXPECTED_SQL = LINE_ITEMS_QUERY.replace(":start", "?");

function keyOf(row: Record<string, unknown>): string {
  return `${row.OrderID}/${row.ProductID}`;
}

Deno.test("the line-items query lands partitioned by year with the query's rows and keys", async () => {
  const db = await northwindDb();
  await withOut(async (out) => {
    const result = await runExtract({ db, ...LINE_ITEMS_BY_YEAR, out, chunkRows: 500 });
    const want = queryRows(db, EXPECTED_SQL, START);
    const byYear = await readParts(join(out, "parquet", "line_items"));
    assertEquals(Object.keys(byYear).sort(), ["year=1997", "year=1998"]);
    const all = Object.values(byYear).flat();
    assertEquals(all.length, want.length);
    assertEquals(result.rows, want.length);
    assertEquals(new Set(all.map(keyOf)), new Set(want.map(keyOf)));
    for (const [folder, rows] of Object.entries(byYear)) {
      const year = folder.slice("year=".length);
      assert(
        rows.every((r) => (r.OrderDate as Date).toISOString().startsWith(year)),
        `${folder} holds other years`,
      );
      assertEquals(rows.length, want.filter((r) => String(r.OrderDate).startsWith(year)).length);
    }
  });
});

Deno.test("types survive: integers Int64, REAL and NUMERIC Float64, text dates Datetime", async () => {
  await withOut(async (out) => {
    await runExtract({
      db: await northwindDb(),
      query: LINE_ITEMS_QUERY,
      params: { start: START },
      out,
      asset: "line_items",
    });
    const [file] = await listFiles(join(out, "parquet", "line_items"), ".parquet");
    assertEquals(parquetDtypes(join(out, "parquet", "line_items", file)), {
      OrderID: "Int64",
      CustomerID: "String",
      OrderDate: "Datetime(us,)",
      ShipCountry: "String",
      ProductID: "Int64",
      UnitPrice: "Float64",
      Quantity: "Int64",
      Discount: "Float64",
    });
  });
});

Deno.test("a cast in the query decides the type: unixepoch() Int64, CAST AS TEXT text", async () => {
  await withOut(async (out) => {
    await runExtract({
      db: await northwindDb(),
      query: `SELECT OrderID, unixepoch(OrderDate) AS epoch, CAST(Freight AS TEXT) AS freight
              FROM Orders WHERE OrderID = 10248`,
      out,
    });
    const [file] = await listFiles(join(out, "parquet", "extract"), ".parquet");
    const path = join(out, "parquet", "extract", file);
    assertEquals(parquetDtypes(path), { OrderID: "Int64", epoch: "Int64", freight: "String" });
    assertEquals(parquetRows(path), [{ OrderID: 10248n, epoch: 836438400n, freight: "32.38" }]);
  });
});

Deno.test("each part has one manifest line with query hash, params and part hash", async () => {
  const db = await northwindDb();
  await withOut(async (out) => {
    const result = await runExtract({ db, ...LINE_ITEMS_BY_YEAR, out, chunkRows: 1000 });
    const { entries } = await loadManifest(join(out, "manifest.jsonl"));
    assertEquals(entries.length, result.parts.length);
    for (const { record } of entries) {
      assertEquals(record.kind, "sql");
      assertEquals(record.source, db);
      assertEquals(record.params, { start: START });
      assertEquals(record.query_sha256, result.querySha256);
      const digest = await sha256File(join(out, record.output as string));
      assertEquals(record.part_sha256, digest.sha256);
      assertEquals(record.bytes, digest.bytes);
    }
    assertEquals(entries.reduce((n, e) => n + e.record.rows, 0), result.rows);
    const verified = await verifyOut(out);
    assertEquals(verified.mismatches, []);
    assert(verified.ok);
  });
});

Deno.test("a bound '; DROP TABLE Orders; -- is a value: no rows, the table survives", async () => {
  const db = await northwindDb();
  await withOut(async (out) => {
    const result = await runExtract({
      db,
      query: "SELECT * FROM Orders WHERE CustomerID = :customer",
      params: { customer: "'; DROP TABLE Orders; --" },
      out,
    });
    assertEquals(result.rows, 0);
    assertEquals(queryRows(db, "SELECT count(*) AS n FROM Orders"), [{ n: 830 }]);
  });
});

async function assertNothingWritten(
  out: string,
  run: () => Promise<unknown>,
  cls: typeof SqlError | typeof UsageError,
  text: string,
): Promise<void> {
  const error = await assertRejects(() => run(), cls);
  assertStringIncludes(error.message, text);
  assertEquals(await Array.fromAsync(Deno.readDir(out)), [], `files written for: ${text}`);
}

/** Extracting with `options` from Northwind fails with a {@link SqlError} saying `text`. */
async function assertRefused(
  options: { query: string; partitionBy?: string[] },
  text: string,
): Promise<void> {
  const db = await northwindDb();
  await withOut(async (out) => {
    await assertNothingWritten(out, () => runExtract({ db, ...options, out }), SqlError, text);
  });
}

Deno.test("an unbound placeholder fails with one message and writes nothing", async () => {
  await assertRefused({ query: LINE_ITEMS_QUERY }, ":start has no value");
});

Deno.test("a syntax error fails with SQLite's message and writes nothing", async () => {
  await assertRefused({ query: "SELEC * FROM Orders" }, "syntax error");
});

Deno.test("a missing table fails with its name and writes nothing", async () => {
  await assertRefused({ query: "SELECT * FROM Orderz" }, "no such table: Orderz");
});

Deno.test("a missing database file fails with its path and writes nothing", async () => {
  await withOut(async (out) => {
    await assertNothingWritten(
      out,
      () => runExtract({ db: join(out, "nope.db"), query: "SELECT 1", out }),
      SqlError,
      "nope.db does not exist",
    );
  });
});

Deno.test("an unknown partition column fails before anything is written", async () => {
  await assertRefused(
    { query: "SELECT OrderID FROM Orders", partitionBy: ["year(OrderDate)"] },
    "--partition-by column OrderDate is not a column",
  );
});

Deno.test("a query failing part-way leaves no part behind", async () => {
  const db = await northwindDb();
  await withOut(async (out) => {
    const error = await assertRejects(
      () =>
        runExtract({
          db,
          query: `SELECT OrderID, abs(CASE WHEN OrderID = 10900 THEN -9223372036854775807 - 1
            ELSE OrderID END) AS a FROM Orders ORDER BY OrderID`,
          out,
          chunkRows: 50,
        }),
      SqlError,
    );
    assertStringIncludes(error.message, "integer overflow");
    assertEquals(await listFiles(out, ".parquet"), []);
  });
});

Deno.test("a second full extraction replaces the first by default; an explicit append of it is refused", async () => {
  const db = await northwindDb();
  await withOut(async (out) => {
    const options = { db, query: "SELECT OrderID FROM Orders", out, asset: "ids" };
    const first = await runExtract(options);
    const second = await runExtract(options);
    const files = await listFiles(join(out, "parquet", "ids"), ".parquet");
    assertEquals(files.length, 1);
    assertStringIncludes(files[0], second.runId);
    assert(!files[0].includes(first.runId));
    await assertRejects(() => runExtract({ ...options, mode: "append" }), UsageError, "--replace");
  });
});

Deno.test("CSV and JSONL outputs hold the same rows", async () => {
  const db = await northwindDb();
  await withOut(async (out) => {
    const query = "SELECT OrderID, ShipCountry FROM Orders WHERE OrderID < :n ORDER BY OrderID";
    const csv = await runExtract({ db, query, params: { n: 10253 }, out, format: "csv" });
    const jsonl = await runExtract({ db, query, params: { n: 10253 }, out, format: "jsonl" });
    assertEquals([csv.rows, jsonl.rows], [5, 5]);
    const [csvFile] = await listFiles(join(out, "csv"), ".csv");
    const text = await Deno.readTextFile(join(out, "csv", csvFile));
    assertEquals(text.trim().split(/\r?\n/).length, 6);
    const [jsonFile] = await listFiles(join(out, "jsonl"), ".jsonl");
    const lines = (await Deno.readTextFile(join(out, "jsonl", jsonFile))).trim().split("\n");
    assertEquals(JSON.parse(lines[0]), { OrderID: 10248, ShipCountry: "France" });
  });
});

Deno.test("an extraction into an out folder in use is refused at once and writes nothing", async () => {
  const db = await northwindDb();
  await withOut(async (out) => {
    const holder = await lockOutFolder(out, { command: "harvest", runId: "busy-run" });
    try {
      const before = (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name).sort();
      const error = await assertRejects(
        () => runExtract({ db, query: "SELECT OrderID FROM Orders", out }),
        OutFolderBusyError,
      );
      assertStringIncludes(error.message, "harvest run busy-run");
      assertEquals(error.exitCode, 2);
      const after = (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name).sort();
      assertEquals(after, before);
    } finally {
      holder.release();
    }
    const result = await runExtract({ db, query: "SELECT OrderID FROM Orders", out });
    assert(result.rows > 0, "the lock was given back");
  });
});

Deno.test("positional ? placeholders bind by position, also beside the incremental watermark", async () => {
  const db = await northwindDb();
  await withOut(async (out) => {
    const options = {
      db,
      query: LINE_ITEMS_QUERY.replace(":start", "?"),
      params: { 1: START },
      out,
      asset: "line_items",
      incrementalColumn: "OrderDate",
      keys: ["OrderID", "ProductID"],
    };
    const first = await runExtract(options);
    assertEquals(first.rows, queryRows(db, EXPECTED_SQL, START).length);
    const { entries } = await loadManifest(join(out, "manifest.jsonl"));
    assertEquals(entries[0].record.params, { 1: START });
    // The re-run wraps the query with the named watermark: nothing new, nothing twice.
    const second = await runExtract(options);
    assertEquals(second.rows, 0);
    await assertRejects(
      () => runExtract({ ...options, params: {} }),
      SqlError,
      "? (position 1) has no value",
    );
  });
});
