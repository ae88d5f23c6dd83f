/**
 * The bare-iterate floor of `bench/sql_extract.ts`, run as its own process: iterates a query
 * with `node:sqlite` (`StatementSync.iterate()`, array mode) and does nothing with the rows.
 * Imports nothing else, so its time and RSS are node:sqlite's alone.
 *
 * Usage: `deno run --allow-read bench/sql_iterate.ts DB QUERY START`
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";

if (import.meta.main) {
  const [db, query, start] = Deno.args;
  const conn = new DatabaseSync(db, { readOnly: true });
  const statement = conn.prepare(query) as StatementSync & {
    setReturnArrays(on: boolean): void;
  };
  statement.setReturnArrays(true);
  let rows = 0;
  for (const _ of statement.iterate({ start })) rows++;
  conn.close();
  if (rows === 0) {
    console.error("the query returned no rows");
    Deno.exit(1);
  }
}
