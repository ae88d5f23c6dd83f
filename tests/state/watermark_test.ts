import { StateError } from "../../lib/core/errors.ts";
import {
  applyLookback,
  clampFuture,
  compareIds,
  compareWatermarks,
  newerWatermark,
  normalizeTimestamp,
  olderWatermark,
} from "../../lib/state/watermark.ts";
import { assertEquals, assertStringIncludes, assertThrows } from "../assert.ts";

Deno.test("compareIds compares 19-digit snowflakes exactly, where JS numbers cannot", () => {
  const a = "1861234567890123457";
  const b = "1861234567890123456";
  assertEquals(Number(a) === Number(b), true); // the trap the BigInt comparison avoids
  assertEquals(compareIds(a, b), 1);
  assertEquals(compareIds(b, a), -1);
  assertEquals(compareIds(a, a), 0);
});

Deno.test("compareIds compares integer strings numerically, not as text", () => {
  assertEquals(compareIds("9", "10"), -1);
  assertEquals(compareIds("-5", "3"), -1);
  assertEquals(compareIds("007", "7"), 0);
});

Deno.test("compareIds falls back to text order when either id is not an integer", () => {
  assertEquals(compareIds("abc", "abd"), -1);
  assertEquals(compareIds("10", "9a"), -1);
});

Deno.test("normalizeTimestamp reads SQL text dates without a zone as UTC", () => {
  assertEquals(normalizeTimestamp("1996-07-04 00:00:00.000"), "1996-07-04T00:00:00.000Z");
  assertEquals(normalizeTimestamp("1996-07-04 13:45"), "1996-07-04T13:45:00.000Z");
  assertEquals(normalizeTimestamp("1996-07-04"), "1996-07-04T00:00:00.000Z");
});

Deno.test("normalizeTimestamp converts offsets to UTC", () => {
  assertEquals(normalizeTimestamp("2024-03-10T12:00:00+02:00"), "2024-03-10T10:00:00.000Z");
  assertEquals(normalizeTimestamp("2024-03-10T00:30:00-0130"), "2024-03-10T02:00:00.000Z");
  assertEquals(normalizeTimestamp("2024-03-10T00:00:00Z"), "2024-03-10T00:00:00.000Z");
});

Deno.test("normalizeTimestamp truncates sub-millisecond digits (a lower bound only moves earlier)", () => {
  assertEquals(normalizeTimestamp("2024-01-01T00:00:00.123999Z"), "2024-01-01T00:00:00.123Z");
  assertEquals(normalizeTimestamp("2024-01-01T00:00:00.5Z"), "2024-01-01T00:00:00.500Z");
});

Deno.test("normalizeTimestamp reads epoch seconds, epoch milliseconds, Dates and HTTP dates", () => {
  assertEquals(normalizeTimestamp(1704067200), "2024-01-01T00:00:00.000Z");
  assertEquals(normalizeTimestamp("1704067200000"), "2024-01-01T00:00:00.000Z");
  assertEquals(normalizeTimestamp(new Date(Date.UTC(2024, 0, 1))), "2024-01-01T00:00:00.000Z");
  assertEquals(normalizeTimestamp("Mon, 01 Jan 2024 00:00:00 GMT"), "2024-01-01T00:00:00.000Z");
});

Deno.test("normalizeTimestamp refuses impossible dates and free text, naming the value", () => {
  assertThrows(() => normalizeTimestamp("2024-02-30"), StateError, '"2024-02-30"');
  assertThrows(() => normalizeTimestamp("2024-01-01 25:00"), StateError, "2024-01-01 25:00");
  assertThrows(() => normalizeTimestamp("last tuesday"), StateError, "ISO-8601");
  // Without a zone, Date.parse would read this in local time; it must be refused instead.
  assertThrows(() => normalizeTimestamp("Jan 1 2024 10:00"), StateError);
});

Deno.test("timestamps in different zones and forms compare by instant", () => {
  assertEquals(compareWatermarks("2024-01-01 10:00:00", "2024-01-01T11:00:00+01:00"), 0);
  assertEquals(compareWatermarks("2024-01-01 10:00:00", "2024-01-01T10:00:00-01:00"), -1);
});

Deno.test("newerWatermark picks the later value and normalizes it; missing sides are ignored", () => {
  assertEquals(newerWatermark("1997-01-01", "1996-12-31 23:59:59"), "1997-01-01T00:00:00.000Z");
  assertEquals(newerWatermark(null, "1996-07-04 00:00:00.000"), "1996-07-04T00:00:00.000Z");
  assertEquals(newerWatermark(undefined, null), null);
  assertEquals(newerWatermark("9", "10", { kind: "id" }), "10");
  assertEquals(
    newerWatermark("1861234567890123456", "1861234567890123457", { kind: "id" }),
    "1861234567890123457",
  );
});

Deno.test("olderWatermark picks the earlier value (the X_oldest frontier)", () => {
  assertEquals(olderWatermark("100", "99", { kind: "id" }), "99");
  assertEquals(olderWatermark("2024-01-02", "2024-01-01"), "2024-01-01T00:00:00.000Z");
});

Deno.test("applyLookback moves a timestamp back by a duration", () => {
  assertEquals(applyLookback("2024-01-03T00:00:00Z", "2d"), "2024-01-01T00:00:00.000Z");
  assertEquals(applyLookback("2024-01-01 06:00:00", "90m"), "2024-01-01T04:30:00.000Z");
  assertEquals(applyLookback("2024-01-01 06:00:00", undefined), "2024-01-01T06:00:00.000Z");
});

Deno.test("applyLookback moves an id back by a count, never below zero", () => {
  assertEquals(applyLookback("1861234567890123456", "6", { kind: "id" }), "1861234567890123450");
  assertEquals(applyLookback("3", "10", { kind: "id" }), "0");
});

Deno.test("applyLookback refuses a lookback it cannot read", () => {
  assertThrows(() => applyLookback("2024-01-01", "two days"), StateError, "two days");
  assertThrows(() => applyLookback("abc", "5", { kind: "id" }), StateError, "integer");
});

Deno.test("a watermark in the future is clamped to now with a warning", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const result = clampFuture("2030-01-01 00:00:00", now, { assetId: "Orders" });
  assertEquals(result.value, "2026-01-01T00:00:00.000Z");
  assertStringIncludes(result.warning ?? "", "Orders");
  assertStringIncludes(result.warning ?? "", "2030-01-01T00:00:00.000Z is in the future");
});

Deno.test("a past watermark is kept, normalized, without a warning", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  assertEquals(clampFuture("2025-12-31 23:00:00", now), { value: "2025-12-31T23:00:00.000Z" });
  assertEquals(
    clampFuture("2026-01-01T00:00:30Z", now, { toleranceMs: 60_000 }),
    { value: "2026-01-01T00:00:30.000Z" },
  );
});
