import { createApp, type MockOptions } from "../../mock_api/app.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { assert, assertEquals, assertMatch, assertNotEquals, assertThrows } from "../assert.ts";

const AUTH = { Authorization: "Bearer super-secret-token" };
const ORDERS = "/northwind/Orders.json?_size=5";
/** One shared database: every test here only reads it, or writes to its own. */
const SHARED = generateNorthwind(":memory:", { scale: 1, seed: 42 });

function app(options: MockOptions = {}) {
  return createApp({ db: SHARED, ...options });
}

async function status(res: Response | Promise<Response>): Promise<number> {
  const r = await res;
  await r.body?.cancel();
  return r.status;
}

Deno.test("the full stack answers a Datasette page with an ETag and rate-limit headers", async () => {
  const res = await app({ rateLimit: 10 }).request(ORDERS, { headers: AUTH });
  assertEquals(res.status, 200);
  assertMatch(res.headers.get("etag") ?? "", /^W\/"/);
  assertEquals(res.headers.get("x-ratelimit-remaining"), "9");
  assertEquals((await res.json()).rows.length, 5);
});

Deno.test("/-/health and /-/stats need no auth and escape limits and faults", async () => {
  const script = ["503"];
  const a = app({ rateLimit: 1, faultScript: script });
  for (let i = 0; i < 3; i++) assertEquals(await status(a.request("/-/health")), 200);
  assertEquals(await status(a.request("/-/stats")), 200);
  assertEquals(script, ["503"]);
});

Deno.test("data requests need auth: 401 without a token, 403 with a wrong one", async () => {
  const a = app();
  assertEquals(await status(a.request(ORDERS)), 401);
  assertEquals(await status(a.request(ORDERS, { headers: { Authorization: "Bearer x" } })), 403);
});

Deno.test("faults come before auth: a scripted 503 answers even an unauthenticated request", async () => {
  assertEquals(await status(app({ faultScript: ["503"] }).request(ORDERS)), 503);
});

Deno.test("jwt login is never faulted or rate limited", async () => {
  const script = ["503"];
  const a = app({ auth: "jwt", faultScript: script, rateLimit: 1 });
  for (let i = 0; i < 3; i++) {
    const res = await a.request("/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "tidemark", password: "tidemark-password" }),
    });
    assertEquals(await status(res), 200);
  }
  assertEquals(script, ["503"]);
});

Deno.test("a 304 through the full stack does not count against the limit", async () => {
  const a = app({ rateLimit: 2 });
  const first = await a.request(ORDERS, { headers: AUTH });
  await first.body?.cancel();
  const headers = { ...AUTH, "If-None-Match": first.headers.get("etag")! };
  for (let i = 0; i < 4; i++) assertEquals(await status(a.request(ORDERS, { headers })), 304);
  assertEquals(await status(a.request(ORDERS, { headers: AUTH })), 200);
  assertEquals(await status(a.request(ORDERS, { headers: AUTH })), 429);
});

Deno.test("a row inserted through the write API changes the ETag of the page that shows it", async () => {
  const a = createApp(); // its own database: this test writes
  const last = "/northwind/Orders.json?_size=2&_sort_desc=OrderID";
  const before = await a.request(last, { headers: AUTH });
  await before.body?.cancel();
  const insert = await a.request("/northwind/Orders/-/insert", {
    method: "POST",
    headers: { ...AUTH, "Content-Type": "application/json" },
    body: JSON.stringify({ row: { OrderID: 99001, CustomerID: "VINET", ShipCity: "Reims" } }),
  });
  assertEquals(await status(insert), 201);
  const after = await a.request(last, {
    headers: { ...AUTH, "If-None-Match": before.headers.get("etag")! },
  });
  assertEquals(after.status, 200);
  assertNotEquals(after.headers.get("etag"), before.headers.get("etag"));
  assertEquals((await after.json()).rows[0].OrderID, 99001);
});

