import { assertEquals, assertStringIncludes } from "../assert.ts";
import { Hono } from "hono";
import type { MockEnv } from "../../mock_api/context.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { createRoutes } from "../../mock_api/routes/mod.ts";
import { query, routesFixture, type TablePage } from "./routes_fixture.ts";

const NEW_ORDER = {
  CustomerID: "ALFKI",
  EmployeeID: 1,
  OrderDate: "1998-05-07 00:00:00.000",
  Freight: 12.5,
  ShipCountry: "Germany",
};

Deno.test("insert adds a row (201) that the next read returns", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.post("/northwind/Orders/-/insert", { row: NEW_ORDER });
    assertEquals(response.status, 201);
    assertEquals(response.body, { ok: true });
    const added = query(fixture.db, "SELECT * FROM Orders WHERE OrderID = 11078")[0];
    assertEquals(added.CustomerID, "ALFKI");
    const page = (await fixture.get("/northwind/Orders.json?_next=11077")).body as TablePage;
    assertEquals(page.rows.map((r) => r.OrderID), [11078]);
  } finally {
    fixture.close();
  }
});

Deno.test("insert of several rows with return gives them back with their keys", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.post("/northwind/Order%20Details/-/insert", {
      rows: [
        { OrderID: 11077, ProductID: 1, UnitPrice: 18, Quantity: 3, Discount: 0 },
        { OrderID: 11077, ProductID: 5, UnitPrice: 21.35, Quantity: 1, Discount: 0.1 },
      ],
      return: true,
    });
    assertEquals(response.status, 201);
    const rows = (response.body as { rows: { ProductID: number }[] }).rows;
    assertEquals(rows.map((r) => r.ProductID), [1, 5]);
    assertEquals(query(fixture.db, `SELECT count(*) AS n FROM "Order Details"`)[0].n, 2157);
  } finally {
    fixture.close();
  }
});

Deno.test("a bad row refuses the whole insert: unknown column is a 400, nothing written", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.post("/northwind/Orders/-/insert", {
      rows: [NEW_ORDER, { ...NEW_ORDER, Colour: "red" }],
    });
    assertEquals(response.status, 400);
    assertStringIncludes((response.body as { error: string }).error, "Colour");
    assertEquals(query(fixture.db, "SELECT count(*) AS n FROM Orders")[0].n, 830);
  } finally {
    fixture.close();
  }
});

Deno.test("a duplicate key is a 400 and rolls back", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.post("/northwind/Order%20Details/-/insert", {
      rows: [
        { OrderID: 11077, ProductID: 1, UnitPrice: 18, Quantity: 3 },
        { OrderID: 10248, ProductID: 11, UnitPrice: 1, Quantity: 1 },
      ],
    });
    assertEquals(response.status, 400);
    assertEquals(query(fixture.db, `SELECT count(*) AS n FROM "Order Details"`)[0].n, 2155);
  } finally {
    fixture.close();
  }
});

Deno.test("upsert updates an existing row and inserts a new one", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.post("/northwind/Shippers/-/upsert", {
      rows: [
        { ShipperID: 1, Phone: "(503) 555-0000" },
        { ShipperID: 4, CompanyName: "Tidemark Freight", Phone: "(503) 555-4444" },
      ],
    });
    assertEquals(response.status, 200);
    assertEquals(query(fixture.db, "SELECT * FROM Shippers WHERE ShipperID IN (1, 4)"), [
      { ShipperID: 1, CompanyName: "Speedy Express", Phone: "(503) 555-0000" },
      { ShipperID: 4, CompanyName: "Tidemark Freight", Phone: "(503) 555-4444" },
    ]);
  } finally {
    fixture.close();
  }
});

Deno.test("upsert without the key is a 400", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.post("/northwind/Shippers/-/upsert", {
      row: { Phone: "(503) 555-0000" },
    });
    assertEquals(response.status, 400);
    assertStringIncludes((response.body as { error: string }).error, "ShipperID");
  } finally {
    fixture.close();
  }
});

Deno.test("update changes the row at a compound key; an unknown key is a 404", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.post("/northwind/Order~20Details/10248,11/-/update", {
      update: { Quantity: 99 },
      return: true,
    });
    assertEquals(response.status, 200);
    assertEquals((response.body as { row: { Quantity: number } }).row.Quantity, 99);
    assertEquals(
      query(
        fixture.db,
        `SELECT Quantity FROM "Order Details" WHERE OrderID = 10248 AND ProductID = 11`,
      ),
      [{ Quantity: 99 }],
    );
    const missing = await fixture.post("/northwind/Orders/1/-/update", { update: { Freight: 1 } });
    assertEquals(missing.status, 404);
  } finally {
    fixture.close();
  }
});

Deno.test("delete removes the row; deleting it again is a 404", async () => {
  const fixture = routesFixture();
  try {
    assertEquals((await fixture.post("/northwind/Orders/10250/-/delete", {})).status, 200);
    assertEquals(query(fixture.db, "SELECT * FROM Orders WHERE OrderID = 10250"), []);
    assertEquals((await fixture.post("/northwind/Orders/10250/-/delete", {})).status, 404);
  } finally {
    fixture.close();
  }
});

Deno.test("a body that is not a JSON object is a 400", async () => {
  const fixture = routesFixture();
  try {
    assertEquals((await fixture.post("/northwind/Orders/-/insert", "{not json")).status, 400);
    assertEquals((await fixture.post("/northwind/Orders/-/insert", [1, 2])).status, 400);
    assertEquals((await fixture.post("/northwind/Orders/-/insert", { rows: [] })).status, 400);
  } finally {
    fixture.close();
  }
});

Deno.test("a credential without write permission gets a 403 and changes nothing", async () => {
  const db = generateNorthwind(":memory:");
  try {
    const app = new Hono<MockEnv>();
    app.use(async (c, next) => {
      c.set("canWrite", false);
      await next();
    });
    app.route("/", createRoutes({ db, dbName: "northwind", now: () => 0, seed: 42 }));
    const response = await app.request("/northwind/Orders/10248/-/delete", { method: "POST" });
    assertEquals(response.status, 403);
    assertEquals((await response.json() as { ok: boolean }).ok, false);
    assertEquals(query(db, "SELECT count(*) AS n FROM Orders")[0].n, 830);
  } finally {
    db.close();
  }
});
