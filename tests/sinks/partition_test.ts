import { assertEquals, assertThrows } from "../assert.ts";
import {
  encodePartitionValue,
  groupByPartition,
  parsePartitionSpecs,
} from "../../lib/sinks/partition.ts";
import { ConfigError, ContractError } from "../../lib/core/errors.ts";

Deno.test("partition entries parse into columns, date parts and load time", () => {
  assertEquals(
    parsePartitionSpecs(["ShipCountry", "year( OrderDate )", "month(OrderDate)", "load_time"]),
    [
      { source: "ShipCountry", key: "ShipCountry", kind: "column", column: "ShipCountry" },
      { source: "year( OrderDate )", key: "year", kind: "year", column: "OrderDate" },
      { source: "month(OrderDate)", key: "month", kind: "month", column: "OrderDate" },
      { source: "load_time", key: "load_time", kind: "load_time" },
    ],
  );
});

Deno.test("a malformed or repeated partition key is a config error with its index", () => {
  const error = assertThrows(
    () => parsePartitionSpecs(["week(OrderDate)", "year(a)", "year(b)"]),
    ConfigError,
  );
  assertEquals(error.issues.map((i) => i.path), ["partition_by[0]", "partition_by[2]"]);
});

Deno.test("partition values are percent-encoded where a path would break", () => {
  assertEquals(encodePartitionValue("New York"), "New York");
  assertEquals(encodePartitionValue("a/b\\c=d%e:f"), "a%2Fb%5Cc%3Dd%25e%3Af");
  assertEquals(encodePartitionValue(".."), "%2E.");
  assertEquals(encodePartitionValue("tab\there"), "tab%09here");
  assertEquals(encodePartitionValue("São Paulo"), "São Paulo");
  assertEquals(encodePartitionValue(null), "__null__");
  assertEquals(encodePartitionValue(undefined), "__null__");
  assertEquals(encodePartitionValue(""), "__empty__");
  assertEquals(encodePartitionValue(12), "12");
  assertEquals(
    encodePartitionValue(new Date("1996-07-04T00:00:00Z")),
    "1996-07-04T00%3A00%3A00.000Z",
  );
});

Deno.test("rows group by partition folder in order of first appearance", () => {
  const specs = parsePartitionSpecs(["c", "year(d)"]);
  const groups = groupByPartition(specs, {
    columns: { c: ["x", "y", "x", null], d: ["1996-01-01", "1996-02-01", "1996-12-31", null] },
    length: 4,
  });
  assertEquals(groups, [
    { path: "c=x/year=1996", values: { c: "x", year: "1996" }, rows: [0, 2] },
    { path: "c=y/year=1996", values: { c: "y", year: "1996" }, rows: [1] },
    { path: "c=__null__/year=__null__", values: { c: "__null__", year: "__null__" }, rows: [3] },
  ]);
});

Deno.test("derived date parts read dates, timestamps with offsets and epoch milliseconds", () => {
  const specs = parsePartitionSpecs(["year(d)", "month(d)", "day(d)"]);
  const groups = groupByPartition(specs, {
    columns: {
      d: ["1996-12-31T23:30:00-02:00", Date.UTC(1997, 5, 15), new Date(Date.UTC(1998, 0, 2))],
    },
    length: 3,
  });
  assertEquals(groups.map((g) => g.path), [
    "year=1997/month=01/day=01",
    "year=1997/month=06/day=15",
    "year=1998/month=01/day=02",
  ]);
});

Deno.test("a derived partition over a value that is not a date names the column and row", () => {
  const specs = parsePartitionSpecs(["year(d)"]);
  assertThrows(
    () => groupByPartition(specs, { columns: { d: ["1996-01-01", "soon"] }, length: 2 }),
    ContractError,
    'column "d" but row 1',
  );
});

Deno.test("load_date and load_time are the run's UTC date and HHMMSS", () => {
  const specs = parsePartitionSpecs(["load_date", "load_time"]);
  const [group] = groupByPartition(specs, {
    columns: {},
    length: 2,
    loadTime: new Date("2026-11-23T10:15:09.999Z"),
  });
  assertEquals(group, {
    path: "load_date=2026-11-23/load_time=101509",
    values: { load_date: "2026-11-23", load_time: "101509" },
    rows: [0, 1],
  });
});
