import { createPaginator, type PageRequest } from "../../lib/paginate/mod.ts";
import { PaginationError } from "../../lib/core/errors.ts";
import { assertEquals, assertThrows } from "../assert.ts";
import { BASE, response, TIMELINE } from "./fixtures.ts";

const cursor = {
  type: "cursor" as const,
  param: "_next",
  response_path: "next",
  limit_param: "limit",
};

Deno.test("guard: a cursor handed back a second time stops with an error, not a loop", () => {
  const p = createPaginator(cursor, { label: "Orders" });
  let request: PageRequest | "done" = p.first(BASE);
  request = p.next(request, response({ rows: [{}], next: "a" }));
  request = p.next(request as PageRequest, response({ rows: [{}], next: "b" }));
  const error = assertThrows(
    () => p.next(request as PageRequest, response({ rows: [{}], next: "a" })),
    PaginationError,
    'Orders: the API returned cursor "a" a second time (page 4)',
  );
  assertEquals(error.exitCode, 1);
});

Deno.test("guard: the same cursor as the request just made is caught at once", () => {
  const p = createPaginator(cursor);
  const second = p.next(p.first(BASE), response({ rows: [{}], next: "x" })) as PageRequest;
  assertThrows(
    () => p.next(second, response({ rows: [{}], next: "x" })),
    PaginationError,
    "second time",
  );
});

Deno.test("guard: more than max_pages stops with an error naming the limit", () => {
  const p = createPaginator(cursor, { maxPages: 3, label: "Orders" });
  let request: PageRequest | "done" = p.first(BASE);
  let n = 0;
  const step = () => {
    request = p.next(request as PageRequest, response({ rows: [{}], next: `c${++n}` }));
  };
  step();
  step();
  assertEquals((request as PageRequest).page, 3);
  assertThrows(step, PaginationError, "more than max_pages 3");
});

Deno.test("guard: a walk that ends on its own before max_pages is fine", () => {
  const p = createPaginator(cursor, { maxPages: 2 });
  const second = p.next(p.first(BASE), response({ rows: [{}], next: "a" })) as PageRequest;
  assertEquals(p.next(second, response({ rows: [{}], next: null })), "done");
});

Deno.test("guard: a resumed walk counts pages from the stored page and forgets old cursors", () => {
  const p = createPaginator(cursor, { maxPages: 10 });
  p.next(p.first(BASE), response({ rows: [{}], next: "a" }));
  const resumed = p.resume(BASE, { cursor: "a", page: 9 });
  assertEquals(resumed.page, 10);
  assertThrows(
    () => p.next(resumed, response({ rows: [{}], next: "b" })),
    PaginationError,
    "max_pages 10",
  );
});

Deno.test("createPaginator picks the last-record strategy for a cursor with has_more_path", () => {
  assertEquals(createPaginator(cursor).type, "cursor");
  assertEquals(createPaginator({ ...cursor, has_more_path: "has_more" }).type, "last_record");
  assertEquals(createPaginator({ type: "none" }).type, "none");
});

Deno.test("none: one request, then done; nothing to resume", () => {
  const p = createPaginator({ type: "none" });
  const first = p.first(BASE);
  assertEquals(first, { ...BASE, page: 1, cursor: null });
  assertEquals(p.next(first, response({ rows: [{}] })), "done");
  assertThrows(() => p.resume(BASE, { cursor: "x", page: 1 }), PaginationError, "resume");
});

Deno.test("guard: the timeline extent passes through the guard", () => {
  const p = createPaginator(TIMELINE);
  p.next(p.first(BASE), response({ data: [{ id: "3" }, { id: "2" }], meta: {} }));
  assertEquals(p.extent?.(), { newest: "3", oldest: "2" });
});
