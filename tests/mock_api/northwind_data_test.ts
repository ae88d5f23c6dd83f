import { assert, assertEquals, assertMatch, assertNotEquals, assertThrows } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";

function count(db: DatabaseSync, sql: string): number {
  return (db.prepare(sql).get() as { n: number }).n;
}

Deno.test("scale 1 holds exactly the classic 830 orders and 2155 order lines", () => {
  const db = generateNorthwind(":memory:");
  try {
    assertEquals(count(db, "SELECT count(*) AS n FROM Orders"), 830);
    assertEquals(count(db, `SELECT count(*) AS n FROM "Order Details"`), 2155);
    assertEquals(count(db, "SELECT count(*) AS n FROM Customers"), 91);
    assertEquals(count(db, "SELECT count(*) AS n FROM Products"), 77);
    assertEquals(count(db, "SELECT count(*) AS n FROM Employees"), 9);
    assertEquals(count(db, "SELECT count(*) AS n FROM Categories"), 8);
    assertEquals(count(db, "SELECT count(*) AS n FROM Suppliers"), 29);
    assertEquals(count(db, "SELECT count(*) AS n FROM Shippers"), 3);
  } finally {
    db.close();
  }
});

Deno.test("scale N gives 830·N orders and 2155·N lines", () => {
  const db = generateNorthwind(":memory:", { scale: 3, seed: 7 });
  try {
    assertEquals(count(db, "SELECT count(*) AS n FROM Orders"), 2490);
    assertEquals(count(db, `SELECT count(*) AS n FROM "Order Details"`), 6465);
  } finally {
    db.close();
  }
});

Deno.test("tables carry the classic Northwind columns, types and keys", () => {
  const db = generateNorthwind(":memory:");
  try {
    const info = (table: string) =>
      (db.prepare(`SELECT name, type, pk FROM pragma_table_info(?)`).all(table) as {
        name: string;
        type: string;
        pk: number;
      }[]).map((row) => ({ ...row }));
    assertEquals(info("Orders").map((c) => c.name), [
      "OrderID",
      "CustomerID",
      "EmployeeID",
      "OrderDate",
      "RequiredDate",
      "ShippedDate",
      "ShipVia",
      "Freight",
      "ShipName",
      "ShipAddress",
      "ShipCity",
      "ShipRegion",
      "ShipPostalCode",
      "ShipCountry",
    ]);
    assertEquals(info("Order Details"), [
      { name: "OrderID", type: "INTEGER", pk: 1 },
      { name: "ProductID", type: "INTEGER", pk: 2 },
      { name: "UnitPrice", type: "NUMERIC", pk: 0 },
      { name: "Quantity", type: "INTEGER", pk: 0 },
      { name: "Discount", type: "REAL", pk: 0 },
    ]);
    assertEquals(info("Customers").find((c) => c.pk === 1)?.name, "CustomerID");
  } finally {
    db.close();
  }
});

Deno.test("order dates are Northwind date text, start on 1996-07-04 and never fall", () => {
  const db = generateNorthwind(":memory:", { scale: 2 });
  try {
    const rows = db.prepare("SELECT OrderID, OrderDate, RequiredDate FROM Orders ORDER BY OrderID")
      .all() as { OrderID: number; OrderDate: string; RequiredDate: string }[];
    assertEquals({ ...rows[0] }, {
      OrderID: 10248,
      OrderDate: "1996-07-04 00:00:00.000",
      RequiredDate: "1996-08-01 00:00:00.000",
    });
    for (let i = 1; i < rows.length; i++) {
      assertMatch(rows[i].OrderDate, /^\d{4}-\d{2}-\d{2} 00:00:00\.000$/);
      assert(rows[i].OrderDate >= rows[i - 1].OrderDate, `order ${rows[i].OrderID} goes back`);
      assert(rows[i].RequiredDate > rows[i].OrderDate);
    }
  } finally {
    db.close();
  }
});

Deno.test("NULLs appear where Northwind has them: ShipRegion, ShippedDate, Region, Fax", () => {
  const db = generateNorthwind(":memory:");
  try {
    assert(count(db, "SELECT count(*) AS n FROM Orders WHERE ShipRegion IS NULL") > 300);
    assert(count(db, "SELECT count(*) AS n FROM Orders WHERE ShipRegion IS NOT NULL") > 100);
    const unshipped = count(db, "SELECT count(*) AS n FROM Orders WHERE ShippedDate IS NULL");
    assert(unshipped > 0 && unshipped < 60, `${unshipped} unshipped orders`);
    assert(count(db, "SELECT count(*) AS n FROM Customers WHERE Fax IS NULL") > 0);
    assertEquals(count(db, "SELECT count(*) AS n FROM Employees WHERE ReportsTo IS NULL"), 1);
  } finally {
    db.close();
  }
});

Deno.test("every order line points at an existing order and product, once per pair", () => {
  const db = generateNorthwind(":memory:", { scale: 2 });
  try {
    assertEquals(
      count(
        db,
        `SELECT count(*) AS n FROM "Order Details" d
         LEFT JOIN Orders o USING (OrderID) LEFT JOIN Products p USING (ProductID)
         WHERE o.OrderID IS NULL OR p.ProductID IS NULL`,
      ),
      0,
    );
    assertEquals(
      count(
        db,
        `SELECT count(*) AS n FROM Orders WHERE OrderID NOT IN
        (SELECT OrderID FROM "Order Details")`,
      ),
      0,
    );
  } finally {
    db.close();
  }
});

Deno.test("the same scale and seed give a byte-identical file; another seed does not", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const files = ["a.db", "b.db", "c.db"].map((name) => join(dir, name));
    generateNorthwind(files[0], { scale: 2, seed: 5 }).close();
    generateNorthwind(files[1], { scale: 2, seed: 5 }).close();
    generateNorthwind(files[2], { scale: 2, seed: 6 }).close();
    const [a, b, c] = files.map((file) => Deno.readFileSync(file));
    assertEquals(a, b);
    assertNotEquals(a, c);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a database that already has tables is refused", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = join(dir, "taken.db");
    const db = new DatabaseSync(file);
    db.exec("CREATE TABLE t (x)");
    db.close();
    const error = assertThrows(() => generateNorthwind(file), Error);
    assertMatch(error.message, /already has tables/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a scale that is not a positive number is refused, naming it", () => {
  for (const scale of [0, -1, Number.NaN]) {
    const error = assertThrows(() => generateNorthwind(":memory:", { scale }), RangeError);
    assertMatch(error.message, /^scale .* is not a positive number/);
  }
});
