import { bodyLinkPaginator } from "../../lib/paginate/mod.ts";
import { PaginationError } from "../../lib/core/errors.ts";
import { assertEquals, assertThrows } from "../assert.ts";
import { response } from "./fixtures.ts";

const BASE = { url: "http://127.0.0.1:9000/hal/Orders", params: {} };
const hal = bodyLinkPaginator({
  type: "body_link",
  response_path: "links.next",
  limit: 2,
  limit_param: "size",
  allow_cross_origin: false,
});

Deno.test("body_link: the first request sends the page size", () => {
  assertEquals(hal.first(BASE), { url: BASE.url, params: { size: "2" }, page: 1, cursor: null });
});

Deno.test("body_link: follows links.next until it is null", () => {
  const next = hal.next(
    hal.first(BASE),
    response({
      data: [{}],
      links: { next: "http://127.0.0.1:9000/hal/Orders?size=2&after=10249" },
    }),
  );
  assertEquals(next, {
    url: "http://127.0.0.1:9000/hal/Orders",
    params: { size: "2", after: "10249" },
    page: 2,
    cursor: "http://127.0.0.1:9000/hal/Orders?size=2&after=10249",
  });
  assertEquals(hal.next(hal.first(BASE), response({ data: [{}], links: { next: null } })), "done");
  assertEquals(hal.next(hal.first(BASE), response({ data: [{}] })), "done");
});

Deno.test("body_link: a link with a repeated parameter stays whole", () => {
  const next = hal.next(
    hal.first(BASE),
    response({ data: [{}], links: { next: "/hal/Orders?id=1&id=2" } }),
  );
  assertEquals(next !== "done" && [next.url, next.params], [
    "http://127.0.0.1:9000/hal/Orders?id=1&id=2",
    {},
  ]);
});

Deno.test("body_link: a next URL that is not http(s) or leaves the origin is refused", () => {
  assertThrows(
    () =>
      hal.next(hal.first(BASE), response({ data: [{}], links: { next: "file:///etc/passwd" } })),
    PaginationError,
    "http(s)",
  );
  assertThrows(
    () =>
      hal.next(
        hal.first(BASE),
        response({ data: [{}], links: { next: "https://other.example/x" } }),
      ),
    PaginationError,
    "leaves http://127.0.0.1:9000",
  );
});

Deno.test("body_link: cross-origin links are followed when allowed", () => {
  const p = bodyLinkPaginator({
    type: "body_link",
    response_path: "next_url",
    limit_param: "size",
    allow_cross_origin: true,
  });
  const next = p.next(
    p.first(BASE),
    response({ data: [{}], next_url: "http://127.0.0.2:9000/x?p=2" }),
  );
  assertEquals(next !== "done" && next.url, "http://127.0.0.2:9000/x");
});
