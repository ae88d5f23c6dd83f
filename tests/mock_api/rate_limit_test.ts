import { Hono } from "hono";
import type { MockEnv } from "../../mock_api/context.ts";
import { etagMiddleware } from "../../mock_api/middleware/etag.ts";
import {
  rateLimitMiddleware,
  type RateLimitOptions,
  TIMELINE_WINDOW_MS,
} from "../../mock_api/middleware/rate_limit.ts";
import { assertEquals } from "../assert.ts";

/** A clock on a window boundary (a multiple of every window used here), plus 250 ms. */
const T0 = 1_700_000_100_000 + 250;

/** A tiny limited app; the credential comes from `X-User` so tests can use several. */
function limitedApp(options: Omit<RateLimitOptions, "now">, clock: { now: number }) {
  const app = new Hono<MockEnv>();
  app.use("*", async (c, next) => {
    c.set("credential", c.req.header("x-user") ?? "alice");
    await next();
  });
  app.use("*", rateLimitMiddleware({ ...options, now: () => clock.now }));
  app.use("*", etagMiddleware());
  app.get("/data", (c) => c.json({ rows: [1, 2, 3] }));
  app.get("/2/users/:id/posts", (c) => c.json({ data: [] }));
  return app;
}

async function statuses(app: Hono<MockEnv>, n: number, init?: RequestInit): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await app.request("/data", init);
    await res.body?.cancel();
    out.push(res.status);
  }
  return out;
}

Deno.test("fixed window: the request after the limit is 429 rate limit exceeded", async () => {
  const app = limitedApp({ limit: 3, windowMs: 60_000 }, { now: T0 });
  assertEquals(await statuses(app, 3), [200, 200, 200]);
  const res = await app.request("/data");
  assertEquals(res.status, 429);
  assertEquals(await res.json(), { error: "rate limit exceeded" });
});

Deno.test("every response carries X-RateLimit-Limit, -Remaining and -Reset in seconds", async () => {
  const app = limitedApp({ limit: 2, windowMs: 60_000 }, { now: T0 });
  const first = await app.request("/data");
  await first.body?.cancel();
  assertEquals(first.headers.get("x-ratelimit-limit"), "2");
  assertEquals(first.headers.get("x-ratelimit-remaining"), "1");
  // Windows align on the epoch: T0 is 250 ms into a window, so 59.75 s remain, rounded up.
  assertEquals(first.headers.get("x-ratelimit-reset"), "60");
});

Deno.test("429 Retry-After in seconds counts to the end of the window", async () => {
  const clock = { now: T0 };
  const app = limitedApp({ limit: 1, windowMs: 60_000 }, clock);
  await statuses(app, 1);
  clock.now = T0 + 44_000;
  const res = await app.request("/data");
  await res.body?.cancel();
  assertEquals(res.status, 429);
  assertEquals(res.headers.get("retry-after"), "16");
  assertEquals(res.headers.get("x-ratelimit-remaining"), "0");
});

Deno.test("429 Retry-After as an HTTP-date names the end of the window", async () => {
  const app = limitedApp({ limit: 1, windowMs: 60_000, retryAfter: "date" }, { now: T0 });
  await statuses(app, 1);
  const res = await app.request("/data");
  await res.body?.cancel();
  assertEquals(res.headers.get("retry-after"), new Date(T0 - 250 + 60_000).toUTCString());
});

Deno.test("429 without Retry-After when the style is none", async () => {
  const app = limitedApp({ limit: 1, windowMs: 60_000, retryAfter: "none" }, { now: T0 });
  await statuses(app, 1);
  const second = await app.request("/data");
  await second.body?.cancel();
  assertEquals([second.status, second.headers.get("retry-after")], [429, null]);
});

Deno.test("reset style epoch gives the window end in epoch seconds", async () => {
  const app = limitedApp({ limit: 5, windowMs: 60_000, resetStyle: "epoch" }, { now: T0 });
  const res = await app.request("/data");
  await res.body?.cancel();
  assertEquals(res.headers.get("x-ratelimit-reset"), String((T0 - 250 + 60_000) / 1000));
});

