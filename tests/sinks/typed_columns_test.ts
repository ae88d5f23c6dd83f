/**
 * The column types beyond the harvest's: timestamp (µs, no zone), timestamp_tz (µs, UTC) and
 * decimal(p,s) — text forms, casts, column declarations, and what lands in Parquet — and the
 * vector path of the sinks (typed arrays straight to Arrow, partitioned).
 */
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { join } from "node:path";
import pl from "nodejs-polars";
import { columnDeclSchema } from "../../lib/sinks/column_schema.ts";
import {
  castColumn,
  decimalOf,
  declaredColumnType,
  declaredConverter,
  toDecimalText,
} from "../../lib/sinks/column_types.ts";
import {
  civilFromDays,
  compileDateFormat,
  daysFromCivil,
  formatDays,
  formatMicros,
  parseIsoDateTime,
  partsToMicros,
} from "../../lib/sinks/date_text.ts";
import { openSink, openWorkerSink } from "../../lib/sinks/mod.ts";
import { groupVectorsByPartition, parsePartitionSpecs } from "../../lib/sinks/partition.ts";
import type { VectorBatch } from "../../lib/sinks/vectors.ts";
import { listFiles, parquetDtypes, parquetRows } from "./read_back.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark-typed-");

Deno.test("civil dates convert both ways for any year, leap days included", () => {
  for (const [y, m, d] of [[1970, 1, 1], [1996, 7, 4], [2000, 2, 29], [1, 1, 1], [9999, 12, 31]]) {
    assertEquals(civilFromDays(daysFromCivil(y, m, d)), [y, m, d]);
  }
  assertEquals(daysFromCivil(1996, 7, 4), 9681);
  assertEquals(formatDays(daysFromCivil(44, 3, 15)), "0044-03-15");
});

Deno.test("every day from 400 BC to 2400 AD converts both ways; leap days follow the 4/100/400 rule", () => {
  for (let days = daysFromCivil(-399, 1, 1); days <= daysFromCivil(2400, 12, 31); days++) {
    const [y, m, d] = civilFromDays(days);
    if (daysFromCivil(y, m, d) !== days) {
      assertEquals([y, m, d, daysFromCivil(y, m, d)], [y, m, d, days]);
    }
  }
  for (const text of ["1996-02-29", "2000-02-29", "2400-02-29", "0000-02-29"]) {
    assertEquals(
      parseIsoDateTime(text)?.days,
      daysFromCivil(Number(text.slice(0, 4)), 2, 29),
      text,
    );
  }
  for (const text of ["1900-02-29", "1997-02-29", "2100-02-29", "1996-02-30", "1996-04-31"]) {
    assertEquals(parseIsoDateTime(text), undefined, text);
  }
  assertEquals(parseIsoDateTime("0005-02-29 BC")!.days, daysFromCivil(-4, 2, 29));
});

Deno.test("ISO text reads to days and microseconds, offsets and PostgreSQL's BC included", () => {
  const parts = parseIsoDateTime("1996-07-04 10:20:30.123456")!;
  assertEquals([parts.days, parts.micros, parts.hasTime, parts.offsetMinutes], [
    9681,
    ((10 * 60 + 20) * 60 + 30) * 1e6 + 123456,
    true,
    null,
  ]);
  assertEquals(parseIsoDateTime("1996-07-04")!.hasTime, false);
  assertEquals(parseIsoDateTime("2024-01-02T03:04:05+02")!.offsetMinutes, 120);
  assertEquals(parseIsoDateTime("2024-01-02 03:04:05.5-05:30")!.offsetMinutes, -330);
  assertEquals(parseIsoDateTime("0044-03-15 BC")!.days, daysFromCivil(-43, 3, 15));
  assertEquals(parseIsoDateTime("1996-07-04 00:00:00.0000001")!.subMicro, true);
  for (const bad of ["1996-02-30", "1996-07-04 24:00", "July 4th", "1996-07-04X", "1996-7-4"]) {
    assertEquals(parseIsoDateTime(bad), undefined, bad);
  }
  const utc = partsToMicros(parseIsoDateTime("1970-01-01T02:00:00+02:00")!, true);
  assertEquals(utc, 0);
  assertEquals(partsToMicros(parseIsoDateTime("9999-12-31 23:59:59")!, false), 253402300799000000n);
});

