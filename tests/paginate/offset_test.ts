import { offsetPaginator, type PageRequest } from "../../lib/paginate/mod.ts";
import { PaginationError } from "../../lib/core/errors.ts";
import { offsetPaginationSchema } from "../../lib/paginate/schema.ts";
import { assertEquals, assertThrows } from "../assert.ts";
import { response } from "./fixtures.ts";

const BASE = { url: "http://127.0.0.1:9000/offset/Orders", params: {} };
const withTotal = offsetPaginator({
  type: "offset",
  param: "offset",
  limit: 2,
  limit_param: "limit",
  total_path: "count",
  stop_on_short_page: true,
  start: 0,
});
const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ i }));

Deno.test("offset: the first request starts at offset 0 with the limit", () => {
  assertEquals(withTotal.first(BASE), {
    url: BASE.url,
    params: { offset: "0", limit: "2" },
    page: 1,
    cursor: null,
  });
});

Deno.test("offset: the offset advances by the records received until the total", () => {
  let request: PageRequest | "done" = withTotal.first(BASE);
  const offsets: string[] = [];
  while (request !== "done") {
    offsets.push(request.params.offset);
    const remaining = 5 - Number(request.params.offset);
    request = withTotal.next(
      request,
      response({ results: rows(Math.min(2, remaining)), count: 5 }, { dataPath: "results" }),
    );
  }
  assertEquals(offsets, ["0", "2", "4"]);
});

Deno.test("offset: a server that caps the page below the limit loses nothing with a total", () => {
  const big = offsetPaginator({
    type: "offset",
    param: "offset",
    limit: 1000,
    limit_param: "limit",
    total_path: "count",
    stop_on_short_page: true,
    start: 0,
  });
  const next = big.next(
    big.first(BASE),
    response({ results: rows(100), count: 250 }, { dataPath: "results" }),
  );
  assertEquals(next !== "done" && next.params.offset, "100");
});

Deno.test("offset: without a total, a short page is the last", () => {
  const p = offsetPaginator({
    type: "offset",
    param: "offset",
    limit: 2,
    limit_param: "limit",
    stop_on_short_page: true,
    start: 0,
  });
  const second = p.next(p.first(BASE), response({ results: rows(2) }, { dataPath: "results" }));
  assertEquals(second !== "done" && second.cursor, "2");
  assertEquals(
    p.next(second as PageRequest, response({ results: rows(1) }, { dataPath: "results" })),
    "done",
  );
});

Deno.test("offset: with stop_on_short_page off, only an empty page ends the walk", () => {
  const p = offsetPaginator({
    type: "offset",
    param: "offset",
    limit: 2,
    limit_param: "limit",
    stop_on_short_page: false,
    start: 0,
  });
  const second = p.next(p.first(BASE), response({ results: rows(1) }, { dataPath: "results" }));
  assertEquals(second !== "done" && second.params.offset, "1");
  assertEquals(
    p.next(second as PageRequest, response({ results: [] }, { dataPath: "results" })),
    "done",
  );
});

Deno.test("offset: a total that is not a number is a PaginationError naming total_path", () => {
  assertThrows(
    () =>
      withTotal.next(
        withTotal.first(BASE),
        response({ results: rows(2), count: "many" }, { dataPath: "results" }),
      ),
    PaginationError,
    "total_path",
  );
});

Deno.test("offset: resume restarts at the stored offset", () => {
  assertEquals(withTotal.resume(BASE, { cursor: "400", page: 200 }), {
    url: BASE.url,
    params: { offset: "400", limit: "2" },
    page: 201,
    cursor: "400",
  });
  assertThrows(() => withTotal.resume(BASE, { cursor: "x", page: 1 }), PaginationError);
});

Deno.test("offset: by default a server that caps the page size below limit loses no row", () => {
  // The config as a user writes it: no total, no stop_on_short_page.
  const p = offsetPaginator(
    offsetPaginationSchema.parse({ type: "offset", param: "offset", limit: 100 }),
  );
  const source = rows(25);
  const got: unknown[] = [];
  let request: PageRequest | "done" = p.first(BASE);
  while (request !== "done") {
    const at = Number(request.params.offset);
    const page = source.slice(at, at + 10); // the server answers 10, whatever limit asks
    got.push(...page);
    request = p.next(request, response({ results: page }, { dataPath: "results" }));
  }
  assertEquals(got, source);
});
