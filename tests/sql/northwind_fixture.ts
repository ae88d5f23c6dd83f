/**
 * A Northwind SQLite file for the SQL tests: generated once per test process into a temporary
 * folder (scale 1: 830 orders, 2155 lines) and removed when the process exits; the line-items
 * extraction; temporary out folders.
 * @module
 */
import { join } from "node:path";
import { LINE_ITEMS_QUERY } from "../../jobs/northwind_sql.ts";
import type { ExtractOptions } from "../../lib/sql/extract.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { listFiles, parquetRows } from "../sinks/read_back.ts";
import { tempFolders } from "../temp_dir.ts";

let cached: Promise<string> | undefined;

/** Path of a scale-1 Northwind database shared by the tests of one process. */
export function northwindDb(): Promise<string> {
  cached ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "tidemark-sql-" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* already gone */ }
    });
    const path = join(dir, "northwind.db");
    generateNorthwind(path, { scale: 1, seed: 42 }).close();
    return path;
  })();
  return cached;
}

/** The line-items query (Orders ⋈ Order Details from `:start`), as the job and the bench run it. */
export { LINE_ITEMS_QUERY } from "../../jobs/northwind_sql.ts";

/** The `:start` of the line-items extraction. */
export const LINE_ITEMS_START = "1997-01-01";

/** The line-items extraction: {@link LINE_ITEMS_QUERY} from {@link LINE_ITEMS_START}, by year. */
export const LINE_ITEMS_BY_YEAR: Pick<
  ExtractOptions,
  "query" | "params" | "asset" | "partitionBy"
> = {
  query: LINE_ITEMS_QUERY,
  params: { start: LINE_ITEMS_START },
  asset: "line_items",
  partitionBy: ["year(OrderDate)"],
};

/** Runs `fn` with a fresh out folder, removed afterwards. */
export const withOut = tempFolders("tidemark-extract-");

/** The rows of every Parquet part under `dir`, by partition folder (`year=1997`). */
export async function readParts(dir: string): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const file of await listFiles(dir, ".parquet")) {
    const folder = file.split("/").slice(0, -1).join("/");
    (out[folder] ??= []).push(...parquetRows(join(dir, file)));
  }
  return out;
}

/** The same query with every identifier quoted, as PostgreSQL needs for mixed-case names. */
export const LINE_ITEMS_QUERY_QUOTED = `SELECT o."OrderID", o."CustomerID", o."OrderDate",
       o."ShipCountry", d."ProductID", d."UnitPrice", d."Quantity", d."Discount"
FROM "Orders" o
JOIN "Order Details" d ON o."OrderID" = d."OrderID"
WHERE o."OrderDate" >= :start
ORDER BY o."OrderDate", o."OrderID", d."ProductID"`;