Deno.test("strftime formats read day-first, month names and 12-hour clocks; bad ones are refused", () => {
  const parse = compileDateFormat("%d/%m/%Y %I:%M %p");
  const parts = parse("04/07/1996 01:05 PM")!;
  assertEquals([parts.days, parts.micros], [9681, (13 * 60 + 5) * 60 * 1e6]);
  assertEquals(parse("31/02/1996 01:05 PM"), undefined);
  assertEquals(compileDateFormat("%b %d, %Y")("July 04, 1996")!.days, 9681);
  assertThrows(() => compileDateFormat("%Y-%q"), SyntaxError, "%q");
  assertThrows(() => compileDateFormat("%H:%M"), SyntaxError, "year");
});

Deno.test("microseconds print as ISO-8601, with Z when zoned", () => {
  assertEquals(formatMicros(836438400123000, false), "1996-07-04T00:00:00.123");
  assertEquals(formatMicros(836438400000001, true), "1996-07-04T00:00:00.000001Z");
  assertEquals(formatMicros(253402300799000000n, false), "9999-12-31T23:59:59");
  assertEquals(formatMicros(-1, false), "1969-12-31T23:59:59.999999");
});

Deno.test("decimals are exact or refused, never rounded", () => {
  assertEquals(decimalOf("decimal(10, 2)"), { precision: 10, scale: 2 });
  assertEquals(decimalOf("decimal(39,2)"), undefined);
  assertEquals(toDecimalText("12.5", 10, 2), "12.50");
  assertEquals(toDecimalText(" -0.500 ", 10, 2), "-0.50");
  assertEquals(toDecimalText("-0.00", 10, 2), "0.00");
  assertEquals(toDecimalText(32.38, 10, 2), "32.38");
  assertEquals(toDecimalText("1e3", 10, 2), "1000.00");
  assertEquals(toDecimalText(1e-7, 10, 8), "0.00000010");
  assertEquals(toDecimalText("12345678901234567890.12", 38, 2), "12345678901234567890.12");
  assertEquals(toDecimalText(0.125, 10, 2), undefined);
  assertEquals(toDecimalText("123456789.5", 10, 2), undefined);
  assertEquals(toDecimalText("abc", 10, 2), undefined);
});

Deno.test("casts to timestamp, timestamp_tz and decimal give microseconds and exact text", () => {
  assertEquals(castColumn("t", ["1970-01-01 00:00:01", null, 5], "timestamp").values, [
    1_000_000,
    null,
    5,
  ]);
  assertEquals(castColumn("z", ["1970-01-01T01:00:00+01:00"], "timestamp_tz").values, [0]);
  assertThrows(() => castColumn("t", ["1970-01-01T01:00:00+01:00"], "timestamp"), Error, '"t"');
  assertEquals(castColumn("d", ["1.5", 2n], "decimal(5,2)").values, ["1.50", "2.00"]);
});

Deno.test("column declarations map friendly names and check formats", () => {
  assertEquals(declaredColumnType("int"), "int64");
  assertEquals(declaredColumnType("Decimal(12, 4)"), "decimal(12,4)");
  assertEquals(declaredColumnType("money"), undefined);
  assertEquals(columnDeclSchema.parse("bool"), { type: "boolean", nullable: true });
  assertEquals(
    columnDeclSchema.parse({ type: "timestamp", format: "%d/%m/%Y", rename: "when" }),
    { type: "timestamp", format: "%d/%m/%Y", nullable: true, rename: "when" },
  );
  assert(!columnDeclSchema.safeParse({ type: "int", format: "%Y" }).success);
  assert(!columnDeclSchema.safeParse({ type: "date", format: "%Y-%q" }).success);
  assert(!columnDeclSchema.safeParse({ type: "money" }).success);
});

