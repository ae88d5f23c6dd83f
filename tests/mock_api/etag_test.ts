import { Hono } from "hono";
import type { MockEnv } from "../../mock_api/context.ts";
import { contentEtag, etagMiddleware } from "../../mock_api/middleware/etag.ts";
import { assert, assertEquals, assertMatch, assertNotEquals } from "../assert.ts";

function etagApp(rows: number[]) {
  const app = new Hono<MockEnv>();
  app.use("*", etagMiddleware());
  app.get("/rows", (c) => c.json({ rows }));
  app.get("/text", (c) => c.text("plain"));
  app.get("/missing", (c) => c.json({ error: "no" }, 404));
  return app;
}

Deno.test("a 200 JSON response has a weak ETag of its content", async () => {
  const res = await etagApp([1, 2]).request("/rows");
  const body = new Uint8Array(await res.arrayBuffer());
  assertMatch(res.headers.get("etag") ?? "", /^W\/"[0-9a-f]{20}"$/);
  assertEquals(res.headers.get("etag"), contentEtag(body));
});

Deno.test("a matching If-None-Match gets 304 with no body", async () => {
  const app = etagApp([1, 2]);
  const first = await app.request("/rows");
  await first.body?.cancel();
  const etag = first.headers.get("etag")!;
  const res = await app.request("/rows", { headers: { "If-None-Match": etag } });
  assertEquals(res.status, 304);
  assertEquals(res.body, null);
  assertEquals(res.headers.get("etag"), etag);
});

Deno.test("If-None-Match matches weakly, in a list, and with *", async () => {
  const app = etagApp([1]);
  const first = await app.request("/rows");
  await first.body?.cancel();
  const strong = first.headers.get("etag")!.slice(2);
  for (const header of [strong, `"x", ${strong}`, "*"]) {
    const res = await app.request("/rows", { headers: { "If-None-Match": header } });
    assertEquals(res.status, 304, header);
  }
});

Deno.test("a stale If-None-Match gets the full 200", async () => {
  const res = await etagApp([1]).request("/rows", { headers: { "If-None-Match": 'W/"old"' } });
  assertEquals(res.status, 200);
  assertEquals(await res.json(), { rows: [1] });
});

Deno.test("different content gives a different ETag", async () => {
  const a = await etagApp([1, 2]).request("/rows");
  const b = await etagApp([1, 3]).request("/rows");
  await Promise.all([a.body?.cancel(), b.body?.cancel()]);
  assertNotEquals(a.headers.get("etag"), b.headers.get("etag"));
});

Deno.test("errors and non-JSON answers get no ETag", async () => {
  const app = etagApp([]);
  for (const path of ["/text", "/missing"]) {
    const res = await app.request(path);
    await res.body?.cancel();
    assert(res.headers.get("etag") === null, path);
  }
});
