import { assert, assertEquals, assertNotEquals, assertRejects } from "../assert.ts";
import { openSink } from "../../lib/sinks/mod.ts";
import { ConfigError, ContractError, TidemarkError } from "../../lib/core/errors.ts";
import { listFiles, parquetDtypes, parquetRows } from "./read_back.ts";
import { readParquetFooter } from "./parquet_footer.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark_parquet_");

Deno.test("parquet rows read back equal the input rows, with their types", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "parquet", runId: "r1" });
    const rows = [
      {
        OrderID: 10248,
        Freight: 32.38,
        ShipName: "Vins et alcools Chevalier",
        Shipped: true,
        OrderDate: new Date("1996-07-04T00:00:00.000Z"),
        Tags: { a: [1, 2] },
      },
      {
        OrderID: 10249,
        Freight: 11.61,
        ShipName: "Toms Spezialitäten",
        Shipped: false,
        OrderDate: new Date("1996-07-05T10:20:30.400Z"),
        Tags: null,
      },
    ];
    const [part] = await sink.writeRows(rows);
    await sink.close();
    assertEquals(part.relativePath, "part-r1-00001.parquet");
    assertEquals(parquetDtypes(part.path), {
      OrderID: "Int64",
      Freight: "Float64",
      ShipName: "String",
      Shipped: "Bool",
      OrderDate: "Datetime(ms,UTC)",
      Tags: "String",
    });
    assertEquals(parquetRows(part.path), [
      { ...rows[0], OrderID: 10248n, Tags: '{"a":[1,2]}' },
      { ...rows[1], OrderID: 10249n },
    ]);
  });
});

Deno.test("writeColumns writes the same part as writeRows for the same data", async () => {
  await withDir(async (dir) => {
    const a = await openSink(`${dir}/a`, { format: "parquet", runId: "r" });
    const b = await openSink(`${dir}/b`, { format: "parquet", runId: "r" });
    const [fromRows] = await a.writeRows([{ id: 1, name: "x" }, { id: 2, name: null }]);
    const [fromColumns] = await b.writeColumns({ id: [1, 2], name: ["x", null] }, 2);
    await a.close();
    await b.close();
    assertEquals(parquetRows(fromColumns.path), parquetRows(fromRows.path));
    assertEquals(fromColumns.sha256, fromRows.sha256);
  });
});

Deno.test("a column null in a later batch keeps the type it was fixed with", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "parquet", runId: "r1" });
    const [first] = await sink.writeRows([{ id: 1, score: 4 }]);
    const [second] = await sink.writeRows([{ id: 2, score: null }]);
    const [third] = await sink.writeRows([{ id: 3 }]);
    await sink.close();
    for (const part of [first, second, third]) {
      assertEquals(parquetDtypes(part.path), { id: "Int64", score: "Int64" });
    }
    assertEquals(parquetRows(third.path), [{ id: 3n, score: null }]);
  });
});

Deno.test("a declared type wins over inference, even for a null-first column", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, {
      format: "parquet",
      runId: "r1",
      columns: { Freight: "float64", ShippedDate: "date" },
    });
    const [first] = await sink.writeRows([{ Freight: 32, ShippedDate: null }]);
    const [second] = await sink.writeRows([{
      Freight: 1.5,
      ShippedDate: "1996-07-16 00:00:00.000",
    }]);
    await sink.close();
    assertEquals(parquetDtypes(first.path), { Freight: "Float64", ShippedDate: "Date" });
    assertEquals(parquetDtypes(second.path), { Freight: "Float64", ShippedDate: "Date" });
    assertEquals(parquetRows(second.path), [
      { Freight: 1.5, ShippedDate: new Date("1996-07-16T00:00:00Z") },
    ]);
    assertEquals(sink.schema, { Freight: "float64", ShippedDate: "date" });
  });
});

Deno.test("int64 ids above 2^53 stay exact as bigints and as declared digit strings", async () => {
  await withDir(async (dir) => {
    const big = 2n ** 62n + 7n;
    const sink = await openSink(dir, {
      format: "parquet",
      runId: "r1",
      columns: { ref: "int64" },
    });
    const [part] = await sink.writeRows([
      { id: big, ref: "9007199254740993" },
      { id: null, ref: null },
      { id: 5n, ref: "-9223372036854775808" },
    ]);
    await sink.close();
    assertEquals(parquetDtypes(part.path), { id: "Int64", ref: "Int64" });
    assertEquals(parquetRows(part.path), [
      { id: big, ref: 9007199254740993n },
      { id: null, ref: null },
      { id: 5n, ref: -(2n ** 63n) },
    ]);
  });
});

Deno.test("a value that cannot be cast names the column and value and writes nothing", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "parquet", runId: "r1" });
    await sink.writeRows([{ id: 1, qty: 3 }]);
    const error = await assertRejects(
      () => sink.writeRows([{ id: 2, qty: 3 }, { id: 3, qty: "three" }]),
      ContractError,
    );
    assert(error.message.includes('column "qty"'), error.message);
    assert(error.message.includes('"three"'), error.message);
    await sink.close();
    assertEquals(await listFiles(dir), ["part-r1-00001.parquet"]);
    assertEquals(sink.parts.length, 1);
  });
});