Deno.test("the window resets at the exact instant it ends, not a millisecond before", async () => {
  const clock = { now: T0 };
  const app = limitedApp({ limit: 2, windowMs: 10_000 }, clock);
  assertEquals(await statuses(app, 3), [200, 200, 429]);
  clock.now = T0 - 250 + 10_000 - 1;
  assertEquals(await statuses(app, 1), [429]);
  clock.now += 1;
  assertEquals(await statuses(app, 3), [200, 200, 429]);
});

Deno.test("limits are kept per credential", async () => {
  const app = limitedApp({ limit: 1, windowMs: 60_000 }, { now: T0 });
  assertEquals(await statuses(app, 2, { headers: { "X-User": "a" } }), [200, 429]);
  assertEquals(await statuses(app, 1, { headers: { "X-User": "b" } }), [200]);
});

Deno.test("token bucket: a full bucket allows a burst of limit, then refuses", async () => {
  const app = limitedApp({ limit: 4, windowMs: 4_000, limiter: "bucket" }, { now: T0 });
  assertEquals(await statuses(app, 5), [200, 200, 200, 200, 429]);
});

Deno.test("token bucket: one token comes back every windowMs/limit", async () => {
  const clock = { now: T0 };
  const app = limitedApp({ limit: 4, windowMs: 4_000, limiter: "bucket" }, clock);
  await statuses(app, 4);
  clock.now += 999;
  const refused = await app.request("/data");
  await refused.body?.cancel();
  assertEquals([refused.status, refused.headers.get("retry-after")], [429, "1"]);
  clock.now += 1;
  assertEquals(await statuses(app, 2), [200, 429]);
  clock.now += 2_000;
  assertEquals(await statuses(app, 3), [200, 200, 429]);
});

Deno.test("token bucket: the bucket never fills past the limit", async () => {
  const clock = { now: T0 };
  const app = limitedApp({ limit: 3, windowMs: 3_000, limiter: "bucket" }, clock);
  clock.now += 3_600_000;
  assertEquals(await statuses(app, 4), [200, 200, 200, 429]);
});

Deno.test("a 304 is refunded: conditional requests do not count", async () => {
  const app = limitedApp({ limit: 2, windowMs: 60_000 }, { now: T0 });
  const first = await app.request("/data");
  await first.body?.cancel();
  const etag = first.headers.get("etag")!;
  const conditional = await statuses(app, 5, { headers: { "If-None-Match": etag } });
  assertEquals(conditional, [304, 304, 304, 304, 304]);
  assertEquals(await statuses(app, 2), [200, 429]);
});

Deno.test("timelines: per-user 15-minute windows with lower-case epoch headers", async () => {
  const clock = { now: T0 };
  const app = limitedApp({ limit: 2, windowMs: 1_000 }, clock);
  const get = async (user: string) => {
    const res = await app.request(`/2/users/${user}/posts`);
    await res.body?.cancel();
    return res;
  };
  const first = await get("12");
  const windowEnd = Math.floor(T0 / TIMELINE_WINDOW_MS) * TIMELINE_WINDOW_MS + TIMELINE_WINDOW_MS;
  assertEquals(first.headers.get("x-rate-limit-limit"), "2");
  assertEquals(first.headers.get("x-rate-limit-remaining"), "1");
  assertEquals(first.headers.get("x-rate-limit-reset"), String(windowEnd / 1000));
  await get("12");
  clock.now += 5_000; // far past the data window, still inside the 15 minutes
  const refused = await get("12");
  assertEquals(refused.status, 429);
  assertEquals(refused.headers.get("retry-after"), null);
  assertEquals((await get("13")).status, 200);
  clock.now = windowEnd;
  assertEquals((await get("12")).status, 200);
});
