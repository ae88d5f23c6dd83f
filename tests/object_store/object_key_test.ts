import { loadStamp, objectKey } from "../../lib/object_store/object_key.ts";
import { assertEquals, assertThrows } from "../assert.ts";

const LOAD_TIME = new Date("2026-11-23T10:15:00Z");

Deno.test("the load stamp goes right after the asset, below the prefix", () => {
  assertEquals(
    objectKey("Orders/ShipCountry=USA/part-r1-00001.parquet", {
      prefix: "raw/northwind",
      loadTime: LOAD_TIME,
    }),
    "raw/northwind/Orders/load_date=2026-11-23/load_time=101500/ShipCountry=USA/part-r1-00001.parquet",
  );
});

Deno.test("without a prefix the key starts with the asset; a bare file name starts with the stamp", () => {
  assertEquals(
    objectKey("Orders/part.csv", { loadTime: LOAD_TIME }),
    "Orders/load_date=2026-11-23/load_time=101500/part.csv",
  );
  assertEquals(
    objectKey("report.html", { prefix: "/runs/", loadTime: LOAD_TIME }),
    "runs/load_date=2026-11-23/load_time=101500/report.html",
  );
});

Deno.test("a relative key already partitioned by load_date is not stamped twice", () => {
  assertEquals(
    objectKey("Orders/load_date=2026-11-23/load_time=101500/part.parquet", {
      prefix: "raw",
      loadTime: new Date("2030-01-01T00:00:00Z"),
    }),
    "raw/Orders/load_date=2026-11-23/load_time=101500/part.parquet",
  );
});

Deno.test("the stamp is the UTC date and time, whatever the offset the time was given in", () => {
  assertEquals(loadStamp(new Date("2026-11-24T01:59:07+02:00")), {
    load_date: "2026-11-23",
    load_time: "235907",
  });
});

Deno.test("backslashes are read as separators", () => {
  assertEquals(
    objectKey("Orders\\part.csv", { loadTime: LOAD_TIME }),
    "Orders/load_date=2026-11-23/load_time=101500/part.csv",
  );
});

Deno.test("empty, absolute and dot-dot relative keys are refused", () => {
  for (const bad of ["", "/Orders/part.csv", "Orders//part.csv", "Orders/../etc/passwd", "./a"]) {
    assertThrows(() => objectKey(bad, { loadTime: LOAD_TIME }), RangeError, "relative object key");
  }
});

Deno.test("an invalid load time is refused", () => {
  assertThrows(() => loadStamp(new Date(Number.NaN)), RangeError, "invalid Date");
});
