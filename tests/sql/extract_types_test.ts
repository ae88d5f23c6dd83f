/**
 * Typed SQL data in Parquet: SQLite's text dates as DATE/TIMESTAMP (inferred or declared with a
 * format), `columns:` declarations (type, nullable, rename), `select:`, and the rejects file
 * for rows that do not fit — read back with polars (and with DuckDB when its Python module is
 * installed).
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import pl from "nodejs-polars";
import { runExtract } from "../../lib/sql/extract.ts";
import { ConfigError, ContractError, SqlError } from "../../lib/core/errors.ts";
import { readRejects } from "../../lib/contracts/rejects.ts";
import { listFiles, parquetDtypes } from "../sinks/read_back.ts";
import { LINE_ITEMS_BY_YEAR, northwindDb, withOut } from "./northwind_fixture.ts";

/** A SQLite file with one table of untyped text, as legacy databases hold dates and amounts. */
function legacyDb(dir: string, rows: unknown[][]): string {
  const path = join(dir, "legacy.db");
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE t (id INTEGER, day TEXT, at TEXT, amount TEXT, flag TEXT, note TEXT)");
  const insert = db.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)");
  for (const row of rows) insert.run(...row as (string | number | null)[]);
  db.close();
  return path;
}

const GOOD_ROWS = Array.from({ length: 300 }, (_, i) => [
  i + 1,
  `0${1 + (i % 9)}/07/1996`,
  `1996-07-0${1 + (i % 9)} 10:00:0${i % 10}.250`,
  `${i}.5`,
  i % 2 === 0 ? "t" : "f",
  `n${i}`,
]);

async function onlyPart(dir: string): Promise<string> {
  const files = await listFiles(dir, ".parquet");
  assertEquals(files.length, 1);
  return join(dir, files[0]);
}

Deno.test("Northwind's text OrderDate lands as TIMESTAMP equal to the source's text", async () => {
  const db = await northwindDb();
  await withOut(async (out) => {
    await runExtract({ db, ...LINE_ITEMS_BY_YEAR, out });
    const dir = join(out, "parquet", "line_items");
    const files = await listFiles(dir, ".parquet");
    for (const file of files) {
      assertEquals(parquetDtypes(join(dir, file)).OrderDate, "Datetime(us,)");
    }
    const source = new DatabaseSync(db, { readOnly: true });
    const want = new Map(
      source.prepare(
        `SELECT o.OrderID || '/' || d.ProductID AS k, o.OrderDate AS d FROM Orders o
         JOIN "Order Details" d ON o.OrderID = d.OrderID WHERE o.OrderDate >= '1997-01-01'`,
      ).all().map((r) => [r.k as string, r.d as string]),
    );
    source.close();
    // polars prints microseconds; the source holds milliseconds ("1997-01-01 00:00:00.000").
    let seen = 0;
    for (const file of files) {
      const frame = pl.readParquet(join(dir, file)).select(
        pl.concatString([pl.col("OrderID"), pl.col("ProductID")], "/").alias("k"),
        pl.col("OrderDate").cast(pl.Utf8).alias("d"),
      );
      for (const { k, d } of frame.toRecords() as { k: string; d: string }[]) {
        assertEquals(d.slice(0, 23), want.get(k), k);
        seen++;
      }
    }
    assertEquals(seen, want.size);
    await checkWithDuckDb(dir, want);
  });
});

/**
 * DuckDB's view of the parts, when python3 has the duckdb module: OrderDate must be a
 * TIMESTAMP whose text is the source's.
 */
async function checkWithDuckDb(dir: string, want: Map<string, string>): Promise<void> {
  const script = `
import duckdb, json, sys
rows = duckdb.sql("""
  SELECT OrderID || '/' || ProductID AS k, typeof(OrderDate) AS t,
         strftime(OrderDate, '%Y-%m-%d %H:%M:%S.%g') AS d
  FROM read_parquet('${dir}/**/*.parquet')""").fetchall()
json.dump(rows, sys.stdout)`;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("python3", { args: ["-c", script], stderr: "piped" }).output();
  } catch {
    console.log("extract_types_test: python3 not found: DuckDB check skipped (polars checked)");
    return;
  }
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success && stderr.includes("No module named 'duckdb'")) {
    console.log("extract_types_test: DuckDB not installed: its check skipped (polars checked)");
    return;
  }
  assert(output.success, stderr);
  const rows = JSON.parse(new TextDecoder().decode(output.stdout)) as [string, string, string][];
  assertEquals(rows.length, want.size);
  for (const [k, type, text] of rows) {
    assertEquals(type, "TIMESTAMP");
    assertEquals(text, want.get(k), k);
  }
}