Deno.test("declared converters read source cells exactly and say why a cell does not fit", () => {
  const ts = declaredConverter({ type: "timestamp" });
  assertEquals(ts.convert("1996-07-04 00:00:00.000"), 836438400000000);
  assertEquals(ts.convert(836438400), undefined);
  assertEquals(
    ts.explain("N/A"),
    '"N/A" does not match format ISO-8601 (1996-07-04, 1996-07-04 10:00:00)',
  );
  assertEquals(
    ts.explain("1996-07-04T00:00:00Z"),
    '"1996-07-04T00:00:00Z" has a UTC offset; declare the column timestamp_tz',
  );
  const epoch = declaredConverter({ type: "timestamp_tz", format: "epoch" });
  assertEquals(epoch.convert(836438400), 836438400000000);
  const date = declaredConverter({ type: "date" });
  assertEquals(date.convert("1996-07-04 00:00:00"), 9681);
  assertEquals(date.convert("1996-07-04 10:00:00"), undefined);
  assertEquals(
    date.explain("1996-07-04 10:00:00"),
    '"1996-07-04 10:00:00" has a time of day; declare timestamp',
  );
  const int = declaredConverter({ type: "int64" });
  assertEquals([int.convert("42"), int.convert(3.0), int.convert(3.5)], [42, 3, undefined]);
  const bool = declaredConverter({ type: "boolean" });
  assertEquals([bool.convert("t"), bool.convert(0), bool.convert("maybe")], [
    true,
    false,
    undefined,
  ]);
  const json = declaredConverter({ type: "json" });
  assertEquals([json.convert('{"a":1}'), json.convert("{oops")], ['{"a":1}', undefined]);
  const money = declaredConverter({ type: "decimal(6,2)" });
  assertEquals(
    money.explain("1.234"),
    '"1.234" does not fit decimal(6,2) without rounding (at most 4 integer and 2 fraction digits)',
  );
});

function batch(): VectorBatch {
  const day = 86_400_000_000;
  return {
    length: 4,
    columns: [
      { name: "id", type: "int64", values: Float64Array.of(1, 2, 3, 2 ** 53 + 2), valid: null },
      {
        name: "at",
        type: "timestamp",
        values: Float64Array.of(9681 * day, 9862 * day + 1, 9863 * day, 0),
        valid: Uint8Array.of(1, 1, 1, 0),
      },
      { name: "zoned", type: "timestamp_tz", values: Float64Array.of(0, 1, 2, 3), valid: null },
      { name: "day", type: "date", values: Int32Array.of(9681, 9862, 9863, 0), valid: null },
      {
        name: "price",
        type: "decimal(10,2)",
        values: ["1.50", "-2.25", null, "0.00"],
        valid: null,
      },
      {
        name: "country",
        type: "string",
        values: { codes: Uint32Array.of(1, 2, 1, 0), dict: ["France", "Brazil"] },
        valid: null,
      },
      { name: "ok", type: "boolean", values: Uint8Array.of(1, 0, 1, 0), valid: null },
    ],
  };
}