Deno.test("with a write token the read token may not insert", async () => {
  const a = createApp({ writeToken: "w" });
  const insert = (token: string) =>
    a.request("/northwind/Orders/-/insert", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ row: { OrderID: 99002 } }),
    });
  assertEquals(await status(insert("super-secret-token")), 403);
  assertEquals(await status(insert("w")), 201);
});

Deno.test("/-/stats counts what was sent, by path and final status", async () => {
  const a = app({ rateLimit: 2, faultScript: ["ok", "ok", "ok", "500"] });
  await status(a.request(ORDERS)); // 401
  await status(a.request(ORDERS, { headers: AUTH })); // 200
  await status(a.request(ORDERS, { headers: AUTH })); // 200
  await status(a.request(ORDERS, { headers: AUTH })); // 500 (scripted)
  await status(a.request(ORDERS, { headers: AUTH })); // 429
  await status(a.request("/-/health"));
  const stats = await (await a.request("/-/stats")).json();
  assertEquals(stats.by_path["/northwind/Orders.json"], { "401": 1, "200": 2, "500": 1, "429": 1 });
  assertEquals(stats.by_path["/-/health"], { "200": 1 });
  assertEquals(stats.total, 6);
});

Deno.test("unknown paths get a JSON 404, never HTML", async () => {
  const res = await app({ auth: "none" }).request("/no/such/thing");
  assertEquals(res.status, 404);
  assertEquals((await res.json()).ok, false);
});

Deno.test("bad input gets a 4xx JSON answer, never a 500 or a stack trace", async () => {
  const a = app({ auth: "none" });
  for (
    const [path, init] of [
      ["/northwind/Orders.json?_size=abc", {}],
      ["/northwind/Orders.json?_size=100000", {}],
      ["/northwind/Orders.json?_next=%ZZ", {}],
      ["/northwind/Ord%ZZers.json", {}],
      ["/northwind/Orders.json?NoSuchColumn__gt=3", {}],
      ["/northwind/Orders/-/insert", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{broken",
      }],
    ] as const
  ) {
    const res = await a.request(path, init);
    const text = await res.text();
    assert(res.status >= 400 && res.status < 500, `${path}: ${res.status} ${text}`);
    assert(!text.includes("    at "), `${path} leaked a stack trace`);
    JSON.parse(text);
  }
});

Deno.test("timelines carry the per-user x-rate-limit-* headers through the full stack", async () => {
  const clock = 1_700_000_000_000;
  const res = await app({ rateLimit: 3, now: () => clock }).request(
    "/2/users/2244994945/posts?max_results=5",
    { headers: AUTH },
  );
  await res.body?.cancel();
  assertEquals(res.headers.get("x-rate-limit-limit"), "3");
  assertEquals(res.headers.get("x-rate-limit-remaining"), "2");
  assertEquals(res.headers.get("x-rate-limit-reset"), String(Math.ceil(1_700_000_100_000 / 1000)));
});

Deno.test("createApp refuses options it cannot honour, naming them", () => {
  assertThrows(() => app({ auth: "kerberos" as "none" }), RangeError, "kerberos");
  assertThrows(() => app({ rateLimit: -1 }), RangeError, "rateLimit");
  assertThrows(() => app({ faults: { "503": 2 } }), RangeError, "503");
  assertThrows(() => createApp({ db: "/no/such/file.sqlite" }), RangeError, "/no/such/file.sqlite");
  assertThrows(() => createApp({ scale: -1 }), RangeError, "scale");
});

Deno.test("query auth: a write with ?api_key= reaches the route with its body intact", async () => {
  const a = createApp({ auth: "query", token: "k" });
  const insert = await a.request("/northwind/Orders/-/insert?api_key=k", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ row: { OrderID: 99003, ShipCity: "Lyon" } }),
  });
  assertEquals(await status(insert), 201);
  const res = await a.request("/northwind/Orders.json?api_key=k&OrderID=99003");
  assertEquals((await res.json()).rows.map((r: { ShipCity: string }) => r.ShipCity), ["Lyon"]);
});
