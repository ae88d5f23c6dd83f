import { assert, assertEquals } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { runExtract } from "../../lib/sql/extract.ts";
import { openSqliteState } from "../../lib/state/mod.ts";
import { listFiles, parquetRows } from "../sinks/read_back.ts";
import { LINE_ITEMS_BY_YEAR, northwindDb } from "./northwind_fixture.ts";

/** A writable copy of the Northwind fixture and an out folder, removed afterwards. */
async function withCopy(fn: (db: string, out: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-incremental-" });
  try {
    const db = join(dir, "northwind.db");
    await Deno.copyFile(await northwindDb(), db);
    await fn(db, join(dir, "out"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function run(db: string, out: string) {
  return runExtract({
    db,
    ...LINE_ITEMS_BY_YEAR,
    out,
    incrementalColumn: "OrderDate",
    keys: ["OrderID", "ProductID"],
    chunkRows: 700,
  });
}

function keys(rows: Record<string, unknown>[]): string[] {
  return rows.map((r) => `${r.OrderID}/${r.ProductID}`).sort();
}

async function writtenRows(out: string): Promise<Record<string, unknown>[]> {
  const dir = join(out, "parquet", "line_items");
  return (await listFiles(dir, ".parquet")).flatMap((f) => parquetRows(join(dir, f)));
}

/** Adds an order on `date` with two lines; returns its id. */
function addOrder(db: string, date: string): number {
  const conn = new DatabaseSync(db);
  try {
    const { id } = conn.prepare("SELECT max(OrderID) + 1 AS id FROM Orders").get() as {
      id: number;
    };
    conn.prepare(
      "INSERT INTO Orders (OrderID, CustomerID, OrderDate, ShipCountry) VALUES (?, 'VINET', ?, 'France')",
    ).run(id, date);
    const line = conn.prepare(
      `INSERT INTO "Order Details" (OrderID, ProductID, UnitPrice, Quantity, Discount) VALUES (?, ?, 10, 1, 0)`,
    );
    line.run(id, 1);
    line.run(id, 2);
    return id;
  } finally {
    conn.close();
  }
}

Deno.test("an incremental re-run adds only the rows that are new", async () => {
  await withCopy(async (db, out) => {
    const first = await run(db, out);
    const max = first.watermark!.after!;
    const tie = addOrder(db, max); // same OrderDate as the watermark: must not be lost
    const later = addOrder(db, "1998-06-01 00:00:00.000");
    const second = await run(db, out);
    assertEquals(second.rows, 4);
    assertEquals(second.watermark, {
      column: "OrderDate",
      before: max,
      after: "1998-06-01 00:00:00.000",
    });
    const rows = await writtenRows(out);
    assertEquals(rows.length, first.rows + 4);
    assertEquals(new Set(keys(rows)).size, rows.length, "a row was written twice");
    const added = rows.filter((r) => Number(r.OrderID) === tie || Number(r.OrderID) === later);
    assertEquals(keys(added), [`${tie}/1`, `${tie}/2`, `${later}/1`, `${later}/2`]);
  });
});

Deno.test("rows re-read at the watermark are dropped, not written again", async () => {
  await withCopy(async (db, out) => {
    const first = await run(db, out);
    const again = await run(db, out);
    assertEquals(again.rows, 0);
    assert(again.duplicatesDropped > 0);
    assertEquals(again.parts, []);
    assertEquals((await writtenRows(out)).length, first.rows);
  });
});

Deno.test("the watermark lives in the out folder's state file", async () => {
  await withCopy(async (db, out) => {
    const first = await run(db, out);
    const state = openSqliteState(join(out, "state.sqlite"));
    try {
      const watermark = await state.getWatermark("line_items");
      assertEquals(watermark?.lastId, first.watermark!.after);
    } finally {
      await state.close();
    }
  });
});
