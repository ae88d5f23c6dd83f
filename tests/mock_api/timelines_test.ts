import { assert, assertEquals } from "../assert.ts";
import { Hono } from "hono";
import type { MockEnv } from "../../mock_api/context.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { createRoutes } from "../../mock_api/routes/mod.ts";
import { createTimelineStore } from "../../mock_api/data/timelines.ts";
import { type RoutesFixture, routesFixture } from "./routes_fixture.ts";

interface Timeline {
  data?: { id: string; text: string; created_at: string }[];
  meta: { result_count: number; newest_id?: string; oldest_id?: string; next_token?: string };
}

const USER = "2244994945";

async function timeline(fixture: RoutesFixture, params: string): Promise<Timeline> {
  const response = await fixture.get(`/2/users/${USER}/posts?${params}`);
  assertEquals(response.status, 200, JSON.stringify(response.body));
  return response.body as Timeline;
}

async function allPosts(fixture: RoutesFixture, params = ""): Promise<string[]> {
  const ids: string[] = [];
  let token = "";
  for (;;) {
    const page = await timeline(fixture, `max_results=100${params}${token}`);
    ids.push(...(page.data ?? []).map((p) => p.id));
    if (!page.meta.next_token) return ids;
    token = `&pagination_token=${page.meta.next_token}`;
  }
}

Deno.test("ids are 19-digit strings above 2^53, newest first, and survive JSON exactly", async () => {
  const fixture = routesFixture();
  try {
    const ids = await allPosts(fixture);
    const expected = createTimelineStore(42).posts(USER).map((p) => p.id.toString());
    assertEquals(ids, expected);
    for (const id of ids) {
      assert(/^\d{19}$/.test(id), id);
      assert(BigInt(id) > 2n ** 53n);
    }
    for (let i = 1; i < ids.length; i++) assert(BigInt(ids[i - 1]) > BigInt(ids[i]));
  } finally {
    fixture.close();
  }
});

Deno.test("some neighbouring ids are equal as JS numbers: only BigInt tells them apart", async () => {
  const fixture = routesFixture();
  try {
    const ids = await allPosts(fixture);
    const collisions = ids.filter((id, i) => i > 0 && Number(id) === Number(ids[i - 1]));
    assert(collisions.length > 0, "no two ids collapse as numbers");
  } finally {
    fixture.close();
  }
});

Deno.test("since_id is exclusive and compared as BigInt, even against a burst neighbour", async () => {
  const fixture = routesFixture();
  try {
    const ids = await allPosts(fixture);
    // A pair one apart: as numbers both are the same double.
    const i = ids.findIndex((id, k) => k > 0 && BigInt(ids[k - 1]) - BigInt(id) === 1n);
    assert(i > 0);
    const newer = await allPosts(fixture, `&since_id=${ids[i]}`);
    assertEquals(newer, ids.slice(0, i));
  } finally {
    fixture.close();
  }
});

Deno.test("until_id is exclusive and compared as BigInt", async () => {
  const fixture = routesFixture();
  try {
    const ids = await allPosts(fixture);
    const i = ids.findIndex((id, k) => k > 0 && BigInt(ids[k - 1]) - BigInt(id) === 1n);
    const older = await allPosts(fixture, `&until_id=${ids[i - 1]}`);
    assertEquals(older, ids.slice(i));
  } finally {
    fixture.close();
  }
});

Deno.test("meta names the newest and oldest ids of the page and a next_token while more remain", async () => {
  const fixture = routesFixture();
  try {
    const page = await timeline(fixture, "max_results=5");
    assertEquals(page.meta.result_count, 5);
    assertEquals(page.meta.newest_id, page.data![0].id);
    assertEquals(page.meta.oldest_id, page.data![4].id);
    assert(page.meta.next_token);
  } finally {
    fixture.close();
  }
});

Deno.test("nothing newer than since_id gives {meta: {result_count: 0}} and no data", async () => {
  const fixture = routesFixture();
  try {
    const [newest] = await allPosts(fixture);
    assertEquals(await timeline(fixture, `since_id=${newest}`), { meta: { result_count: 0 } });
  } finally {
    fixture.close();
  }
});

Deno.test("max_results outside 5–100 and malformed ids are 400 invalid-request problems", async () => {
  const fixture = routesFixture();
  try {
    for (
      const params of [
        "max_results=4",
        "max_results=101",
        "since_id=12ab",
        "until_id=-5",
        "pagination_token=!!",
      ]
    ) {
      const response = await fixture.get(`/2/users/${USER}/posts?${params}`);
      assertEquals(response.status, 400, params);
      assertEquals((response.body as { title: string }).title, "Invalid Request");
    }
    assertEquals((await fixture.get("/2/users/jack/posts")).status, 400);
  } finally {
    fixture.close();
  }
});

Deno.test("POST adds a post that becomes the newest, with an id from the clock", async () => {
  const now = Date.UTC(2024, 6, 1, 12, 0, 0);
  const fixture = routesFixture(undefined, () => now);
  try {
    const before = await allPosts(fixture);
    const response = await fixture.post(`/2/users/${USER}/posts`, { text: "hello, tidemark" });
    assertEquals(response.status, 201);
    const added = (response.body as { data: { id: string; created_at: string } }).data;
    assertEquals(added.created_at, new Date(now).toISOString());
    const newer = await allPosts(fixture, `&since_id=${before[0]}`);
    assertEquals(newer, [added.id]);
  } finally {
    fixture.close();
  }
});

Deno.test("a POST when the clock is behind still gets an id above the newest", async () => {
  const fixture = routesFixture(undefined, () => 0);
  try {
    const [newest] = await allPosts(fixture);
    const response = await fixture.post(`/2/users/${USER}/posts`, { text: "from 1970" });
    const id = (response.body as { data: { id: string } }).data.id;
    assertEquals(BigInt(id), BigInt(newest) + 1n);
  } finally {
    fixture.close();
  }
});

Deno.test("a POST without text is a 400; without write permission a 403", async () => {
  const fixture = routesFixture();
  const db = generateNorthwind(":memory:");
  try {
    assertEquals((await fixture.post(`/2/users/${USER}/posts`, { body: "x" })).status, 400);
    const app = new Hono<MockEnv>();
    app.use(async (c, next) => {
      c.set("canWrite", false);
      await next();
    });
    app.route("/", createRoutes({ db, dbName: "northwind", now: () => 0, seed: 42 }));
    const response = await app.request(`/2/users/${USER}/posts`, {
      method: "POST",
      body: JSON.stringify({ text: "no" }),
    });
    assertEquals(response.status, 403);
  } finally {
    fixture.close();
    db.close();
  }
});

Deno.test("the same seed and user give the same timeline; other users differ", () => {
  const a = createTimelineStore(42).posts("1").map((p) => p.post);
  const b = createTimelineStore(42).posts("1").map((p) => p.post);
  const c = createTimelineStore(42).posts("2").map((p) => p.post);
  assertEquals(a, b);
  assert(JSON.stringify(a) !== JSON.stringify(c));
});
