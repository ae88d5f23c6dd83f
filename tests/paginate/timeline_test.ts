import { type PageRequest, timelinePaginator } from "../../lib/paginate/mod.ts";
import { assertEquals } from "../assert.ts";
import { response, TIMELINE } from "./fixtures.ts";

const config = { ...TIMELINE, limit: 5 };
const BASE = { url: "http://127.0.0.1:9000/2/users/42/posts", params: {} };

Deno.test("timeline: forward sends since_id from the X watermark", () => {
  const p = timelinePaginator(config, { sinceId: "1861234567890123456" });
  assertEquals(p.first(BASE).params, { max_results: "5", since_id: "1861234567890123456" });
});

Deno.test("timeline: backfill sends until_id from X_oldest", () => {
  const p = timelinePaginator(config, { untilId: "1000000000000000001" });
  assertEquals(p.first(BASE).params, { max_results: "5", until_id: "1000000000000000001" });
});

Deno.test("timeline: walks pagination_token pages and stops without a token", () => {
  const p = timelinePaginator(config);
  const first = p.first(BASE);
  const page1 = {
    data: [{ id: "1861234567890123459" }, { id: "1861234567890123458" }],
    meta: {
      result_count: 2,
      newest_id: "1861234567890123459",
      oldest_id: "1861234567890123458",
      next_token: "t1",
    },
  };
  const second = p.next(first, response(page1)) as PageRequest;
  assertEquals(second.params, { max_results: "5", pagination_token: "t1" });
  const page2 = {
    data: [{ id: "999999999999999999" }],
    meta: { result_count: 1, newest_id: "999999999999999999", oldest_id: "999999999999999999" },
  };
  assertEquals(p.next(second, response(page2)), "done");
});

Deno.test("timeline: the extent holds the newest and oldest ids by BigInt order", () => {
  const p = timelinePaginator(config);
  const first = p.first(BASE);
  // 19 and 18 digits: as text "999…" > "186…"; as numbers both lose precision.
  p.next(
    first,
    response({
      data: [{ id: "1861234567890123457" }, { id: "1861234567890123456" }],
      meta: { next_token: "t" },
    }),
  );
  p.next(first, response({ data: [{ id: "999999999999999999" }], meta: {} }));
  assertEquals(p.extent?.(), { newest: "1861234567890123457", oldest: "999999999999999999" });
});

Deno.test("timeline: an empty result (no data, result_count 0) ends the walk and leaves the extent empty", () => {
  const p = timelinePaginator(config, { sinceId: "5" });
  assertEquals(p.next(p.first(BASE), response({ meta: { result_count: 0 } })), "done");
  assertEquals(p.extent?.(), { newest: null, oldest: null });
});

Deno.test("timeline: resume keeps since_id and sends the stored token", () => {
  const p = timelinePaginator(config, { sinceId: "7" });
  assertEquals(p.resume(BASE, { cursor: "tok", page: 2 }), {
    url: BASE.url,
    params: { max_results: "5", since_id: "7", pagination_token: "tok" },
    page: 3,
    cursor: "tok",
  });
});
