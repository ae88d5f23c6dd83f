import { assertEquals, assertStringIncludes } from "../assert.ts";
import { pageToEnd, query, type RoutesFixture, routesFixture } from "./routes_fixture.ts";

/** The OrderIDs the endpoint returns for `filters`, paged to the end. */
async function served(fixture: RoutesFixture, filters: string): Promise<unknown[]> {
  const { rows } = await pageToEnd(fixture, `/northwind/Orders.json?_size=1000&${filters}`);
  return rows.map((r) => r.OrderID);
}

/** The OrderIDs SQLite returns for `where`. */
function direct(fixture: RoutesFixture, where: string, ...params: (string | number)[]) {
  return query(fixture.db, `SELECT OrderID FROM Orders WHERE ${where} ORDER BY OrderID`, ...params)
    .map((r) => r.OrderID);
}

const CASES: [string, string, (string | number)[]][] = [
  ["ShipCountry=France", "ShipCountry = ?", ["France"]],
  ["ShipCountry__exact=France", "ShipCountry = ?", ["France"]],
  ["ShipCountry__not=France", "ShipCountry != ?", ["France"]],
  ["EmployeeID=5", "EmployeeID = ?", [5]],
  ["Freight__gt=100", "Freight > ?", [100]],
  ["Freight__gte=32.38", "Freight >= ?", [32.38]],
  ["Freight__lt=9.5", "Freight < ?", [9.5]],
  ["Freight__lte=10", "Freight <= ?", [10]],
  ["OrderDate__gte=1998-01-01", "OrderDate >= ?", ["1998-01-01"]],
  ["ShipName__contains=market", "ShipName LIKE ?", ["%market%"]],
  ["ShipName__startswith=La", "ShipName LIKE ?", ["La%"]],
  ["ShipName__endswith=Handel", "ShipName LIKE ?", ["%Handel"]],
  ["ShipCountry__in=France,Germany", "ShipCountry IN (?, ?)", ["France", "Germany"]],
  ['ShipCountry__in=["UK","Spain"]', "ShipCountry IN (?, ?)", ["UK", "Spain"]],
  ["EmployeeID__in=1,9", "EmployeeID IN (?, ?)", [1, 9]],
  ["EmployeeID__in=[2,3]", "EmployeeID IN (?, ?)", [2, 3]],
  ["ShipRegion__isnull=1", "ShipRegion IS NULL", []],
  ["ShippedDate__notnull=1", "ShippedDate IS NOT NULL", []],
  ["ShipCountry=Germany&EmployeeID__lte=3", "ShipCountry = ? AND EmployeeID <= ?", ["Germany", 3]],
];

for (const [filters, where, params] of CASES) {
  Deno.test(`filter ${filters} returns what SQLite returns for ${where}`, async () => {
    const fixture = routesFixture();
    try {
      const expected = direct(fixture, where, ...params);
      // A filter that matches nothing or everything would prove little.
      assertEquals(expected.length > 0 && expected.length < 830, true, `${expected.length} rows`);
      assertEquals(await served(fixture, encodeURI(filters)), expected);
    } finally {
      fixture.close();
    }
  });
}

Deno.test("numbers compare as numbers on numeric columns (Freight > 100 is not text order)", async () => {
  const fixture = routesFixture();
  try {
    const rows = await pageToEnd(fixture, "/northwind/Orders.json?_size=1000&Freight__gt=100");
    const freights = rows.rows.map((row) => row.Freight as number);
    // As text, "99.5" > "100" and 250 < "100" would both go wrong.
    assertEquals(freights.length > 50, true, `${freights.length} rows`);
    assertEquals(freights.every((freight) => freight > 100), true);
    assertEquals(freights.some((freight) => freight >= 200), true);
  } finally {
    fixture.close();
  }
});

Deno.test("filtering on an unknown column, or an unknown operator, is a 400", async () => {
  const fixture = routesFixture();
  try {
    for (const path of ["Price=3", "Freight__between=1", 'OrderID"--=1']) {
      const response = await fixture.get(`/northwind/Orders.json?${encodeURI(path)}`);
      assertEquals(response.status, 400, path);
      assertStringIncludes((response.body as { error: string }).error, "unknown column");
    }
  } finally {
    fixture.close();
  }
});

Deno.test("a malformed JSON list for __in is a 400", async () => {
  const fixture = routesFixture();
  try {
    const response = await fixture.get(
      `/northwind/Orders.json?ShipCountry__in=${encodeURIComponent("[1,")}`,
    );
    assertEquals(response.status, 400);
  } finally {
    fixture.close();
  }
});

Deno.test("SQL in a filter value is only a value: nothing matches and nothing is dropped", async () => {
  const fixture = routesFixture();
  try {
    const value = encodeURIComponent("'; DROP TABLE Orders; --");
    assertEquals(await served(fixture, `ShipCountry=${value}`), []);
    assertEquals(await served(fixture, `ShipName__contains=${value}`), []);
    assertEquals(query(fixture.db, "SELECT count(*) AS n FROM Orders")[0].n, 830);
  } finally {
    fixture.close();
  }
});

Deno.test("filters combine with _sort and still page without loss", async () => {
  const fixture = routesFixture();
  try {
    const { rows } = await pageToEnd(
      fixture,
      "/northwind/Orders.json?_size=13&_sort=ShipCity&ShipCountry__in=France,Germany,Brazil",
    );
    const expected = query(
      fixture.db,
      `SELECT OrderID FROM Orders WHERE ShipCountry IN ('France', 'Germany', 'Brazil')
       ORDER BY ShipCity, OrderID`,
    );
    assertEquals(rows.map((r) => r.OrderID), expected.map((r) => r.OrderID));
  } finally {
    fixture.close();
  }
});
