import { Hono } from "hono";
import type { MockEnv } from "../../mock_api/context.ts";
import { createStats } from "../../mock_api/middleware/stats.ts";
import { assertEquals } from "../assert.ts";

function countedApp() {
  const stats = createStats({ now: () => Date.UTC(2024, 0, 1) });
  const app = new Hono<MockEnv>();
  app.use("*", stats.middleware);
  app.get("/-/stats", stats.handler);
  app.get("/a", (c) => c.json({}));
  app.get("/b", (c) => c.json({ error: "busy" }, 503));
  return app;
}

Deno.test("/-/stats counts requests by path and final status since start", async () => {
  const app = countedApp();
  for (const path of ["/a", "/a", "/b", "/nowhere"]) await (await app.request(path)).body?.cancel();
  const res = await app.request("/-/stats");
  assertEquals(await res.json(), {
    started_at: "2024-01-01T00:00:00.000Z",
    total: 4,
    by_status: { "200": 2, "503": 1, "404": 1 },
    by_path: { "/a": { "200": 2 }, "/b": { "503": 1 }, "/nowhere": { "404": 1 } },
  });
});

Deno.test("/-/stats counts earlier stats requests too", async () => {
  const app = countedApp();
  await (await app.request("/-/stats")).body?.cancel();
  const body = await (await app.request("/-/stats")).json();
  assertEquals(body.by_path, { "/-/stats": { "200": 1 } });
});