for (const open of [openSink, openWorkerSink]) {
  Deno.test(`${open.name}: vectors land in Parquet with timestamp, timestamp_tz, date and decimal types`, async () => {
    await withDir(async (dir) => {
      const sink = await open(dir, { format: "parquet", runId: "r1", partitionBy: ["year(day)"] });
      const parts = await sink.writeVectors(batch());
      await sink.close();
      assertEquals(parts.map((p) => p.relativePath).sort(), [
        "year=1970/part-r1-00001.parquet",
        "year=1996/part-r1-00001.parquet",
        "year=1997/part-r1-00001.parquet",
      ]);
      const path = join(dir, "year=1997", "part-r1-00001.parquet");
      assertEquals(parquetDtypes(path), {
        id: "Int64",
        at: "Datetime(us,)",
        zoned: "Datetime(us,UTC)",
        day: "Date",
        price: "Decimal(10,2)",
        country: "String",
        ok: "Bool",
      });
      const frame = pl.readParquet(path).select(
        pl.col("at").cast(pl.Utf8),
        pl.col("price").cast(pl.Utf8),
        "country",
        "ok",
      );
      assertEquals(frame.toRecords(), [
        { at: "1997-01-01 00:00:00.000001", price: "-2.25", country: "Brazil", ok: false },
        { at: "1997-01-02 00:00:00.000000", price: null, country: "France", ok: true },
      ]);
      const rows = parquetRows(join(dir, "year=1970", "part-r1-00001.parquet"));
      assertEquals([rows[0].id, rows[0].at, rows[0].country], [2n ** 53n + 2n, null, null]);
    });
  });
}

Deno.test("vectors into CSV and JSONL print timestamps as ISO text and decimals exactly", async () => {
  await withDir(async (dir) => {
    for (const format of ["csv", "jsonl"] as const) {
      const sink = await openSink(join(dir, format), { format, runId: "r1", lineEnding: "lf" });
      await sink.writeVectors(batch());
      await sink.close();
    }
    const [csv] = await listFiles(join(dir, "csv"), ".csv");
    const lines = (await Deno.readTextFile(join(dir, "csv", csv))).trim().split("\n");
    assertEquals(lines[0], "id,at,zoned,day,price,country,ok");
    assertEquals(
      lines[2],
      "2,1997-01-01T00:00:00.000001,1970-01-01T00:00:00.000001Z,1997-01-01,-2.25,Brazil,false",
    );
    const [jsonl] = await listFiles(join(dir, "jsonl"), ".jsonl");
    const first = JSON.parse((await Deno.readTextFile(join(dir, "jsonl", jsonl))).split("\n")[0]);
    assertEquals(first, {
      id: 1,
      at: "1996-07-04T00:00:00",
      zoned: "1970-01-01T00:00:00Z",
      day: "1996-07-04",
      price: "1.50",
      country: "France",
      ok: true,
    });
  });
});

Deno.test("a vector whose type differs from the column's earlier type is refused", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "parquet", runId: "r1" });
    await sink.writeVectors({
      length: 1,
      columns: [{ name: "x", type: "float64", values: Float64Array.of(1), valid: null }],
    });
    let message = "";
    try {
      await sink.writeVectors({
        length: 1,
        columns: [{ name: "x", type: "string", values: ["a"], valid: null }],
      });
    } catch (error) {
      message = (error as Error).message;
    }
    assert(message.includes('column "x" is string in this batch but float64'), message);
    await sink.close();
  });
});

Deno.test("vector partitions: runs become views, interleaved rows are gathered, nulls go to __null__", () => {
  const specs = parsePartitionSpecs(["country", "year(at)"]);
  const day = 86_400_000_000;
  const groups = groupVectorsByPartition(specs, {
    length: 5,
    columns: [
      {
        name: "country",
        type: "string",
        values: { codes: Uint32Array.of(1, 2, 1, 1, 0), dict: ["France", "Brazil"] },
        valid: null,
      },
      {
        name: "at",
        type: "timestamp",
        values: Float64Array.of(9681 * day, 9681 * day, 9681 * day, 9862 * day, 0),
        valid: Uint8Array.of(1, 1, 1, 1, 0),
      },
    ],
  });
  assertEquals(
    groups.map((g) => [g.path, g.start, g.end, g.rows && [...g.rows]]),
    [
      ["country=France/year=1996", 0, 3, [0, 2]],
      ["country=Brazil/year=1996", 1, 2, null],
      ["country=France/year=1997", 3, 4, null],
      ["country=__null__/year=__null__", 4, 5, null],
    ],
  );
});
