import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { pageToEnd, query, routesFixture, type TablePage } from "./routes_fixture.ts";

Deno.test("paging Orders with next returns every order exactly once, in key order", async () => {
  const fixture = routesFixture();
  try {
    const { rows, pages } = await pageToEnd(fixture, "/northwind/Orders.json?_size=200");
    const expected = query(fixture.db, "SELECT OrderID FROM Orders ORDER BY OrderID");
    assertEquals(rows.map((r) => r.OrderID), expected.map((r) => r.OrderID));
    assertEquals(pages, 5);
    assertEquals(rows[0], query(fixture.db, "SELECT * FROM Orders WHERE OrderID = 10248")[0]);
  } finally {
    fixture.close();
  }
});

Deno.test("paging Order Details (compound key) with next returns every line exactly once", async () => {
  const fixture = routesFixture();
  try {
    const { rows } = await pageToEnd(fixture, "/northwind/Order%20Details.json?_size=150");
    const expected = query(
      fixture.db,
      `SELECT OrderID, ProductID FROM "Order Details" ORDER BY OrderID, ProductID`,
    );
    assertEquals(rows.length, 2155);
    assertEquals(
      rows.map((r) => `${r.OrderID},${r.ProductID}`),
      expected.map((r) => `${r.OrderID},${r.ProductID}`),
    );
  } finally {
    fixture.close();
  }
});

Deno.test("a compound key token is comma-joined: 10248,42 resumes after that line", async () => {
  const fixture = routesFixture();
  try {
    const page = (await fixture.get("/northwind/Order~20Details.json?_size=2&_next=10248,42"))
      .body as TablePage;
    assertEquals(page.rows.map((r) => [r.OrderID, r.ProductID]), [[10248, 72], [10249, 16]]);
    assertEquals(page.next, "10249,16");
  } finally {
    fixture.close();
  }
});

Deno.test("next and next_url are null on the last page", async () => {
  const fixture = routesFixture();
  try {
    const page = (await fixture.get("/northwind/Shippers.json?_size=3")).body as TablePage;
    assertEquals(page.rows.length, 3);
    assertEquals(page.next, null);
    assertEquals(page.next_url, null);
  } finally {
    fixture.close();
  }
});

Deno.test("next_url keeps the request's origin and parameters and carries the token", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.routes.request(
      "http://127.0.0.1:9123/northwind/Orders.json?_size=3&ShipCountry=France",
    );
    const page = await response.json() as TablePage;
    assertEquals(
      page.next_url,
      `http://127.0.0.1:9123/northwind/Orders.json?_size=3&ShipCountry=France&_next=${page.next}`,
    );
    assertEquals(response.headers.get("link"), `<${page.next_url}>; rel="next"`);
  } finally {
    fixture.close();
  }
});

Deno.test("_sort over a column of many equal values pages without loss or repeat", async () => {
  const fixture = routesFixture();
  try {
    const { rows } = await pageToEnd(fixture, "/northwind/Orders.json?_sort=EmployeeID&_size=7");
    const expected = query(fixture.db, "SELECT OrderID FROM Orders ORDER BY EmployeeID, OrderID");
    assertEquals(rows.map((r) => r.OrderID), expected.map((r) => r.OrderID));
  } finally {
    fixture.close();
  }
});

Deno.test("_sort_desc over a column with NULLs pages to the end, NULLs last", async () => {
  const fixture = routesFixture();
  try {
    const { rows } = await pageToEnd(
      fixture,
      "/northwind/Orders.json?_sort_desc=ShippedDate&_size=9",
    );
    const expected = query(
      fixture.db,
      "SELECT OrderID FROM Orders ORDER BY ShippedDate DESC, OrderID",
    );
    assertEquals(rows.map((r) => r.OrderID), expected.map((r) => r.OrderID));
    assertEquals(rows.at(-1)!.ShippedDate, null);
  } finally {
    fixture.close();
  }
});

Deno.test("_sort ascending over a column with NULLs pages to the end, NULLs first", async () => {
  const fixture = routesFixture();
  try {
    const { rows } = await pageToEnd(fixture, "/northwind/Orders.json?_sort=ShipRegion&_size=50");
    const expected = query(fixture.db, "SELECT OrderID FROM Orders ORDER BY ShipRegion, OrderID");
    assertEquals(rows.map((r) => r.OrderID), expected.map((r) => r.OrderID));
  } finally {
    fixture.close();
  }
});

Deno.test("a sorted token is sortvalue,pk and the sorted columns ride along", async () => {
  const fixture = routesFixture();
  try {
    const page = (await fixture.get("/northwind/Order%20Details.json?_sort_desc=UnitPrice&_size=1"))
      .body as TablePage & { sort_desc: string };
    const top = page.rows[0];
    assertEquals(page.sort_desc, "UnitPrice");
    assertEquals(page.next, `263~2E5,${top.OrderID},${top.ProductID}`);
  } finally {
    fixture.close();
  }
});