Deno.test("columns: formats, decimals, booleans and rename land with their Parquet types", async () => {
  await withOut(async (out) => {
    const db = legacyDb(out, GOOD_ROWS);
    const result = await runExtract({
      db,
      query: "SELECT * FROM t ORDER BY id",
      out,
      asset: "legacy",
      columns: {
        day: { type: "date", format: "%d/%m/%Y" },
        amount: "decimal(10,2)",
        flag: { type: "bool", rename: "active" },
        note: "string",
      },
    });
    assertEquals(result.rows, 300);
    assertEquals(result.schema, {
      id: "int64",
      day: "date",
      at: "timestamp",
      amount: "decimal(10,2)",
      active: "boolean",
      note: "string",
    });
    const path = await onlyPart(join(out, "parquet", "legacy"));
    const frame = pl.readParquet(path);
    assertEquals(frame.columns, ["id", "day", "at", "amount", "active", "note"]);
    assertEquals(parquetDtypes(path), {
      id: "Int64",
      day: "Date",
      at: "Datetime(us,)",
      amount: "Decimal(10,2)",
      active: "Bool",
      note: "String",
    });
    assertEquals(
      frame.head(2).select(
        pl.col("day").cast(pl.Utf8),
        pl.col("at").cast(pl.Utf8),
        pl.col("amount").cast(pl.Utf8),
        "active",
      ).toRecords(),
      [
        { day: "1996-07-01", at: "1996-07-01 10:00:00.250000", amount: "0.50", active: true },
        { day: "1996-07-02", at: "1996-07-02 10:00:01.250000", amount: "1.50", active: false },
      ],
    );
  });
});

Deno.test("select keeps only the listed columns, in its order, renamed as declared", async () => {
  await withOut(async (out) => {
    const db = legacyDb(out, GOOD_ROWS);
    await runExtract({
      db,
      query: "SELECT * FROM t",
      out,
      asset: "legacy",
      select: ["note", "id", "at"],
      columns: { at: { type: "timestamp", rename: "seen_at" }, note: { type: "string" } },
      partitionBy: ["year(seen_at)"],
    });
    const dir = join(out, "parquet", "legacy");
    assertEquals(await listFiles(dir, ".parquet").then((f) => f.map((x) => x.split("/")[0])), [
      "year=1996",
    ]);
    const path = await onlyPart(dir);
    assertEquals(pl.readParquet(path).columns, ["note", "id", "seen_at"]);
    assertEquals(parquetDtypes(path), { note: "String", id: "Int64", seen_at: "Datetime(us,)" });
  });
});

Deno.test("type: string keeps ISO-looking text as text", async () => {
  await withOut(async (out) => {
    const db = legacyDb(out, GOOD_ROWS);
    await runExtract({
      db,
      query: "SELECT id, at FROM t",
      out,
      asset: "legacy",
      columns: { at: "string" },
    });
    const path = await onlyPart(join(out, "parquet", "legacy"));
    assertEquals(parquetDtypes(path), { id: "Int64", at: "String" });
  });
});

