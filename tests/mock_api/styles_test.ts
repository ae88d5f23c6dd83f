import { assert, assertEquals, assertMatch } from "../assert.ts";
import { query, type RoutesFixture, routesFixture } from "./routes_fixture.ts";

type Row = Record<string, unknown>;
type Fetch = (path: string) => Promise<Response>;

/** Pages through one style to the end, the way its clients do; returns the rows. */
const STYLES: Record<
  string,
  (fetch: Fetch, table: string, key: (row: Row) => string) => Promise<Row[]>
> = {
  async v1(fetch, table, key) {
    const rows: Row[] = [];
    let after = "";
    for (;;) {
      const body = await (await fetch(`/v1/${table}?limit=100${after}`)).json();
      assertEquals(body.object, "list");
      rows.push(...body.data);
      if (!body.has_more) return rows;
      after = `&starting_after=${encodeURIComponent(key(body.data.at(-1)))}`;
    }
  },
  async offset(fetch, table) {
    const rows: Row[] = [];
    for (let offset = 0;; offset += 250) {
      const body = await (await fetch(`/offset/${table}?limit=250&offset=${offset}`)).json();
      rows.push(...body.results);
      if (offset + 250 >= body.count) return rows;
    }
  },
  async paged(fetch, table) {
    const rows: Row[] = [];
    for (let page = 1;; page++) {
      const body = await (await fetch(`/paged/${table}?per_page=300&page=${page}`)).json();
      assertEquals(body.page, page);
      rows.push(...body.items);
      if (page >= body.total_pages) return rows;
    }
  },
  async linked(fetch, table) {
    const rows: Row[] = [];
    let url: string | undefined = `/linked/${table}?per_page=100`;
    while (url) {
      const response = await fetch(url);
      rows.push(...await response.json());
      const link = response.headers.get("link") ?? "";
      assertMatch(link, /rel="last"/);
      url = /<([^>]+)>; rel="next"/.exec(link)?.[1];
    }
    return rows;
  },
  async hal(fetch, table) {
    const rows: Row[] = [];
    let url: string | null = `/hal/${table}?size=400`;
    while (url) {
      const body: { data: Row[]; links: { next: string | null } } = await (await fetch(url)).json();
      rows.push(...body.data);
      url = body.links.next;
    }
    return rows;
  },
  async nested(fetch, table) {
    const rows: Row[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const body: { result: { items: Row[] }; meta: { next_cursor: string | null } } =
        await (await fetch(`/nested/${table}?limit=333&cursor=${cursor}`)).json();
      rows.push(...body.result.items);
      cursor = body.meta.next_cursor;
    }
    return rows;
  },
};

const TABLES: [string, string, (row: Row) => string][] = [
  ["Orders", "SELECT OrderID FROM Orders ORDER BY OrderID", (r) => String(r.OrderID)],
  [
    "Order%20Details",
    `SELECT OrderID, ProductID FROM "Order Details" ORDER BY OrderID, ProductID`,
    (r) => `${r.OrderID},${r.ProductID}`,
  ],
];

for (const [style, page] of Object.entries(STYLES)) {
  for (const [table, sql, key] of TABLES) {
    Deno.test(`the ${style} style reaches every row of ${decodeURI(table)} exactly once`, async () => {
      const fixture: RoutesFixture = routesFixture();
      try {
        const rows = await page(async (path) => await fixture.routes.request(path), table, key);
        assertEquals(rows.map(key), query(fixture.db, sql).map(key));
      } finally {
        fixture.close();
      }
    });
  }
}

Deno.test("paged past the last page gives no items; linked's last link names the last page", async () => {
  const fixture = routesFixture();
  try {
    const paged = (await fixture.get("/paged/Shippers?per_page=2&page=5")).body as Row;
    assertEquals([paged.items, paged.total_pages], [[], 2]);
    const linked = await fixture.routes.request("/linked/Shippers?per_page=2");
    assertEquals(
      linked.headers.get("link"),
      '<http://localhost/linked/Shippers?per_page=2&page=2>; rel="next", ' +
        '<http://localhost/linked/Shippers?per_page=2&page=2>; rel="last"',
    );
  } finally {
    fixture.close();
  }
});

Deno.test("a bad limit or cursor in any style is a JSON 400", async () => {
  const fixture = routesFixture();
  try {
    for (
      const path of [
        "/v1/Orders?limit=0",
        "/v1/Orders?limit=101",
        "/v1/Orders?starting_after=abc",
        "/offset/Orders?offset=-1",
        "/paged/Orders?page=0",
        "/linked/Orders?per_page=1000",
        "/hal/Orders?size=x",
        "/nested/Orders?cursor=%%%",
      ]
    ) {
      const response = await fixture.get(path);
      assertEquals(response.status, 400, path);
      assertEquals((response.body as { ok: boolean }).ok, false);
    }
    assertEquals((await fixture.get("/v1/Nope")).status, 404);
  } finally {
    fixture.close();
  }
});

Deno.test("the nested cursor is opaque: not the key itself", async () => {
  const fixture = routesFixture();
  try {
    const body = (await fixture.get("/nested/Orders?limit=5")).body as {
      meta: { next_cursor: string };
    };
    assert(body.meta.next_cursor !== "10252");
    const next = (await fixture.get(`/nested/Orders?limit=1&cursor=${body.meta.next_cursor}`))
      .body as { result: { items: Row[] } };
    assertEquals(next.result.items[0].OrderID, 10253);
  } finally {
    fixture.close();
  }
});
