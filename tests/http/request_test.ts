import { buildUrl, requestKey } from "../../lib/http/request.ts";
import { MemoryEtagStore } from "../../lib/http/etag_store.ts";
import { assertEquals, assertThrows } from "../assert.ts";

Deno.test("buildUrl resolves against the base URL and appends parameters, skipping nulls", () => {
  const url = buildUrl(
    { url: "/northwind/Order%20Details.json", params: { _size: 10, a: null, b: [1, 2], c: true } },
    "http://127.0.0.1:9000",
  );
  assertEquals(
    url.href,
    "http://127.0.0.1:9000/northwind/Order%20Details.json?_size=10&b=1&b=2&c=true",
  );
});

Deno.test("buildUrl names a bad URL and how to fix it", () => {
  assertThrows(() => buildUrl({ url: "/relative" }), TypeError, "set base_url");
});

Deno.test("the request key ignores parameter order, so both orders share one ETag", () => {
  const a = requestKey("get", new URL("http://h/x?b=2&a=1"));
  const b = requestKey("GET", new URL("http://h/x?a=1&b=2"));
  assertEquals([a, a === b], ["GET http://h/x?a=1&b=2", true]);
  const store = new MemoryEtagStore([[a, 'W/"1"']]);
  assertEquals([store.get(b), store.size], ['W/"1"', 1]);
});
