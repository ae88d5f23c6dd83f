/**
 * `deno task generic` end to end: customers, then each customer's orders taken from
 * the customers' records, ten ids a request; the orders equal the direct join of the source
 * tables, kept in the ELT shape, and a re-run merges instead of duplicating.
 */
import { join } from "node:path";
import pl from "nodejs-polars";
import { GENERIC_JOB } from "../../jobs/generic.ts";
import { parquetFiles } from "../../lib/sinks/write_mode.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { assertEquals } from "../assert.ts";
import { runJob, tempDir } from "./job_fixture.ts";

async function frame(out: string, asset: string): Promise<pl.DataFrame> {
  const files = await parquetFiles(join(out, "parquet", asset));
  return pl.concat(files.map((f) => pl.readParquet(f)), { how: "diagonalRelaxed" });
}

/** The orders of every customer, joined in the source the job's mock serves (scale 1, seed 42). */
function joinedOrders(): string[] {
  const db = generateNorthwind(":memory:", { scale: 1, seed: 42 });
  try {
    return (db.prepare(
      `SELECT o.OrderID AS id FROM Orders o JOIN Customers c ON c.CustomerID = o.CustomerID`,
    ).all() as { id: number }[]).map((r) => String(r.id)).sort();
  } finally {
    db.close();
  }
}

Deno.test("generic job: the orders step equals the direct join, and a re-run merges", async () => {
  const dir = await tempDir();
  try {
    const out = join(dir, "out");
    const first = await runJob(GENERIC_JOB, ["--out", out]);
    assertEquals(first.code, 0, first.stderr.slice(-2000));
    const expected = joinedOrders();
    const orders = await frame(out, "orders");
    const ids = (orders.getColumn("OrderID").toArray() as number[]).map(String).sort();
    assertEquals(ids, expected);
    assertEquals(
      orders.columns.sort(),
      ["OrderID", "customer", "extracted_at", "insert_id", "raw_data", "source"],
    );
    const customers = await frame(out, "customers");
    assertEquals(customers.height, 91);
    assertEquals(customers.getColumn("source").toArray()[0], "northwind_api");

    const second = await runJob(GENERIC_JOB, ["--out", out]);
    assertEquals(second.code, 0, second.stderr.slice(-2000));
    assertEquals((await frame(out, "orders")).height, expected.length, "merged, not appended");
    assertEquals((await frame(out, "customers")).height, 91, "replaced, not appended");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