Deno.test("rows that do not fit their types go to rejects with the column and the reason", async () => {
  await withOut(async (out) => {
    const rows = [
      ...GOOD_ROWS,
      [301, "31/02/1996", "1996-07-01 10:00:00", "1.5", "t", "x"],
      [302, "01/07/1996", "N/A", "12.345", "maybe", "x"],
      [303, "01/07/1996", "1996-07-01 10:00:00", "7", "t", null],
    ];
    const db = legacyDb(out, rows);
    const result = await runExtract({
      db,
      query: "SELECT * FROM t ORDER BY id",
      out,
      asset: "legacy",
      columns: {
        day: { type: "date", format: "%d/%m/%Y" },
        amount: "decimal(10,2)",
        flag: "bool",
        note: { type: "string", nullable: false },
      },
      maxRejectRatio: 0.05,
      // The bad rows come after the first chunk, whose text "at" reads as timestamps.
      chunkRows: 100,
    });
    assertEquals([result.rows, result.rejected], [300, 3]);
    assertEquals(result.rejectsPath, `rejects/legacy/${result.runId}.jsonl`);
    const lines = await readRejects(join(out, result.rejectsPath!));
    assertEquals(lines.map((l) => [l.index, l.issues.map((i) => i.path)]), [
      [300, ["day"]],
      [301, ["at", "amount", "flag"]],
      [302, ["note"]],
    ]);
    assertEquals(lines[1].row, {
      id: 302,
      day: "01/07/1996",
      at: "N/A",
      amount: "12.345",
      flag: "maybe",
      note: "x",
    });
    assertEquals(lines[1].reason, "column_type");
    assertEquals(lines[1].provenance, { snapshot: null, page: 4, sha256: null });
    assertStringIncludes(lines[0].issues[0].message, "does not match format %d/%m/%Y");
    assertStringIncludes(lines[1].issues[0].message, '"N/A" does not match');
    assertStringIncludes(lines[1].issues[1].message, "without rounding");
    assertStringIncludes(lines[2].issues[0].message, "nullable: false");
    assertEquals(result.report.totals.rejects, 3);
  });
});

Deno.test("more rejects than max_reject_ratio fail the run: no part, the rejects file kept", async () => {
  await withOut(async (out) => {
    const rows = GOOD_ROWS.map((r, i) => i % 10 === 0 ? [r[0], "soon", ...r.slice(2)] : r);
    const db = legacyDb(out, rows);
    const error = await assertRejects(
      () =>
        runExtract({
          db,
          query: "SELECT * FROM t",
          out,
          asset: "legacy",
          columns: { day: { type: "date", format: "%d/%m/%Y" } },
        }),
      ContractError,
    );
    assertStringIncludes(error.message, 'asset "legacy" rejected 30 of 300 rows');
    assertEquals(await listFiles(join(out, "parquet"), ".parquet").catch(() => []), []);
    assertEquals((await listFiles(join(out, "rejects"), ".jsonl")).length, 1);
  });
});

Deno.test("bad declarations and unknown columns fail before anything is written", async () => {
  await withOut(async (out) => {
    const db = legacyDb(out, GOOD_ROWS);
    const before = (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name);
    const bad = await assertRejects(
      () => runExtract({ db, query: "SELECT * FROM t", out, columns: { at: "money" } }),
      ConfigError,
    );
    assertStringIncludes(bad.message, "columns.at.type");
    await assertRejects(
      () => runExtract({ db, query: "SELECT * FROM t", out, columns: { when: "date" } }),
      SqlError,
      "columns: when is not a column of the query",
    );
    await assertRejects(
      () => runExtract({ db, query: "SELECT * FROM t", out, select: ["id", "nope"] }),
      SqlError,
      "select: nope",
    );
    await assertRejects(
      () =>
        runExtract({
          db,
          query: "SELECT * FROM t",
          out,
          columns: { at: { type: "timestamp", rename: "when" } },
          partitionBy: ["year(at)"],
        }),
      SqlError,
      "--partition-by column at is not a column",
    );
    assertEquals((await Array.fromAsync(Deno.readDir(out))).map((e) => e.name), before);
  });
});

Deno.test("CSV and JSONL write timestamps as ISO text and decimals exactly", async () => {
  await withOut(async (out) => {
    const db = legacyDb(out, GOOD_ROWS.slice(0, 2));
    for (const format of ["csv", "jsonl"] as const) {
      await runExtract({
        db,
        query: "SELECT id, at, amount FROM t ORDER BY id",
        out,
        asset: `legacy_${format}`,
        format,
        columns: { amount: "decimal(6,2)" },
      });
    }
    const [csv] = await listFiles(join(out, "csv", "legacy_csv"), ".csv");
    assertEquals(
      (await Deno.readTextFile(join(out, "csv", "legacy_csv", csv))).split("\r\n").slice(0, 3),
      ["id,at,amount", "1,1996-07-01T10:00:00.250,0.50", "2,1996-07-02T10:00:01.250,1.50"],
    );
    const [jsonl] = await listFiles(join(out, "jsonl", "legacy_jsonl"), ".jsonl");
    const first = (await Deno.readTextFile(join(out, "jsonl", "legacy_jsonl", jsonl))).split(
      "\n",
    )[0];
    assertEquals(JSON.parse(first), { id: 1, at: "1996-07-01T10:00:00.250", amount: "0.50" });
  });
});