Deno.test("_size defaults to 100, accepts max, and more than 1000 is a 400", async () => {
  const fixture = routesFixture();
  try {
    assertEquals(
      ((await fixture.get("/northwind/Orders.json")).body as TablePage).rows.length,
      100,
    );
    const max = (await fixture.get("/northwind/Order%20Details.json?_size=max")).body as TablePage;
    assertEquals(max.rows.length, 1000);
    const tooBig = await fixture.get("/northwind/Orders.json?_size=1001");
    assertEquals(tooBig.status, 400);
    assertEquals(tooBig.body, {
      ok: false,
      error: "_size must be <= 1000, got 1001",
      status: 400,
      title: "Bad Request",
    });
    assertEquals((await fixture.get("/northwind/Orders.json?_size=ten")).status, 400);
  } finally {
    fixture.close();
  }
});

Deno.test("a bad _next is a 400 naming it", async () => {
  const fixture = routesFixture();
  try {
    for (
      const path of [
        "/northwind/Orders.json?_next=abc",
        "/northwind/Order%20Details.json?_next=10248",
        "/northwind/Orders.json?_sort=ShipCountry&_next=10250",
        "/northwind/Orders.json?_next=~zz",
      ]
    ) {
      const response = await fixture.get(path);
      assertEquals(response.status, 400, path);
      assertStringIncludes((response.body as { error: string }).error, "_next");
    }
  } finally {
    fixture.close();
  }
});

Deno.test("an unknown database or table is a JSON 404", async () => {
  const fixture = routesFixture();
  try {
    const table = await fixture.get("/northwind/Invoices.json");
    assertEquals(table.status, 404);
    assertEquals((table.body as { ok: boolean }).ok, false);
    assertStringIncludes((table.body as { error: string }).error, "Invoices");
    assertEquals((await fixture.get("/pubs/Orders.json")).status, 404);
  } finally {
    fixture.close();
  }
});

Deno.test("sorting by an unknown column, or both ways at once, is a 400", async () => {
  const fixture = routesFixture();
  try {
    assertEquals((await fixture.get("/northwind/Orders.json?_sort=Price")).status, 400);
    assertEquals(
      (await fixture.get("/northwind/Orders.json?_sort=Freight&_sort_desc=Freight")).status,
      400,
    );
    assertEquals((await fixture.get("/northwind/Orders.json?_col=Nope")).status, 400);
    assertEquals((await fixture.get("/northwind/Orders.json?_shape=table")).status, 400);
  } finally {
    fixture.close();
  }
});

Deno.test("percent-encoded, tilde-encoded and plus-encoded table names are the same table", async () => {
  const fixture = routesFixture();
  try {
    const names = ["Order%20Details", "Order~20Details", "Order+Details"];
    const pages = await Promise.all(
      names.map(async (name) =>
        (await fixture.get(`/northwind/${name}.json?_size=5`)).body as TablePage & {
          table: string;
        }
      ),
    );
    assertEquals(pages[0].table, "Order Details");
    for (const page of pages.slice(1)) {
      assertEquals([page.table, page.rows, page.next], [
        pages[0].table,
        pages[0].rows,
        pages[0].next,
      ]);
    }
  } finally {
    fixture.close();
  }
});

Deno.test("_col and _nocol pick columns but always keep the key", async () => {
  const fixture = routesFixture();
  try {
    const only = (await fixture.get("/northwind/Orders.json?_col=Freight&_col=ShipCity&_size=1"))
      .body as TablePage;
    assertEquals(only.columns, ["OrderID", "Freight", "ShipCity"]);
    assertEquals(Object.keys(only.rows[0]), ["OrderID", "Freight", "ShipCity"]);
    const without = (await fixture.get("/northwind/Orders.json?_nocol=ShipAddress&_nocol=OrderID"))
      .body as TablePage;
    assert(!without.columns.includes("ShipAddress"));
    assert(without.columns.includes("OrderID"));
  } finally {
    fixture.close();
  }
});

Deno.test("_shape=arrays, array and object give Datasette's shapes", async () => {
  const fixture = routesFixture();
  try {
    const arrays = (await fixture.get("/northwind/Shippers.json?_shape=arrays")).body as {
      rows: unknown[][];
    };
    assertEquals(arrays.rows[0], [1, "Speedy Express", "(503) 555-9831"]);
    const array = await fixture.get("/northwind/Shippers.json?_shape=array&_size=2");
    assertEquals(array.body, [
      { ShipperID: 1, CompanyName: "Speedy Express", Phone: "(503) 555-9831" },
      { ShipperID: 2, CompanyName: "United Package", Phone: "(503) 555-3199" },
    ]);
    assertMatch(array.headers.get("link") ?? "", /_next=2>; rel="next"$/);
    const object = await fixture.get(
      "/northwind/Order%20Details.json?_shape=object&_size=2&_col=Quantity",
    );
    assertEquals(object.body, {
      "10248,11": { OrderID: 10248, ProductID: 11, Quantity: 12 },
      "10248,42": { OrderID: 10248, ProductID: 42, Quantity: 10 },
    });
  } finally {
    fixture.close();
  }
});

