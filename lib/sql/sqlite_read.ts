/**
 * The SQLite side of reading a query, light enough for the reader thread (`node:sqlite` and
 * the error classes only): open the file read-only, prepare the query, run it once into a
 * temporary table, and read that table back a page at a time as one JSON array per column.
 *
 * Why a temporary table and JSON pages, not `StatementSync.iterate()`:
 * - Speed. `iterate()` crosses from JavaScript into SQLite once per row, about 2.5 µs a row in
 *   Deno 2.9, and `all()` builds every cell through the engine's API (about 0.8 µs a row);
 *   `json_group_array()` builds each column of a page inside SQLite as one string, which
 *   `JSON.parse` (V8's fastest way to make values) turns into arrays on the thread that builds
 *   the chunks — about 0.6 µs a row for both halves, and the reader thread does only the
 *   SQLite half. The `INSERT … SELECT` that fills the table runs inside SQLite at its own speed
 *   (a sort or a join costs what it costs in the `sqlite3` shell); paging the query itself with
 *   LIMIT/OFFSET would run it again for every page.
 * - Errors. `iterate()` ends quietly when a step fails (integer overflow, malformed JSON, a busy
 *   database), passing a truncated result off as complete; the `INSERT` reports SQLite's error.
 * - Memory. The table lives in SQLite's temporary file (`temp_store = FILE`, deleted when the
 *   connection closes, also after a kill), not in the heap: memory stays flat whatever the
 *   result's size. It needs free disk space about the size of the result (`SQLITE_TMPDIR`
 *   moves it).
 * - A consistent snapshot: the result is read in one statement.
 *
 * JSON cannot carry two things exactly, so a page holding one is read with `all()` instead: an
 * integer beyond 2^53 (JSON numbers are doubles; the page is read with big integers on) and a
 * BLOB (`json_group_array` refuses it; the chunker reports the column). Integers are found in
 * the JSON text: a number of 16 digits or more (2^53 has 16) right after `[` or `,` — a test
 * that may also hit a long float or such digits inside a string, which only costs that page an
 * exact `all()`, never a wrong value. Asking SQLite per cell would cost more than the page.
 * Columns declared TEXT or REAL are not searched: their affinity stores integers as text or
 * floating point.
 * @module
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { SqlError } from "../core/errors.ts";
import type { SqlColumn, TypeHint } from "./chunker.ts";
import type { BoundQuery, ParamValue } from "./params.ts";
import { checkUniqueColumns } from "./source.ts";

// `setReturnArrays` exists at runtime (Deno 2.9) but not yet in the bundled node types.
type ArrayStatement = StatementSync & { setReturnArrays(enabled: boolean): void };

const RESULT_TABLE = "temp.tidemark_result";
/** A JSON number that may be an integer beyond 2^53 (see the module notes). */
const WIDE_NUMBER = /[[,]-?\d{16}/;
const utf8 = new TextDecoder();
/** For joined texts: a text may begin with U+FEFF, which a default decoder would drop. */
const utf8Texts = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The {@link TypeHint} of a SQLite declared type, by SQLite's affinity rules: `INT` → int64;
 * `CHAR`/`CLOB`/`TEXT` → string; `REAL`/`FLOA`/`DOUB` → float64; `BOOL` → boolean;
 * `NUMERIC`/`DECIMAL`/`NUMBER`/`MONEY` → numeric; anything else (`DATETIME`, `BLOB`, none) →
 * decided by the first value.
 *
 * @example
 * ```ts
 * import { sqliteTypeHint } from "./sqlite_read.ts";
 * sqliteTypeHint("INTEGER"); // "int64"
 * sqliteTypeHint("DATETIME"); // "any"
 * ```
 */
export function sqliteTypeHint(declared: string | null): TypeHint {
  if (!declared) return "any";
  const t = declared.toUpperCase();
  if (t.includes("INT")) return "int64";
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "string";
  if (t.includes("BLOB")) return "any";
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return "float64";
  if (t.includes("BOOL")) return "boolean";
  if (/NUMERIC|DECIMAL|NUMBER|MONEY/.test(t)) return "numeric";
  return "any";
}

/**
 * Opens `path` read-only; throws {@link SqlError} when it is missing or not a database.
 */
export function openSqliteDatabase(path: string): DatabaseSync {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new SqlError(
        `database file ${path} does not exist; check --db (make one with ` +
          "'tidemark generate northwind --out FILE')",
      );
    }
    throw error;
  }
  if (!info.isFile) throw new SqlError(`database ${path} is not a file; give a SQLite file`);
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    // Reading the schema is the cheapest way to find out it is really a SQLite file.
    db.prepare("SELECT 1 FROM sqlite_schema LIMIT 1").get();
    return db;
  } catch (error) {
    throw new SqlError(`cannot read ${path} as a SQLite database: ${(error as Error).message}`);
  }
}

