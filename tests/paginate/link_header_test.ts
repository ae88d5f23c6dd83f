import { findLink, linkPaginator, parseLinkHeader } from "../../lib/paginate/mod.ts";
import { PaginationError } from "../../lib/core/errors.ts";
import { assertEquals, assertThrows } from "../assert.ts";
import { response } from "./fixtures.ts";

const BASE = { url: "http://127.0.0.1:9000/linked/Orders", params: {} };
const link = linkPaginator({
  type: "link",
  rel: "next",
  limit: 2,
  limit_param: "per_page",
  allow_cross_origin: false,
});

Deno.test("parseLinkHeader reads several links with quoted and bare parameters", () => {
  assertEquals(
    parseLinkHeader('<http://x/?page=2>; rel="next", <http://x/?page=9>; rel=last; title="a, b"'),
    [
      { href: "http://x/?page=2", params: { rel: "next" } },
      { href: "http://x/?page=9", params: { rel: "last", title: "a, b" } },
    ],
  );
});

Deno.test("parseLinkHeader keeps commas inside the URL", () => {
  assertEquals(parseLinkHeader('<http://x/?ids=1,2,3>; rel="next"')[0].href, "http://x/?ids=1,2,3");
});

Deno.test("findLink matches one of several space-separated rel values, case-insensitively", () => {
  assertEquals(findLink('<http://x/2>; rel="prefetch NEXT"', "next"), "http://x/2");
  assertEquals(findLink('<http://x/9>; rel="last"', "next"), undefined);
  assertEquals(findLink(null, "next"), undefined);
});

Deno.test("link: follows rel=next, splitting its query into params", () => {
  const first = link.first(BASE);
  assertEquals(first.params, { per_page: "2" });
  const next = link.next(
    first,
    response([{}, {}], {
      headers: {
        link:
          '<http://127.0.0.1:9000/linked/Orders?per_page=2&page=2>; rel="next", <http://127.0.0.1:9000/linked/Orders?per_page=2&page=415>; rel="last"',
      },
    }),
  );
  assertEquals(next, {
    url: "http://127.0.0.1:9000/linked/Orders",
    params: { per_page: "2", page: "2" },
    page: 2,
    cursor: "http://127.0.0.1:9000/linked/Orders?per_page=2&page=2",
  });
});

Deno.test("link: no next link ends the walk", () => {
  assertEquals(
    link.next(
      link.first(BASE),
      response([{}], { headers: { link: '<http://127.0.0.1:9000/x?page=1>; rel="first"' } }),
    ),
    "done",
  );
  assertEquals(link.next(link.first(BASE), response([{}])), "done");
});

Deno.test("link: a relative link resolves against the request URL", () => {
  const next = link.next(
    link.first(BASE),
    response([{}], { headers: { link: '</linked/Orders?page=3>; rel="next"' } }),
  );
  assertEquals(next !== "done" && next.cursor, "http://127.0.0.1:9000/linked/Orders?page=3");
});

Deno.test("link: a next link to another origin is refused (credentials would follow it)", () => {
  assertThrows(
    () =>
      link.next(
        link.first(BASE),
        response([{}], { headers: { link: '<http://evil.example/steal?page=2>; rel="next"' } }),
      ),
    PaginationError,
    "allow_cross_origin",
  );
});

Deno.test("link: stripped params (a query-auth key echoed by the server) never reach the cursor", () => {
  const p = linkPaginator({
    type: "link",
    rel: "next",
    limit_param: "per_page",
    allow_cross_origin: false,
  }, { stripParams: ["api_key"] });
  const next = p.next(
    p.first(BASE),
    response([{}], {
      headers: { link: '<http://127.0.0.1:9000/linked/Orders?page=2&api_key=SECRET>; rel="next"' },
    }),
  );
  assertEquals(next !== "done" && [next.params, next.cursor], [
    { page: "2" },
    "http://127.0.0.1:9000/linked/Orders?page=2",
  ]);
});

Deno.test("link: resume requests the stored link", () => {
  assertEquals(
    link.resume(BASE, { cursor: "http://127.0.0.1:9000/linked/Orders?page=7&per_page=2", page: 6 }),
    {
      url: "http://127.0.0.1:9000/linked/Orders",
      params: { page: "7", per_page: "2" },
      page: 7,
      cursor: "http://127.0.0.1:9000/linked/Orders?page=7&per_page=2",
    },
  );
});
