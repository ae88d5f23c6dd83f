/**
 * The Northwind SQL extraction: Orders ⋈ "Order Details" from `:start`, written
 * as Parquet partitioned by year to `<out>/parquet/line_items/year=YYYY/`, with manifest, state
 * and report. Incremental on `OrderDate` (keys `OrderID`, `ProductID`), so running it again adds
 * only new rows. Generates the Northwind database (scale 1) first when it is missing, so a new
 * user can just run `deno task northwind_sql`.
 *
 * Usage: `deno task northwind_sql [--db sql-out/northwind.db] [--out sql-out] [--start 1997-01-01]`
 * @module
 */
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { commitTemporaryFile, temporaryPathFor } from "../lib/core/atomic_file.ts";
import { TidemarkError } from "../lib/core/errors.ts";
import { runExtract } from "../lib/sql/extract.ts";
import { formatResult } from "../lib/cli/extract.ts";
import { generateNorthwind } from "../mock_api/data/northwind.ts";

/** The Northwind line-items query: every order line from `:start`, in order date order. */
export const LINE_ITEMS_QUERY = `SELECT o.OrderID, o.CustomerID, o.OrderDate, o.ShipCountry,
       d.ProductID, d.UnitPrice, d.Quantity, d.Discount
FROM Orders o
JOIN "Order Details" d ON o.OrderID = d.OrderID
WHERE o.OrderDate >= :start
ORDER BY o.OrderDate`;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      db: { type: "string", default: "sql-out/northwind.db" },
      out: { type: "string", default: "sql-out" },
      start: { type: "string", default: "1997-01-01" },
    },
    strict: true,
  });
  const db = values.db!;
  if (!(await Deno.stat(db).catch(() => null))) {
    console.log(`${db} not found: generating the Northwind database (scale 1)`);
    await Deno.mkdir(dirname(db), { recursive: true });
    const tmp = temporaryPathFor(db);
    try {
      generateNorthwind(tmp, { scale: 1 }).close();
      await commitTemporaryFile(tmp, db);
    } catch (error) {
      await Deno.remove(tmp).catch(() => {});
      throw error;
    }
  }
  const result = await runExtract({
    db,
    query: LINE_ITEMS_QUERY,
    params: { start: values.start! },
    out: values.out!,
    asset: "line_items",
    partitionBy: ["year(OrderDate)"],
    incrementalColumn: "OrderDate",
    keys: ["OrderID", "ProductID"],
  });
  console.log(formatResult(result));
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    if (error instanceof TidemarkError) {
      console.error(`northwind_sql: ${error.message}`);
      Deno.exit(error.exitCode);
    }
    if (error instanceof Deno.errors.NotCapable) {
      console.error(
        `northwind_sql: permission denied: ${error.message}\n` +
          "  the task may read and write only under sql-out/; keep --db and --out there",
      );
      Deno.exit(2);
    }
    throw error;
  }
}
