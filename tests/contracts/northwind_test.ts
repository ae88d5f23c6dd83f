import { assertEquals } from "../assert.ts";
import {
  contractColumnTypes,
  orderDetailsContract,
  ordersContract,
  validateBatch,
} from "../../lib/contracts/mod.ts";

const order = {
  OrderID: 10248,
  CustomerID: "VINET",
  EmployeeID: 5,
  OrderDate: "1996-07-04 00:00:00.000",
  RequiredDate: "1996-08-01 00:00:00.000",
  ShippedDate: null,
  ShipVia: 3,
  Freight: 32.38,
  ShipName: "Vins et alcools Chevalier",
  ShipAddress: "59 rue de l'Abbaye",
  ShipCity: "Reims",
  ShipRegion: null,
  ShipPostalCode: "51100",
  ShipCountry: "France",
};

Deno.test("a valid order comes out coerced: dates as UTC Dates, ids as numbers", () => {
  const { valid, rejects } = validateBatch([{ ...order, OrderID: "10248" }], ordersContract);
  assertEquals(rejects, []);
  assertEquals(valid[0].OrderID, 10248);
  assertEquals(valid[0].OrderDate, new Date("1996-07-04T00:00:00Z"));
  assertEquals(valid[0].ShippedDate, null);
});

Deno.test("an order is rejected for a non-positive id, an unparsable date or negative freight", () => {
  const { valid, rejects } = validateBatch([
    order,
    { ...order, OrderID: 0, OrderDate: "someday", Freight: -1 },
  ], ordersContract);
  assertEquals(valid.length, 1);
  assertEquals(rejects.length, 1);
  assertEquals(rejects[0].index, 1);
  assertEquals(rejects[0].issues.map((i) => i.path), ["OrderID", "OrderDate", "Freight"]);
  assertEquals(
    rejects[0].issues[1].message,
    'expected a date like "1996-07-04 00:00:00.000", got "someday"',
  );
});

Deno.test("an order line is rejected for quantity 0 and discount outside [0, 1]", () => {
  const line = { OrderID: 10248, ProductID: 11, UnitPrice: 14, Quantity: 12, Discount: 0 };
  const { valid, rejects } = validateBatch([
    line,
    { ...line, Quantity: 0 },
    { ...line, Discount: 1.5 },
    { ...line, Discount: -0.1, UnitPrice: -1 },
    { ...line, Quantity: 2.5 },
  ], orderDetailsContract);
  assertEquals(valid, [line]);
  assertEquals(rejects.map((r) => r.issues.map((i) => i.path)), [
    ["Quantity"],
    ["Discount"],
    ["UnitPrice", "Discount"],
    ["Quantity"],
  ]);
});

Deno.test("a missing required field is reported by its path", () => {
  const { rejects } = validateBatch([{ OrderID: 1, ProductID: 2 }], orderDetailsContract);
  assertEquals(rejects[0].issues.map((i) => i.path), ["UnitPrice", "Quantity", "Discount"]);
});

Deno.test("contracts declare the sink column types of their assets", () => {
  assertEquals(contractColumnTypes("order_details"), {
    OrderID: "int64",
    ProductID: "int64",
    UnitPrice: "float64",
    Quantity: "int64",
    Discount: "float64",
  });
  const orders = contractColumnTypes("orders");
  assertEquals(
    [orders.OrderID, orders.OrderDate, orders.ShippedDate, orders.Freight, orders.ShipRegion],
    ["int64", "timestamp", "timestamp", "float64", "string"],
  );
});
