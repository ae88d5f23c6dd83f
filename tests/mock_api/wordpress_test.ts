import { assert, assertEquals } from "../assert.ts";
import { generateWordPress } from "../../mock_api/data/wordpress.ts";
import { routesFixture } from "./routes_fixture.ts";

type Item = Record<string, unknown> & { id: number; date_gmt: string; modified_gmt: string };

Deno.test("posts page with X-WP-Total and X-WP-TotalPages, 10 per page by default", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.get("/wp-json/wp/v2/posts");
    assertEquals(response.status, 200);
    assertEquals((response.body as Item[]).length, 10);
    assertEquals(response.headers.get("x-wp-total"), "137");
    assertEquals(response.headers.get("x-wp-totalpages"), "14");
  } finally {
    fixture.close();
  }
});

Deno.test("paging posts, pages and media to the last page returns each item once", async () => {
  const fixture = routesFixture();
  const site = generateWordPress(42);
  try {
    for (const type of ["posts", "pages", "media"] as const) {
      const ids: number[] = [];
      for (let page = 1;; page++) {
        const response = await fixture.get(`/wp-json/wp/v2/${type}?per_page=20&page=${page}`);
        ids.push(...(response.body as Item[]).map((item) => item.id));
        if (page >= Number(response.headers.get("x-wp-totalpages"))) break;
      }
      assertEquals(ids.sort((a, b) => a - b), site[type].map((item) => item.id));
    }
  } finally {
    fixture.close();
  }
});

Deno.test("a page past the last is a 400 rest_post_invalid_page_number", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.get("/wp-json/wp/v2/posts?per_page=100&page=3");
    assertEquals(response.status, 400);
    assertEquals(response.body, {
      code: "rest_post_invalid_page_number",
      message: "The page number requested is larger than the number of pages available.",
      data: { status: 400 },
    });
    assertEquals((await fixture.get("/wp-json/wp/v2/posts?per_page=100&page=2")).status, 200);
  } finally {
    fixture.close();
  }
});

Deno.test("page 1 of an empty result is an empty list, not an error", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.get("/wp-json/wp/v2/posts?after=2030-01-01T00:00:00");
    assertEquals([response.status, response.body], [200, []]);
    assertEquals(response.headers.get("x-wp-total"), "0");
  } finally {
    fixture.close();
  }
});

Deno.test("per_page outside 1–100 is a 400 rest_invalid_param", async () => {
  const fixture = routesFixture();
  try {
    for (const perPage of ["0", "101", "ten"]) {
      const response = await fixture.get(`/wp-json/wp/v2/posts?per_page=${perPage}`);
      assertEquals(response.status, 400);
      assertEquals((response.body as { code: string }).code, "rest_invalid_param");
    }
  } finally {
    fixture.close();
  }
});

Deno.test("modified_after returns exactly the items modified later, oldest first with order=asc", async () => {
  const fixture = routesFixture();
  const site = generateWordPress(42);
  try {
    const cut = site.posts[60].modified_gmt;
    const response = await fixture.get(
      `/wp-json/wp/v2/posts?modified_after=${cut}&orderby=modified&order=asc&per_page=100`,
    );
    const items = response.body as Item[];
    const expected = site.posts.filter((p) => p.modified_gmt > cut)
      .sort((a, b) => a.modified_gmt.localeCompare(b.modified_gmt) || a.id - b.id);
    assert(expected.length > 5 && expected.length < 137);
    assertEquals(items.map((i) => i.id), expected.map((p) => p.id));
  } finally {
    fixture.close();
  }
});

Deno.test("after filters on the publish date; a zone offset in the value is honoured", async () => {
  const fixture = routesFixture();
  const site = generateWordPress(42);
  try {
    const cut = site.posts[100].date_gmt;
    const utc = (await fixture.get(`/wp-json/wp/v2/posts?after=${cut}&per_page=100`))
      .body as Item[];
    assertEquals(utc.length, site.posts.filter((p) => p.date_gmt > cut).length);
    // The same instant written two hours ahead.
    const shifted = new Date(Date.parse(`${cut}Z`) + 7_200_000).toISOString().slice(0, 19);
    const zoned = (await fixture.get(
      `/wp-json/wp/v2/posts?after=${encodeURIComponent(`${shifted}+02:00`)}&per_page=100`,
    )).body as Item[];
    assertEquals(zoned.map((i) => i.id), utc.map((i) => i.id));
    assertEquals((await fixture.get("/wp-json/wp/v2/posts?after=yesterday")).status, 400);
  } finally {
    fixture.close();
  }
});

Deno.test("orderby=id with order=asc lists ids ascending; default is newest date first", async () => {
  const fixture = routesFixture();
  try {
    const byId = (await fixture.get("/wp-json/wp/v2/media?orderby=id&order=asc&per_page=50"))
      .body as Item[];
    const ids = byId.map((i) => i.id);
    assertEquals(ids, [...ids].sort((a, b) => a - b));
    const byDate = (await fixture.get("/wp-json/wp/v2/posts?per_page=50")).body as Item[];
    const dates = byDate.map((i) => i.date_gmt);
    assertEquals(dates, [...dates].sort().reverse());
  } finally {
    fixture.close();
  }
});

Deno.test("_fields keeps only the named fields, nested ones included", async () => {
  const fixture = routesFixture();
  try {
    const items = (await fixture.get("/wp-json/wp/v2/posts?_fields=id,title.rendered&per_page=1"))
      .body as Item[];
    assertEquals(Object.keys(items[0]), ["id", "title"]);
    assertEquals(Object.keys(items[0].title as object), ["rendered"]);
  } finally {
    fixture.close();
  }
});

Deno.test("items carry WordPress's fields; media add source_url and mime_type", async () => {
  const fixture = routesFixture();
  try {
    const [post] = (await fixture.get("/wp-json/wp/v2/posts?per_page=1")).body as Item[];
    for (
      const field of [
        "id",
        "date",
        "date_gmt",
        "modified",
        "modified_gmt",
        "slug",
        "status",
        "type",
        "link",
        "title",
        "content",
        "author",
      ]
    ) {
      assert(field in post, `posts lack ${field}`);
    }
    assertEquals((post.content as { protected: boolean }).protected, false);
    const [media] = (await fixture.get("/wp-json/wp/v2/media?per_page=1")).body as Item[];
    assert(String(media.source_url).startsWith("http://localhost/wp-content/uploads/"));
    assert(["image/jpeg", "image/png"].includes(String(media.mime_type)));
  } finally {
    fixture.close();
  }
});

Deno.test("the same seed generates the same site; another seed another one", () => {
  assertEquals(generateWordPress(7), generateWordPress(7));
  assert(JSON.stringify(generateWordPress(7)) !== JSON.stringify(generateWordPress(8)));
});
