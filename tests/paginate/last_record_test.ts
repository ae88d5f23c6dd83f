import { lastRecordPaginator } from "../../lib/paginate/mod.ts";
import { PaginationError } from "../../lib/core/errors.ts";
import { assertEquals, assertThrows } from "../assert.ts";
import { response } from "./fixtures.ts";

const stripe = lastRecordPaginator({
  type: "cursor",
  param: "starting_after",
  response_path: "data.-1.OrderID",
  has_more_path: "has_more",
  limit: 2,
  limit_param: "limit",
});
const BASE = { url: "http://127.0.0.1:9000/v1/Orders", params: {} };

Deno.test("last_record: the first request sends the limit only", () => {
  assertEquals(stripe.first(BASE), {
    url: BASE.url,
    params: { limit: "2" },
    page: 1,
    cursor: null,
  });
});

Deno.test("last_record: while has_more, the last record's key becomes starting_after", () => {
  const body = { object: "list", data: [{ OrderID: 10248 }, { OrderID: 10249 }], has_more: true };
  const next = stripe.next(stripe.first(BASE), response(body));
  assertEquals(next, {
    url: BASE.url,
    params: { limit: "2", starting_after: "10249" },
    page: 2,
    cursor: "10249",
  });
});

Deno.test("last_record: has_more false ends the walk even with records", () => {
  const body = { object: "list", data: [{ OrderID: 11077 }], has_more: false };
  assertEquals(stripe.next(stripe.first(BASE), response(body)), "done");
});

Deno.test("last_record: an empty page ends the walk", () => {
  assertEquals(stripe.next(stripe.first(BASE), response({ data: [], has_more: true })), "done");
});

Deno.test("last_record: a response without has_more is an error, not a silent stop", () => {
  assertThrows(
    () => stripe.next(stripe.first(BASE), response({ data: [{ OrderID: 1 }] })),
    PaginationError,
    "has_more_path",
  );
});

Deno.test("last_record: has_more true without a key in the last record is an error", () => {
  assertThrows(
    () => stripe.next(stripe.first(BASE), response({ data: [{ id: 1 }], has_more: true })),
    PaginationError,
    "data.-1.OrderID",
  );
});

Deno.test("last_record: resume sends the stored key", () => {
  assertEquals(stripe.resume(BASE, { cursor: "10300", page: 3 }).params, {
    limit: "2",
    starting_after: "10300",
  });
});