/** A query prepared on an open database, ready to run. */
export interface PreparedSqliteQuery {
  /** Result columns with declared types. */
  columns: SqlColumn[];
  /** Positional values for `?1..?n` (booleans as 1/0: SQLite has no boolean). */
  values: SQLInputValue[];
  /** The query text. */
  text: string;
}

/**
 * Prepares `query` on `db`: refuses syntax errors, missing tables, statements that return no
 * rows and duplicate column names, with SQLite's own message.
 */
export function prepareSqliteQuery(db: DatabaseSync, query: BoundQuery): PreparedSqliteQuery {
  let plain: StatementSync;
  try {
    plain = db.prepare(query.text);
  } catch (error) {
    throw new SqlError(`the query does not prepare: ${(error as Error).message}; fix the SQL`);
  }
  const described = plain.columns();
  if (described.length === 0) {
    throw new SqlError("the query returns no columns; extract runs a SELECT (or WITH … SELECT)");
  }
  const columns: SqlColumn[] = described.map((c) => ({
    name: c.name,
    declaredType: c.type ?? null,
    hint: sqliteTypeHint(c.type ?? null),
  }));
  checkUniqueColumns(columns);
  const values = query.values.map((v: ParamValue) => typeof v === "boolean" ? (v ? 1 : 0) : v);
  return { columns, values, text: query.text };
}

/**
 * Runs the query into the result table, rowids 1..n in the query's order. Throws
 * {@link SqlError} with SQLite's message when the query fails.
 */
export function materialize(db: DatabaseSync, prepared: PreparedSqliteQuery): void {
  // A file, not memory: the result may be larger than the memory the extract may use.
  db.exec("PRAGMA temp_store = FILE");
  const columns = prepared.columns.map((_, i) => `c${i}`).join(", ");
  // Columns without a declared type: values are stored exactly as the query returns them (a
  // typed column would apply its affinity, turning the text '007' into 7).
  db.exec(`DROP TABLE IF EXISTS ${RESULT_TABLE}; CREATE TABLE ${RESULT_TABLE} (${columns})`);
  try {
    db.prepare(`INSERT INTO ${RESULT_TABLE} SELECT * FROM (\n${prepared.text}\n)`)
      .run(...prepared.values);
  } catch (error) {
    db.exec(`DROP TABLE IF EXISTS ${RESULT_TABLE}`);
    throw new SqlError(
      `the query failed: ${(error as Error).message}; fix the query (or the data) and run ` +
        "again — nothing from this run was kept",
    );
  }
}

/**
 * A page of the result: by column, one JSON array as UTF-8 bytes, doubles for a column of
 * numbers only, or joined text for a column of text and nulls ({@link SqliteTextColumn}; decode
 * with {@link decodePage}); or, for a page JSON cannot carry exactly, the rows as `all()` returns
 * them (`readPages`) or its column values (`streamPages` in `sqlite_stream.ts`). Bytes rather
 * than text: each column's own buffer moves to the consuming thread without a copy, and pages
 * waiting there sit outside its heap, which its young-generation collections would otherwise
 * copy over and over (pages are read ahead).
 */
export type SqlitePage =
  | { kind: "json"; length: number; columns: (Uint8Array | Float64Array | SqliteTextColumn)[] }
  | { kind: "rows"; length: number; rows: unknown[][] }
  | { kind: "values"; length: number; columns: unknown[][] };

