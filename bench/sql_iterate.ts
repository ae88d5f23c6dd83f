/**
 * The reader measurement behind `bench/sql_extract.ts`'s reasons, run as its own process so
 * nothing else shares its heap: one query read two ways with `node:sqlite`, doing nothing with
 * the rows —
 *
 * - the query alone, inside SQLite (`count(*)` over it, its ORDER BY kept by `LIMIT -1`);
 * - `StatementSync.iterate()` in array mode (one call into SQLite per row);
 * - `streamPages` (`lib/sql/sqlite_stream.ts`, what the reader thread does): the query with an
 *   aggregate function of ours that gathers pages of 4096 rows as columns (doubles, joined
 *   text) while it runs;
 * - the query run once into a temporary table (`INSERT … SELECT`), then read back a page of
 *   4096 rows at a time by rowid, with `all()` (an array per row) and as one
 *   `json_group_array()` per column, parsed with `JSON.parse` — what `lib/sql/sqlite_read.ts`
 *   does for the inline source (and the parse is what the main thread does with a page's
 *   columns of mixed values).
 *
 * Prints one JSON line: rows and seconds of each.
 *
 * Usage: `deno run --allow-read bench/sql_iterate.ts DB QUERY START`
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { streamPages } from "../lib/sql/sqlite_stream.ts";

type ArrayStatement = StatementSync & { setReturnArrays(on: boolean): void };

/** What one read cost. */
export interface ReadTimes {
  /** Rows of the result. */
  rows: number;
  /** The query alone, inside SQLite: wall seconds. */
  querySeconds: number;
  /** `iterate()` over the query: wall seconds. */
  iterateSeconds: number;
  /** `streamPages` over the query (pages built, query included): wall seconds. */
  streamSeconds: number;
  /** Filling the temporary table: wall seconds. */
  fillSeconds: number;
  /** Reading the table back page by page with `all()`: wall seconds. */
  pageSeconds: number;
  /** Reading it back as JSON columns: SQLite's seconds (the reader thread's share). */
  jsonSeconds: number;
  /** Parsing those JSON columns: seconds (the main thread's share). */
  parseSeconds: number;
}

/** Reads `query` both ways on `path`. */
export function measureReads(path: string, query: string, start: string): ReadTimes {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    let t0 = performance.now();
    const statement = db.prepare(query) as ArrayStatement;
    statement.setReturnArrays(true);
    let rows = 0;
    for (const _ of statement.iterate({ start })) rows++;
    const iterateSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    db.prepare(`SELECT count(*) FROM (${query} LIMIT -1)`).get({ start });
    const querySeconds = (performance.now() - t0) / 1000;
    const width = statement.columns().length;
    const columns = Array.from({ length: width }, (_, i) => ({
      name: `c${i}`,
      declaredType: null,
      hint: "any" as const,
    }));
    t0 = performance.now();
    // As the reader thread runs it: positional values, the page handed over and dropped.
    const text = query.replace(":start", "?1");
    streamPages(db, { columns, values: [start], text }, 4096, () => {});
    const streamSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    db.exec("PRAGMA temp_store = FILE");
    db.exec(`CREATE TEMP TABLE r (${Array.from({ length: width }, (_, i) => `c${i}`).join(", ")})`);
    db.prepare(`INSERT INTO temp.r SELECT * FROM (${query})`).run({ start });
    const fillSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const page = db.prepare(
      "SELECT * FROM temp.r WHERE rowid > ? ORDER BY rowid LIMIT 4096",
    ) as ArrayStatement;
    page.setReturnArrays(true);
    let last = 0;
    for (;;) {
      const got = page.all(last).length;
      if (got === 0) break;
      last += got;
    }
    const pageSeconds = (performance.now() - t0) / 1000;
    if (last !== rows) throw new Error(`paged ${last} rows, iterated ${rows}`);
    const arrays = Array.from({ length: width }, (_, i) => `json_group_array(c${i})`).join(", ");
    const json = db.prepare(
      `SELECT count(*), ${arrays} FROM temp.r WHERE rowid BETWEEN ? AND ?`,
    ) as ArrayStatement;
    json.setReturnArrays(true);
    let jsonSeconds = 0;
    let parseSeconds = 0;
    last = 0;
    for (;;) {
      t0 = performance.now();
      const [count, ...texts] = json.get(last + 1, last + 4096) as unknown as [number, ...string[]];
      const t1 = performance.now();
      jsonSeconds += (t1 - t0) / 1000;
      if (count === 0) break;
      for (const text of texts) JSON.parse(text);
      parseSeconds += (performance.now() - t1) / 1000;
      last += count;
    }
    return {
      rows,
      querySeconds,
      iterateSeconds,
      streamSeconds,
      fillSeconds,
      pageSeconds,
      jsonSeconds,
      parseSeconds,
    };
  } finally {
    db.close();
  }
}

if (import.meta.main) {
  const [db, query, start] = Deno.args;
  const times = measureReads(db, query, start);
  if (times.rows === 0) {
    console.error("the query returned no rows");
    Deno.exit(1);
  }
  console.log(JSON.stringify(times));
}
