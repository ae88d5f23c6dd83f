import { pagePaginator, type PageRequest, totalPages } from "../../lib/paginate/mod.ts";
import { PaginationError } from "../../lib/core/errors.ts";
import { assertEquals, assertThrows } from "../assert.ts";
import { response } from "./fixtures.ts";

const BASE = { url: "http://127.0.0.1:9000/paged/Orders", params: {} };
const paged = pagePaginator({
  type: "page",
  param: "page",
  start: 1,
  limit: 2,
  limit_param: "per_page",
  total_pages_path: "total_pages",
  end_statuses: [],
  stop_on_short_page: true,
});
const wordpress = pagePaginator({
  type: "page",
  param: "page",
  start: 1,
  limit: 2,
  limit_param: "per_page",
  total_pages_header: "X-WP-TotalPages",
  end_statuses: [400],
  stop_on_short_page: false,
});

function walk(p: typeof paged, respond: (r: PageRequest) => ReturnType<typeof response>): string[] {
  const pages: string[] = [];
  let request: PageRequest | "done" = p.first(BASE);
  while (request !== "done") {
    pages.push(request.params.page);
    request = p.next(request, respond(request));
  }
  return pages;
}

Deno.test("page: walks page numbers up to total_pages from the body", () => {
  const pages = walk(
    paged,
    (r) =>
      response({ items: [{}, {}], page: Number(r.params.page), total_pages: 3 }, {
        dataPath: "items",
      }),
  );
  assertEquals(pages, ["1", "2", "3"]);
});

Deno.test("page: reads the total from a header (X-WP-TotalPages), case-insensitively", () => {
  const pages = walk(wordpress, () => response([{}, {}], { headers: { "x-wp-totalpages": "2" } }));
  assertEquals(pages, ["1", "2"]);
});

Deno.test("page: a 400 past the end (WordPress) ends the walk instead of failing", () => {
  const p = pagePaginator({
    type: "page",
    param: "page",
    start: 1,
    limit_param: "per_page",
    end_statuses: [400],
    stop_on_short_page: true,
  });
  assertEquals(p.endStatuses, [400]);
  const pages = walk(
    p,
    (r) =>
      Number(r.params.page) > 2
        ? response({ code: "rest_post_invalid_page_number" }, { status: 400, dataPath: "none" })
        : response([{}, {}]),
  );
  assertEquals(pages, ["1", "2", "3"]);
});

Deno.test("page: without a total, an empty page ends the walk", () => {
  const p = pagePaginator({
    type: "page",
    param: "page",
    start: 1,
    limit_param: "per_page",
    end_statuses: [],
    stop_on_short_page: true,
  });
  const pages = walk(p, (r) => response(Number(r.params.page) > 3 ? [] : [{}]));
  assertEquals(pages, ["1", "2", "3", "4"]);
});

Deno.test("page: with a known page size and no total, a short page is the last", () => {
  const p = pagePaginator({
    type: "page",
    param: "page",
    start: 1,
    limit: 2,
    limit_param: "per_page",
    end_statuses: [],
    stop_on_short_page: true,
  });
  const pages = walk(p, (r) => response(Number(r.params.page) === 2 ? [{}] : [{}, {}]));
  assertEquals(pages, ["1", "2"]);
});

Deno.test("page: zero-based numbering counts total pages from the start page", () => {
  const p = pagePaginator({
    type: "page",
    param: "p",
    start: 0,
    limit_param: "per_page",
    total_pages_path: "pages",
    end_statuses: [],
    stop_on_short_page: true,
  });
  const seen: string[] = [];
  let r: PageRequest | "done" = p.first(BASE);
  while (r !== "done") {
    seen.push(r.params.p);
    r = p.next(r, response({ data: [{}], pages: 2 }));
  }
  assertEquals(seen, ["0", "1"]);
});

Deno.test("page: a total that is not a whole number is a PaginationError", () => {
  assertThrows(
    () =>
      totalPages({
        type: "page",
        param: "page",
        start: 1,
        limit_param: "per_page",
        total_pages_header: "X-WP-TotalPages",
        end_statuses: [],
        stop_on_short_page: true,
      }, response([], { headers: { "X-WP-TotalPages": "lots" } })),
    PaginationError,
    "X-WP-TotalPages",
  );
});

Deno.test("page: resume asks for the stored page number", () => {
  assertEquals(paged.resume(BASE, { cursor: "5", page: 4 }), {
    url: BASE.url,
    params: { page: "5", per_page: "2" },
    page: 5,
    cursor: "5",
  });
});
