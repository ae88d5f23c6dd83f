import { ConfigError } from "../lib/core/errors.ts";
import { checkSelector, compileSelector, parseSelector, select } from "../lib/core/select.ts";
import { assertEquals, assertThrows } from "./assert.ts";

const body = {
  rows: [{ OrderID: 10248 }, { OrderID: 10249 }],
  next: "10249",
  meta: { next_cursor: "abc", "a.b": { c: 1 } },
  data: [{ id: "1" }, { id: "2" }, { id: "3" }],
  "0": "key zero",
};

Deno.test("select: a plain key", () => {
  assertEquals(select(body, "next"), "10249");
});

Deno.test("select: a dotted path into nested objects", () => {
  assertEquals(select(body, "meta.next_cursor"), "abc");
});

Deno.test('select: "" is the root itself (a bare JSON array)', () => {
  const list = [{ id: 1 }];
  assertEquals(select(list, ""), list);
});

Deno.test("select: negative indexes count from the end", () => {
  assertEquals(select(body, "data.-1.id"), "3");
  assertEquals(select(body, "data.-3.id"), "1");
  assertEquals(select(body, "rows.0.OrderID"), 10248);
});

Deno.test("select: bracket indexes and quoted keys", () => {
  assertEquals(select(body, "data[-1].id"), "3");
  assertEquals(select(body, 'meta["a.b"].c'), 1);
  assertEquals(select([[1, 2], [3, 4]], "[1][0]"), 3);
});

Deno.test("select: a backslash escapes a dot inside a key", () => {
  assertEquals(select(body, "meta.a\\.b.c"), 1);
});

Deno.test("select: a numeric segment on an object reads the key of that text", () => {
  assertEquals(select(body, "0"), "key zero");
});

Deno.test("select: anything absent is undefined, never an exception", () => {
  assertEquals(select(body, "missing"), undefined);
  assertEquals(select(body, "meta.missing.deeper"), undefined);
  assertEquals(select(body, "data.5.id"), undefined);
  assertEquals(select(body, "data.-4.id"), undefined);
  assertEquals(select(body, "next.length"), undefined);
  assertEquals(select(null, "a"), undefined);
  assertEquals(select({ data: [] }, "data.-1.id"), undefined);
  assertEquals(select(body, "data.id"), undefined);
});

Deno.test("select: inherited properties are not selected", () => {
  assertEquals(select({}, "constructor"), undefined);
  assertEquals(select({}, "__proto__"), undefined);
});

Deno.test("select: null values are returned as null, distinct from absent", () => {
  assertEquals(select({ next: null }, "next"), null);
});

Deno.test("parseSelector: segments with numbers for indexes", () => {
  assertEquals(parseSelector("data.-1.id"), ["data", -1, "id"]);
  assertEquals(parseSelector(""), []);
  assertEquals(parseSelector("a[0]['x.y']"), ["a", 0, "x.y"]);
});

Deno.test("parseSelector: malformed paths are ConfigErrors that say where", () => {
  assertThrows(() => parseSelector("a..b"), ConfigError, "empty key at position 2");
  assertThrows(() => parseSelector(".a"), ConfigError, "empty key");
  assertThrows(() => parseSelector("a."), ConfigError, "empty key");
  assertThrows(() => parseSelector("a[0"), ConfigError, "unclosed bracket");
  assertThrows(() => parseSelector("a[x]"), ConfigError, "brackets hold an index or a quoted key");
  assertThrows(() => parseSelector("a]"), ConfigError, 'unmatched "]"');
  assertThrows(() => parseSelector("a\\"), ConfigError, "trailing backslash");
});

Deno.test("checkSelector returns the problem as text, or undefined when valid", () => {
  assertEquals(checkSelector("meta.next_cursor"), undefined);
  assertEquals(typeof checkSelector("a..b"), "string");
});

Deno.test("compileSelector reuses one parse for many values", () => {
  const lastId = compileSelector("data.-1.id");
  assertEquals([lastId({ data: [{ id: 1 }] }), lastId({ data: [] })], [1, undefined]);
});
