/**
 * The extractor against a real PostgreSQL server holding the same Northwind data as the SQLite
 * fixture (see mock_api/postgres_server.ts). Skipped, saying why, when PostgreSQL is not installed.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import pg from "pg";
import pl from "nodejs-polars";
import { runExtract } from "../../lib/sql/extract.ts";
import { SqlError } from "../../lib/core/errors.ts";
import { loadManifest } from "../../lib/provenance/manifest.ts";
import { readRejects } from "../../lib/contracts/rejects.ts";
import { listFiles, parquetDtypes, parquetRows } from "../sinks/read_back.ts";
import { LINE_ITEMS_QUERY_QUOTED, northwindDb, readParts, withOut } from "./northwind_fixture.ts";
import { postgresUnavailable, startPostgres } from "../../mock_api/postgres_server.ts";
import { killExtractAfterFirstPart } from "./cli_process.ts";

const unavailable = postgresUnavailable();
if (unavailable) console.log(`postgres_test: skipped: ${unavailable}`);

const START = "1997-01-01";

function sqliteRows(sql: string, ...values: string[]): Record<string, unknown>[] {
  return northwindPath
    ? (() => {
      const db = new DatabaseSync(northwindPath, { readOnly: true });
      try {
        return db.prepare(sql).all(...values).map((r) => ({ ...r }));
      } finally {
        db.close();
      }
    })()
    : [];
}

let northwindPath = "";

Deno.test({
  name: "PostgreSQL: the extractor against a real server",
  ignore: unavailable !== undefined,
  async fn(t) {
    northwindPath = await northwindDb();
    const server = await startPostgres(northwindPath);
    console.log(`postgres_test: running against ${server.label} on 127.0.0.1:${server.port}`);
    const savedPassword = Deno.env.get("PGPASSWORD");
    Deno.env.set("PGPASSWORD", server.password);
    try {
      await t.step(
        "the line-items query lands partitioned by year with the query's rows",
        async () => {
          await withOut(async (out) => {
            const result = await runExtract({
              db: server.url,
              query: LINE_ITEMS_QUERY_QUOTED,
              params: { start: START },
              out,
              asset: "line_items",
              partitionBy: ["year(OrderDate)"],
              chunkRows: 500,
            });
            const want = sqliteRows(LINE_ITEMS_QUERY_QUOTED.replace(":start", "?"), START);
            const byYear = await readParts(join(out, "parquet", "line_items"));
            assertEquals(Object.keys(byYear).sort(), ["year=1997", "year=1998"]);
            const all = Object.values(byYear).flat();
            assertEquals(result.rows, want.length);
            assertEquals(
              new Set(all.map((r) => `${r.OrderID}/${r.ProductID}`)),
              new Set(want.map((r) => `${r.OrderID}/${r.ProductID}`)),
            );
            for (const [folder, rows] of Object.entries(byYear)) {
              const year = folder.slice("year=".length);
              assert(rows.every((r) => String(r.OrderDate).startsWith(year)));
            }
          });
        },
      );

      await t.step("types survive; a cast to date gives a Date column", async () => {
        await withOut(async (out) => {
          await runExtract({
            db: server.url,
            query: `SELECT o."OrderID", o."OrderDate", CAST(o."OrderDate" AS date) AS "Day",
                    d."UnitPrice", d."Quantity", d."Discount"
                    FROM "Orders" o JOIN "Order Details" d ON o."OrderID" = d."OrderID"
                    WHERE o."OrderID" = 10248 ORDER BY d."ProductID"`,
            out,
          });
          const [file] = await listFiles(join(out, "parquet", "extract"), ".parquet");
          const path = join(out, "parquet", "extract", file);
          // numeric without a precision is text, exactly as PostgreSQL prints it (never a double).
          assertEquals(parquetDtypes(path), {
            OrderID: "Int64",
            OrderDate: "String",
            Day: "Date",
            UnitPrice: "String",
            Quantity: "Int64",
            Discount: "Float64",
          });
          const rows = parquetRows(path);
          assertEquals(rows[0].OrderDate, "1996-07-04 00:00:00.000");
          assertEquals(rows[0].UnitPrice, "14");
          assertEquals((rows[0].Day as Date).toISOString().slice(0, 10), "1996-07-04");
        });
      });

      await t.step("int8 values beyond 2^53 stay exact", async () => {
        await withOut(async (out) => {
          await runExtract({
            db: server.url,
            query: "SELECT 9007199254740993::int8 AS big",
            out,
          });
          const [file] = await listFiles(join(out, "parquet", "extract"), ".parquet");
          assertEquals(parquetRows(join(out, "parquet", "extract", file)), [{
            big: 9007199254740993n,
          }]);
        });
      });

      await t.step(
        "types map natively: timestamps, date, numeric(p,s), int8, bool, json",
        async () => {
          await withOut(async (out) => {
            await runExtract({
              db: server.url,
              query: `SELECT TIMESTAMP '1996-07-04 10:20:30.123456' AS ts,
                      TIMESTAMPTZ '1996-07-04 10:20:30+02' AS tstz,
                      DATE '1996-07-04' AS d,
                      12.5::numeric(10,2) AS price,
                      123456789012345678901234567890.123456789::numeric AS big,
                      9007199254740993::int8 AS n,
                      true AS flag,
                      '{"a": [1,2]}'::jsonb AS doc,
                      '{"b":1}'::json AS raw`,
              out,
            });
            const [file] = await listFiles(join(out, "parquet", "extract"), ".parquet");
            const path = join(out, "parquet", "extract", file);
            assertEquals(parquetDtypes(path), {
              ts: "Datetime(us,)",
              tstz: "Datetime(us,UTC)",
              d: "Date",
              price: "Decimal(10,2)",
              big: "String",
              n: "Int64",
              flag: "Bool",
              doc: "String",
              raw: "String",
            });
            const text = pl.readParquet(path).select(
              pl.col("ts").cast(pl.Utf8),
              pl.col("tstz").cast(pl.Int64).cast(pl.Utf8).alias("tstz_us"),
              pl.col("price").cast(pl.Utf8),
              "big",
              "doc",
              "raw",
            ).toRecords();
            assertEquals(text, [{
              ts: "1996-07-04 10:20:30.123456",
              tstz_us: String(Date.UTC(1996, 6, 4, 8, 20, 30) * 1000),
              price: "12.50",
              big: "123456789012345678901234567890.123456789",
              doc: '{"a": [1, 2]}',
              raw: '{"b":1}',
            }]);
            const [row] = parquetRows(path);
            assertEquals([row.n, row.flag], [9007199254740993n, true]);
          });
        },
      );

      await t.step(
        "a value a type cannot hold (infinity) is a reject with column and reason",
        async () => {
          await withOut(async (out) => {
            const result = await runExtract({
              db: server.url,
              query: `SELECT g AS id, CASE WHEN g = 3 THEN 'infinity'::timestamp
                      ELSE TIMESTAMP '2000-01-01' + g * interval '1 day' END AS at
                    FROM generate_series(1, 200) g ORDER BY g`,
              out,
            });
            assertEquals([result.rows, result.rejected], [199, 1]);
            const [line] = await readRejects(join(out, result.rejectsPath!));
            assertEquals(line.row, { id: 3, at: "infinity" });
            assertEquals(line.index, 2);
            assertEquals(line.issues[0].path, "at");
            assertStringIncludes(line.issues[0].message, '"infinity" does not match');
          });
        },
      );

      await t.step("a text column declared timestamp (columns:) is written as one", async () => {
        await withOut(async (out) => {
          await runExtract({
            db: server.url,
            query: `SELECT "OrderID", "OrderDate" FROM "Orders" WHERE "OrderID" = 10248`,
            columns: { OrderDate: { type: "timestamp", rename: "ordered_at" } },
            out,
          });
          const [file] = await listFiles(join(out, "parquet", "extract"), ".parquet");
          const path = join(out, "parquet", "extract", file);
          assertEquals(parquetDtypes(path), { OrderID: "Int64", ordered_at: "Datetime(us,)" });
          assertEquals(
            pl.readParquet(path).select(pl.col("ordered_at").cast(pl.Utf8)).toRecords(),
            [{ ordered_at: "1996-07-04 00:00:00.000000" }],
          );
        });
      });

      await t.step("positional $1 placeholders bind by position", async () => {
        await withOut(async (out) => {
          const result = await runExtract({
            db: server.url,
            query: LINE_ITEMS_QUERY_QUOTED.replace(":start", "$1"),
            params: { 1: START },
            out,
            asset: "line_items",
          });
          assertEquals(
            result.rows,
            sqliteRows(LINE_ITEMS_QUERY_QUOTED.replace(":start", "?"), START).length,
          );
        });
      });

      await t.step('a bound \'; DROP TABLE "Orders"; -- is a value', async () => {
        await withOut(async (out) => {
          const result = await runExtract({
            db: server.url,
            query: `SELECT * FROM "Orders" WHERE "CustomerID" = $customer`,
            params: { customer: `'; DROP TABLE "Orders"; --` },
            out,
          });
          assertEquals(result.rows, 0);
          const client = new pg.Client({ connectionString: server.url });
          await client.connect();
          const { rows } = await client.query(`SELECT count(*)::int AS n FROM "Orders"`);
          await client.end();
          assertEquals(rows[0].n, 830);
        });
      });

      const nothingWritten = async (
        run: () => Promise<unknown>,
        text: string,
      ): Promise<void> => {
        await withOut(async (out) => {
          const error = await assertRejects(run, SqlError);
          assertStringIncludes(error.message, text);
          assertEquals(await Array.fromAsync(Deno.readDir(out)), []);
        });
      };

      await t.step("an unbound placeholder fails and writes nothing", async () => {
        await nothingWritten(
          () => runExtract({ db: server.url, query: LINE_ITEMS_QUERY_QUOTED, out: "x" }),
          ":start has no value",
        );
      });

      await t.step(
        "a syntax error fails with the server's message and writes nothing",
        async () => {
          await withOut(async (out) => {
            const error = await assertRejects(
              () => runExtract({ db: server.url, query: 'SELEC * FROM "Orders"', out }),
              SqlError,
            );
            assertStringIncludes(error.message, 'syntax error at or near "SELEC"');
            assertEquals(await Array.fromAsync(Deno.readDir(out)), []);
          });
        },
      );

      await t.step("a missing table fails with its name and writes nothing", async () => {
        await withOut(async (out) => {
          const error = await assertRejects(
            () => runExtract({ db: server.url, query: 'SELECT * FROM "Orderz"', out }),
            SqlError,
          );
          assertStringIncludes(error.message, 'relation "Orderz" does not exist');
          assertEquals(await Array.fromAsync(Deno.readDir(out)), []);
        });
      });

      await t.step("an unreachable server fails with its address, never the password", async () => {
        await withOut(async (out) => {
          const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
          const port = (listener.addr as Deno.NetAddr).port;
          listener.close();
          const error = await assertRejects(
            () =>
              runExtract({
                db: `postgres://postgres:hunter2-secret@127.0.0.1:${port}/northwind`,
                query: "SELECT 1",
                out,
              }),
            SqlError,
          );
          assertStringIncludes(error.message, `127.0.0.1:${port}`);
          assertStringIncludes(error.message, "connection refused");
          assert(!error.message.includes("hunter2-secret"), error.message);
          assertEquals(await Array.fromAsync(Deno.readDir(out)), []);
        });
      });

      await t.step("a wrong password is refused without showing it", async () => {
        Deno.env.set("PGPASSWORD", "wrong-password-1234");
        try {
          await withOut(async (out) => {
            const error = await assertRejects(
              () => runExtract({ db: server.url, query: "SELECT 1", out }),
              SqlError,
            );
            assertStringIncludes(error.message, "password authentication failed");
            assert(!error.message.includes("wrong-password-1234"));
          });
        } finally {
          Deno.env.set("PGPASSWORD", server.password);
        }
      });

      await t.step("the manifest names the server without credentials", async () => {
        await withOut(async (out) => {
          const url = server.url.replace("postgres@", `postgres:${server.password}@`);
          await runExtract({ db: url, query: `SELECT "OrderID" FROM "Orders"`, out });
          const text = await Deno.readTextFile(join(out, "manifest.jsonl"));
          assert(!text.includes(server.password), "the password reached the manifest");
          const { entries } = await loadManifest(join(out, "manifest.jsonl"));
          const source = entries[0].record.source;
          assertStringIncludes(source, `@127.0.0.1:${server.port}/northwind`);
          assert(!source.includes(server.password), source);
        });
      });

      await t.step("a query failing part-way leaves no part behind", async () => {
        await withOut(async (out) => {
          const error = await assertRejects(
            () =>
              runExtract({
                db: server.url,
                query: "SELECT g, 1 / (5000 - g) AS x FROM generate_series(1, 20000) g",
                out,
                chunkRows: 1000,
              }),
            SqlError,
          );
          assertStringIncludes(error.message, "division by zero");
          assertEquals(await listFiles(out, ".parquet"), []);
        });
      });

      await t.step(
        "a kill mid-extract leaves only complete parts; the next run cleans up",
        async () => {
          await withOut(async (out) => {
            const query = "SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 300000) g";
            const status = await killExtractAfterFirstPart(out, [
              "--db",
              server.url,
              "--out",
              out,
              "--asset",
              "series",
              "--query",
              query,
              "--chunk-rows",
              "2000",
            ], { PGPASSWORD: server.password });
            assertEquals(status.signal, "SIGKILL", "the extract ended before it could be killed");
            const dir = join(out, "parquet", "series");
            // A full extraction replaces: nothing visible before it commits; staged parts whole.
            assert(!(await Deno.stat(dir).catch(() => null)), "nothing visible before the commit");
            const staged = await listFiles(join(out, "parquet"), ".parquet");
            assert(staged.length > 0);
            for (const file of staged) parquetRows(join(out, "parquet", file));
            const result = await runExtract({ db: server.url, query, out, asset: "series" });
            const files = await listFiles(dir, "");
            assert(files.every((f) => f.includes(result.runId)), `leftovers: ${files.join(", ")}`);
            assertEquals(result.rows, 300000);
          });
        },
      );

      await t.step("an incremental re-run adds only the rows that are new", async () => {
        await withOut(async (out) => {
          const options = {
            db: server.url,
            query: LINE_ITEMS_QUERY_QUOTED,
            params: { start: START },
            out,
            asset: "line_items",
            incrementalColumn: "OrderDate",
            keys: ["OrderID", "ProductID"],
          };
          const first = await runExtract(options);
          const client = new pg.Client({ connectionString: server.url });
          await client.connect();
          try {
            await client.query(
              `INSERT INTO "Orders" ("OrderID", "OrderDate") VALUES (99001, $1), (99002, $2)`,
              [first.watermark!.after, "1998-06-01 00:00:00.000"],
            );
            await client.query(
              `INSERT INTO "Order Details" ("OrderID", "ProductID", "UnitPrice", "Quantity",
               "Discount") VALUES (99001, 1, 10, 1, 0), (99002, 1, 10, 1, 0)`,
            );
            const second = await runExtract(options);
            assertEquals(second.rows, 2);
            const third = await runExtract(options);
            assertEquals(third.rows, 0);
          } finally {
            await client.query(`DELETE FROM "Order Details" WHERE "OrderID" > 99000`);
            await client.query(`DELETE FROM "Orders" WHERE "OrderID" > 99000`);
            await client.end();
          }
        });
      });
    } finally {
      if (savedPassword === undefined) Deno.env.delete("PGPASSWORD");
      else Deno.env.set("PGPASSWORD", savedPassword);
      await server.stop();
    }
  },
});