Deno.test("_extra=count adds the count of the filtered rows", async () => {
  const fixture = routesFixture();
  try {
    const page = (await fixture.get("/northwind/Orders.json?ShipCountry=Germany&_extra=count"))
      .body as TablePage;
    const expected = query(
      fixture.db,
      "SELECT count(*) AS n FROM Orders WHERE ShipCountry = ?",
      "Germany",
    );
    assertEquals(page.count, expected[0].n);
    const plain = (await fixture.get("/northwind/Orders.json")).body as TablePage;
    assertEquals(plain.count, undefined);
  } finally {
    fixture.close();
  }
});

Deno.test("the row endpoint finds a row by its tilde-encoded key", async () => {
  const fixture = routesFixture();
  try {
    const found = await fixture.get("/northwind/Order~20Details/10248,42.json");
    assertEquals((found.body as TablePage).rows, [
      { OrderID: 10248, ProductID: 42, UnitPrice: 9.8, Quantity: 10, Discount: 0 },
    ]);
    assertEquals((await fixture.get("/northwind/Orders/99999.json")).status, 404);
  } finally {
    fixture.close();
  }
});

Deno.test("the database endpoint lists the tables with columns, keys and counts", async () => {
  const fixture = routesFixture();
  try {
    const body = (await fixture.get("/northwind.json")).body as {
      tables: { name: string; primary_keys: string[]; count: number }[];
    };
    const details = body.tables.find((t) => t.name === "Order Details")!;
    assertEquals(details.primary_keys, ["OrderID", "ProductID"]);
    assertEquals(details.count, 2155);
    assertEquals(body.tables.length, 8);
  } finally {
    fixture.close();
  }
});

function otherDatabase(): DatabaseSync {
  const db = new DatabaseSync(":memory:");
  db.exec(`
    CREATE TABLE notes (body TEXT, score);
    CREATE TABLE "a/b" (code TEXT PRIMARY KEY, label TEXT);
    CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB);
    CREATE VIEW top_notes AS SELECT body, score FROM notes WHERE score > 2;
  `);
  const note = db.prepare("INSERT INTO notes VALUES (?, ?)");
  for (let i = 0; i < 25; i++) note.run(`note ${i}`, i % 5);
  const code = db.prepare(`INSERT INTO "a/b" VALUES (?, ?)`);
  for (const c of ["x,y", "a b", "a/b", "~24null", "$null", "z"]) code.run(c, `label ${c}`);
  db.prepare("INSERT INTO files VALUES (1, ?)").run(new Uint8Array([0, 1, 2, 255]));
  return db;
}

Deno.test("any SQLite file works: a rowid table pages by rowid, which comes first", async () => {
  const fixture = routesFixture(otherDatabase());
  try {
    const first = (await fixture.get("/northwind/notes.json?_size=10")).body as TablePage & {
      primary_keys: string[];
    };
    assertEquals(first.columns, ["rowid", "body", "score"]);
    assertEquals(first.primary_keys, []);
    assertEquals(first.next, "10");
    const { rows } = await pageToEnd(fixture, "/northwind/notes.json?_size=10&_sort=score");
    assertEquals(
      rows.map((r) => r.rowid),
      query(fixture.db, "SELECT rowid FROM notes ORDER BY score, rowid").map((r) => r.rowid),
    );
  } finally {
    fixture.close();
  }
});

Deno.test("text keys with commas, slashes and spaces round-trip through tokens", async () => {
  const fixture = routesFixture(otherDatabase());
  try {
    const { rows } = await pageToEnd(fixture, "/northwind/a~2Fb.json?_size=1");
    assertEquals(
      rows.map((r) => r.code),
      query(fixture.db, `SELECT code FROM "a/b" ORDER BY code`).map((r) => r.code),
    );
    const row = await fixture.get("/northwind/a~2Fb/x~2Cy.json");
    assertEquals((row.body as TablePage).rows[0].label, "label x,y");
  } finally {
    fixture.close();
  }
});

Deno.test("a view pages by offset", async () => {
  const fixture = routesFixture(otherDatabase());
  try {
    const { rows } = await pageToEnd(fixture, "/northwind/top_notes.json?_size=4");
    assertEquals(rows.length, 10);
  } finally {
    fixture.close();
  }
});

Deno.test("BLOB values are served as Datasette's base64 objects", async () => {
  const fixture = routesFixture(otherDatabase());
  try {
    const page = (await fixture.get("/northwind/files.json")).body as TablePage;
    assertEquals(page.rows[0].data, { $base64: true, encoded: "AAEC/w==" });
  } finally {
    fixture.close();
  }
});
