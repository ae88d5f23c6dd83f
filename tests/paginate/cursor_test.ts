import { cursorPaginator, type PageRequest } from "../../lib/paginate/mod.ts";
import { PaginationError } from "../../lib/core/errors.ts";
import { assertEquals, assertThrows } from "../assert.ts";
import { BASE, response } from "./fixtures.ts";

const datasette = cursorPaginator({
  type: "cursor",
  param: "_next",
  response_path: "next",
  limit_param: "_size",
});

Deno.test("cursor: the first request is the base request with no cursor", () => {
  assertEquals(datasette.first(BASE), { ...BASE, page: 1, cursor: null });
});

Deno.test("cursor: the next request sends the body's token in the cursor param", () => {
  const first = datasette.first(BASE);
  const next = datasette.next(
    first,
    response({ rows: [{}, {}], next: "10249" }, { dataPath: "rows" }),
  );
  assertEquals(next, {
    url: BASE.url,
    params: { _size: "2", _next: "10249" },
    page: 2,
    cursor: "10249",
  });
});

Deno.test("cursor: each step replaces the previous cursor, keeping other params", () => {
  let request: PageRequest | "done" = datasette.first(BASE);
  for (const token of ["a", "b", "c"]) {
    request = datasette.next(request as PageRequest, response({ rows: [{}], next: token }));
  }
  assertEquals((request as PageRequest).params, { _size: "2", _next: "c" });
  assertEquals((request as PageRequest).page, 4);
});

Deno.test("cursor: a null, missing or empty token ends the walk", () => {
  const first = datasette.first(BASE);
  assertEquals(datasette.next(first, response({ rows: [{}], next: null })), "done");
  assertEquals(datasette.next(first, response({ rows: [{}] })), "done");
  assertEquals(datasette.next(first, response({ rows: [{}], next: "" })), "done");
});

Deno.test("cursor: a nested token path (meta.next_cursor) is followed", () => {
  const p = cursorPaginator({
    type: "cursor",
    param: "cursor",
    response_path: "meta.next_cursor",
    limit: 50,
    limit_param: "limit",
  });
  const first = p.first({ url: "http://127.0.0.1:9000/nested/Orders", params: {} });
  assertEquals(first.params, { limit: "50" });
  const next = p.next(
    first,
    response({ result: { items: [{}] }, meta: { next_cursor: "eyJpZCI6MX0" } }),
  );
  assertEquals(next !== "done" && next.params, { limit: "50", cursor: "eyJpZCI6MX0" });
});

Deno.test("cursor: a numeric token is sent as text", () => {
  const next = datasette.next(datasette.first(BASE), response({ rows: [{}], next: 10447 }));
  assertEquals(next !== "done" && next.cursor, "10447");
});

Deno.test("cursor: a token that is an object is a PaginationError naming the path", () => {
  assertThrows(
    () => datasette.next(datasette.first(BASE), response({ rows: [{}], next: { id: 1 } })),
    PaginationError,
    '"next"',
  );
});

Deno.test("cursor: resume continues after the committed page with its cursor", () => {
  assertEquals(datasette.resume(BASE, { cursor: "10447", page: 7 }), {
    url: BASE.url,
    params: { _size: "2", _next: "10447" },
    page: 8,
    cursor: "10447",
  });
});
