/** Page groups: the first page alone, the rest in contiguous groups; bounded walks. */
import { boundedPages, pageGroups } from "../../lib/harvest/page_parallel.ts";
import { pagePaginator } from "../../lib/paginate/page.ts";
import { assertEquals } from "../assert.ts";

Deno.test("page groups: the first page alone, then the known pages in contiguous groups", () => {
  assertEquals(pageGroups(1, 9, 4).map((g) => [g.key, g.first, g.last]), [
    ["pages=1", 1, 1],
    ["pages=2-3", 2, 3],
    ["pages=4-5", 4, 5],
    ["pages=6-7", 6, 7],
    ["pages=8-9", 8, 9],
  ]);
  assertEquals(pageGroups(1, 1, 4).map((g) => g.key), ["pages=1"]);
  assertEquals(pageGroups(0, 3, 8).map((g) => g.key), ["pages=0", "pages=1", "pages=2"]);
});

Deno.test("page groups: without a total, one walk that ends on its own", () => {
  assertEquals(pageGroups(1, undefined, 4), [{ index: 0, key: "", first: 1, last: null }]);
});

Deno.test("page groups: a bounded walk stops after its last page", () => {
  const inner = pagePaginator({
    type: "page",
    param: "page",
    start: 1,
    limit: 10,
    limit_param: "per_page",
    end_statuses: [],
    stop_on_short_page: true,
  });
  const p = boundedPages(inner, 3);
  const base = { url: "http://127.0.0.1:9000/posts", params: {} };
  const first = p.resume(base, { cursor: "2", page: 0 });
  assertEquals(first.params.page, "2");
  const response = {
    status: 200,
    headers: new Headers(),
    body: [],
    records: new Array(10).fill({}),
  };
  const second = p.next(first, response);
  assertEquals(second !== "done" && second.params.page, "3");
  assertEquals(p.next(second as typeof first, response), "done");
});