/**
 * A page's column of texts and nulls only, from `sqlite_stream.ts`: the texts joined as UTF-8,
 * and each one's length in UTF-16 units, -1 for a null, -2 for the row before's text again.
 */
export interface SqliteTextColumn {
  /** The texts, one after the other. */
  text: Uint8Array;
  /** Each row's text length, -1 for null, -2 for the same text as the row before. */
  lengths: Int32Array;
}

/**
 * The materialized result, `pageRows` rows at a time (see the module notes); drops the table
 * when done or stopped.
 */
export function* readPages(
  db: DatabaseSync,
  prepared: PreparedSqliteQuery,
  pageRows = 4096,
): Generator<SqlitePage> {
  try {
    const width = prepared.columns.length;
    // As a BLOB: node:sqlite then hands over the bytes, in a buffer of their own, instead of
    // making a string of them.
    const columns = Array.from(
      { length: width },
      (_, i) => `CAST(json_group_array(c${i}) AS BLOB)`,
    );
    const range = "FROM " + RESULT_TABLE + " WHERE rowid BETWEEN ?1 AND ?2";
    const json = db.prepare(`SELECT count(*), ${columns.join(", ")} ${range}`) as ArrayStatement;
    json.setReturnArrays(true);
    const rows = db.prepare(`SELECT * ${range} ORDER BY rowid`) as ArrayStatement;
    const searched = prepared.columns
      .map((column, c) => column.hint === "string" || column.hint === "float64" ? -1 : c)
      .filter((c) => c >= 0);
    rows.setReturnArrays(true);
    rows.setReadBigInts(true);
    let last = 0;
    for (;;) {
      let page: SqlitePage;
      try {
        const [count, ...texts] = json.get(last + 1, last + pageRows) as unknown as [
          number,
          ...Uint8Array[],
        ];
        if (count === 0) break;
        page = searched.some((c) => WIDE_NUMBER.test(utf8.decode(texts[c])))
          ? { kind: "rows", length: count, rows: rows.all(last + 1, last + pageRows) as never }
          : { kind: "json", length: count, columns: texts };
      } catch (error) {
        if (!/BLOB/.test((error as Error).message)) throw error;
        // A BLOB: read as rows, so the chunker names the column and the conversion to use.
        const got = rows.all(last + 1, last + pageRows) as unknown as unknown[][];
        page = { kind: "rows", length: got.length, rows: got };
      }
      last += page.length;
      yield page;
      if (page.length < pageRows) break;
    }
  } finally {
    try {
      db.exec(`DROP TABLE IF EXISTS ${RESULT_TABLE}`);
    } catch {
      // the connection is closing anyway: the temporary file goes with it
    }
  }
}

/**
 * A page as column arrays (`columns[c][r]`): the JSON texts parsed (doubles as they are), the
 * values as they are, or the rows transposed.
 */
export function decodePage(page: SqlitePage, width: number): unknown[][] {
  if (page.kind === "json") {
    // A column of numbers only comes as doubles (`sqlite_stream.ts`): indexed as an array.
    return page.columns.map((column) =>
      column instanceof Float64Array
        ? column as unknown as unknown[]
        : column instanceof Uint8Array
        ? JSON.parse(utf8.decode(column))
        : decodeTextColumn(column)
    );
  }
  if (page.kind === "values") return page.columns;
  const columns: unknown[][] = Array.from({ length: width }, () => new Array(page.length));
  for (let r = 0; r < page.length; r++) {
    const row = page.rows[r];
    for (let c = 0; c < width; c++) columns[c][r] = row[c];
  }
  return columns;
}

/**
 * A {@link SqliteTextColumn}'s values: its text cut at the lengths, null where -1, the row
 * before's very string where -2.
 */
function decodeTextColumn(column: SqliteTextColumn): (string | null)[] {
  const text = utf8Texts.decode(column.text);
  const lengths = column.lengths;
  const values = new Array<string | null>(lengths.length);
  let at = 0;
  let previous: string | null = null;
  for (let r = 0; r < lengths.length; r++) {
    const length = lengths[r];
    if (length === -1) {
      previous = null;
    } else if (length !== -2) {
      previous = text.substring(at, at + length);
      at += length;
    }
    values[r] = previous;
  }
  return values;
}