Deno.test("partitions by columns and derived year/month/day into hive folders", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, {
      format: "parquet",
      runId: "r1",
      partitionBy: ["ShipCountry", "year(OrderDate)", "month(OrderDate)", "day(OrderDate)"],
    });
    const parts = await sink.writeRows([
      { id: 1, ShipCountry: "France", OrderDate: "1996-07-04 00:00:00.000" },
      { id: 2, ShipCountry: "France", OrderDate: "1996-07-04T23:00:00Z" },
      { id: 3, ShipCountry: "USA", OrderDate: new Date("1997-12-31T12:00:00Z") },
    ], { key: "00007" });
    await sink.close();
    assertEquals(parts.map((p) => [p.relativePath, p.rows, p.partition]), [
      ["ShipCountry=France/year=1996/month=07/day=04/part-r1-00007.parquet", 2, {
        ShipCountry: "France",
        year: "1996",
        month: "07",
        day: "04",
      }],
      ["ShipCountry=USA/year=1997/month=12/day=31/part-r1-00007.parquet", 1, {
        ShipCountry: "USA",
        year: "1997",
        month: "12",
        day: "31",
      }],
    ]);
    assertEquals(parquetRows(parts[0].path).map((r) => r.id), [1n, 2n]);
  });
});

Deno.test("null partition values go to __null__ and unsafe characters are percent-encoded", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "parquet", runId: "r1", partitionBy: ["region"] });
    await sink.writeRows([{ id: 1, region: null }, { id: 2, region: "a/b=c" }, { id: 3 }]);
    await sink.close();
    assertEquals(await listFiles(dir), [
      "region=__null__/part-r1-00001.parquet",
      "region=a%2Fb%3Dc/part-r1-00001.parquet",
    ]);
  });
});

Deno.test("load_date and load_time partitions come from the sink's load time", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, {
      format: "parquet",
      runId: "r1",
      partitionBy: ["load_date", "load_time"],
      loadTime: new Date("2026-11-23T10:15:00Z"),
    });
    const [part] = await sink.writeRows([{ id: 1 }]);
    await sink.close();
    assertEquals(part.relativePath, "load_date=2026-11-23/load_time=101500/part-r1-00001.parquet");
  });
});

Deno.test("a partition column missing from the rows is a config error naming it", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "parquet", runId: "r1", partitionBy: ["Contry"] });
    await assertRejects(() => sink.writeRows([{ Country: "USA" }]), ConfigError, '"Contry"');
    await sink.close();
  });
});

Deno.test("bad options are rejected with every bad field before anything is written", async () => {
  await withDir(async (dir) => {
    const error = await assertRejects(
      () =>
        openSink(`${dir}/out`, {
          format: "xml" as "csv",
          runId: "a/b",
          partitionBy: ["year()"],
          rowGroupRows: 0,
        }),
      ConfigError,
    );
    assertEquals(error.issues.map((i) => i.path), [
      "format",
      "runId",
      "rowGroupRows",
      "partition_by[0]",
    ]);
    assertEquals(await listFiles(dir), []);
  });
});

Deno.test("parts are named by key, default a zero-padded batch counter", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "parquet", runId: "run-7" });
    await sink.writeRows([{ id: 1 }]);
    await sink.writeRows([{ id: 2 }], { key: "page-0042" });
    await sink.writeRows([{ id: 3 }]);
    await sink.close();
    assertEquals(await listFiles(dir), [
      "part-run-7-00001.parquet",
      "part-run-7-00003.parquet",
      "part-run-7-page-0042.parquet",
    ]);
    assertEquals(sink.parts.map((p) => p.rows), [1, 1, 1]);
  });
});

Deno.test("a written part reports its true size and sha256", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "parquet", runId: "r1" });
    const [part] = await sink.writeRows([{ id: 1, name: "x" }]);
    await sink.close();
    const data = await Deno.readFile(part.path);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    assertEquals(part.bytes, data.length);
    assertEquals(part.sha256, Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
    assertEquals(part.complete, true);
  });
});

Deno.test("row groups hold rowGroupRows rows each", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "parquet", runId: "r1", rowGroupRows: 1000 });
    const ids = Array.from({ length: 2500 }, (_, i) => i);
    const [part] = await sink.writeColumns({ id: ids }, ids.length);
    await sink.close();
    const footer = await readParquetFooter(part.path);
    assertEquals(footer.rows, 2500);
    assertEquals(footer.rowGroups, [1000, 1000, 500]);
  });
});

Deno.test("compression is zstd by default, snappy or none on request", async () => {
  await withDir(async (dir) => {
    const codecs: string[][] = [];
    for (const compression of [undefined, "snappy", "none"] as const) {
      const sink = await openSink(`${dir}/${compression}`, {
        format: "parquet",
        runId: "r1",
        compression,
      });
      const [part] = await sink.writeRows([{ id: 1, text: "hello" }]);
      await sink.close();
      codecs.push((await readParquetFooter(part.path)).codecs);
      assertEquals(parquetRows(part.path), [{ id: 1n, text: "hello" }]);
    }
    assertEquals(codecs, [["ZSTD", "ZSTD"], ["SNAPPY", "SNAPPY"], [
      "UNCOMPRESSED",
      "UNCOMPRESSED",
    ]]);
  });
});

Deno.test("no temporary files remain after parts are written", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "parquet", runId: "r1", partitionBy: ["k"] });
    await sink.writeRows([{ k: "a", v: 1 }, { k: "b", v: 2 }]);
    await sink.close();
    const files = await listFiles(dir);
    assertEquals(files.filter((f) => f.endsWith(".tmp")), []);
    assertNotEquals(files.length, 0);
  });
});

Deno.test("writing after close is an error", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "parquet", runId: "r1" });
    await sink.close();
    await assertRejects(() => sink.writeRows([{ id: 1 }]), TidemarkError, "closed");
  });
});
