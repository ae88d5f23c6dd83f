import { assertAlmostEquals, assertEquals, assertRejects } from "../assert.ts";
import { join } from "node:path";
import { deriveDataset } from "../../lib/transform/derive.ts";
import { openSink } from "../../lib/sinks/mod.ts";
import { parquetFiles } from "../../lib/sinks/write_mode.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import { parquetRows } from "../sinks/read_back.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark_derive_");

interface Detail {
  OrderID: number;
  ProductID: number;
  UnitPrice: number;
  Quantity: number;
  Discount: number;
}

/** 60 orders over 1996–1998, 1–3 lines each, plus lines of an order that does not exist. */
function northwind(textDates: boolean) {
  const orders: Record<string, unknown>[] = [];
  const details: Detail[] = [];
  for (let i = 0; i < 60; i++) {
    const date = new Date(Date.UTC(1996, 6, 4) + i * 12 * 86_400_000);
    orders.push({
      OrderID: 10248 + i,
      CustomerID: `C${i % 7}`,
      OrderDate: textDates ? date.toISOString().replace("T", " ").slice(0, 23) : date,
      Freight: i * 1.5,
    });
    for (let k = 0; k <= i % 3; k++) {
      details.push({
        OrderID: 10248 + i,
        ProductID: 1 + ((i + k) % 77),
        UnitPrice: 10 + k,
        Quantity: 1 + k,
        Discount: k === 2 ? 0.25 : 0,
      });
    }
  }
  details.push({ OrderID: 99999, ProductID: 1, UnitPrice: 1, Quantity: 1, Discount: 0 });
  return { orders, details };
}

async function harvest(out: string, textDates = false) {
  const { orders, details } = northwind(textDates);
  const o = await openSink(join(out, "parquet", "Orders"), { format: "parquet", runId: "h1" });
  // Two parts each, as a paged harvest writes them.
  await o.writeRows(orders.slice(0, 30));
  await o.writeRows(orders.slice(30));
  await o.close();
  const d = await openSink(join(out, "parquet", "Order Details"), {
    format: "parquet",
    runId: "h1",
    columns: { Discount: "float64", UnitPrice: "float64" },
  });
  await d.writeRows(details.slice(0, 50) as unknown as Record<string, unknown>[]);
  await d.writeRows(details.slice(50) as unknown as Record<string, unknown>[]);
  await d.close();
  return { orders, details };
}

const lineItems = {
  from: "Order Details",
  join: { asset: "Orders", on: ["OrderID"] },
  columns: { extended_price: "UnitPrice · Quantity · (1 − Discount)" },
  partitionBy: ["year(OrderDate)"],
};

function expectedYears(orders: Record<string, unknown>[], details: Detail[]) {
  const yearOf = new Map(
    orders.map((
      o,
    ) => [
      o.OrderID,
      String(
        o.OrderDate instanceof Date
          ? o.OrderDate.getUTCFullYear()
          : (o.OrderDate as string).slice(0, 4),
      ),
    ]),
  );
  const counts: Record<string, number> = {};
  for (const d of details) {
    const year = yearOf.get(d.OrderID);
    if (year) counts[year] = (counts[year] ?? 0) + 1;
  }
  return counts;
}

Deno.test("line_items holds every order line with an order, by OrderDate year", async () => {
  await withDir(async (out) => {
    const { orders, details } = await harvest(out);
    const result = await deriveDataset(out, "line_items", { runId: "d1", ...lineItems });
    const expected = expectedYears(orders, details);
    assertEquals(result.rows, details.length - 1);
    assertEquals(
      Object.fromEntries(result.parts.map((p) => [p.partition.year, p.rows])),
      expected,
    );
    assertEquals(result.parts.map((p) => p.relativePath), [
      "year=1996/part-d1-00001.parquet",
      "year=1997/part-d1-00001.parquet",
      "year=1998/part-d1-00001.parquet",
    ]);
    const rows = (await parquetFiles(join(out, "parquet", "line_items"))).flatMap(parquetRows);
    assertEquals(rows.length, details.length - 1);
    for (const row of rows) {
      const expectedPrice = (row.UnitPrice as number) * Number(row.Quantity) *
        (1 - (row.Discount as number));
      assertAlmostEquals(row.extended_price as number, expectedPrice, 1e-9);
    }
    assertEquals(typeof rows[0].CustomerID, "string");
  });
});

Deno.test("line_items partitions by year from text dates too", async () => {
  await withDir(async (out) => {
    const { orders, details } = await harvest(out, true);
    const result = await deriveDataset(out, "line_items", { runId: "d1", ...lineItems });
    assertEquals(
      Object.fromEntries(result.parts.map((p) => [p.partition.year, p.rows])),
      expectedYears(orders, details),
    );
  });
});

Deno.test("deriving again replaces the dataset instead of adding to it", async () => {
  await withDir(async (out) => {
    const { details } = await harvest(out);
    await deriveDataset(out, "line_items", { runId: "d1", ...lineItems });
    await deriveDataset(out, "line_items", { runId: "d2", ...lineItems });
    const files = await parquetFiles(join(out, "parquet", "line_items"));
    assertEquals(files.every((f) => f.includes("part-d2-")), true);
    assertEquals(files.flatMap(parquetRows).length, details.length - 1);
  });
});

Deno.test("a derive over a missing asset or column is a config error naming it", async () => {
  await withDir(async (out) => {
    await harvest(out);
    await assertRejects(
      () => deriveDataset(out, "x", { runId: "d", from: "Order Detail" }),
      ConfigError,
      '"Order Detail"',
    );
    await assertRejects(
      () =>
        deriveDataset(out, "x", {
          runId: "d",
          from: "Order Details",
          columns: { p: "UnitPrice * Qty" },
        }),
      ConfigError,
      '"Qty"',
    );
    await assertRejects(
      () =>
        deriveDataset(out, "x", {
          runId: "d",
          from: "Order Details",
          join: { asset: "Orders", on: ["OrderId"] },
        }),
      ConfigError,
      '"OrderId"',
    );
  });
});
