/**
 * What every table endpoint shares: discovering tables, columns, affinities and keys of any SQLite
 * file (`PRAGMA table_info`, cached per schema version), quoting identifiers, cached prepared
 * statements, keyset and offset page reads, key tokens, and JSON-safe row values.
 * @module
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { tildeDecode, tildeEncode } from "../encoding.ts";
import { ApiError } from "./api_error.ts";

/** SQLite column affinity, from the declared type by SQLite's own rules (§3.1 of datatype3). */
export type Affinity = "INTEGER" | "TEXT" | "BLOB" | "REAL" | "NUMERIC";

/** A table or view as the endpoints see it. */
export interface TableInfo {
  /** The name as stored in `sqlite_schema`. */
  name: string;
  /** Views have no key: they are paged by offset. */
  view: boolean;
  /** Served columns in table order; rowid tables start with `rowid`, as in Datasette. */
  columns: string[];
  /** Affinity of every served column (`rowid` is INTEGER). */
  affinities: Map<string, Affinity>;
  /** Declared primary key columns in key order (empty for rowid tables and views). */
  primaryKeys: string[];
  /** The columns that identify a row: the primary key, or `["rowid"]`; empty for views. */
  keys: string[];
}

/** Returns the affinity SQLite gives a declared column type. */
export function affinityOf(declared: string): Affinity {
  const type = declared.toUpperCase();
  if (type.includes("INT")) return "INTEGER";
  if (type.includes("CHAR") || type.includes("CLOB") || type.includes("TEXT")) return "TEXT";
  if (type === "" || type.includes("BLOB")) return "BLOB";
  if (type.includes("REAL") || type.includes("FLOA") || type.includes("DOUB")) return "REAL";
  return "NUMERIC";
}

/** Quotes an identifier for SQL (callers validate it against the real columns first). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

interface DatabaseCache {
  schemaVersion: number;
  tables: Map<string, TableInfo>;
  statements: Map<string, StatementSync>;
}

const caches = new WeakMap<DatabaseSync, DatabaseCache>();
/** Enough for every query shape a harvest uses; the cache is simply cleared when full. */
const MAX_CACHED_STATEMENTS = 256;

function cacheFor(db: DatabaseSync): DatabaseCache {
  let cache = caches.get(db);
  if (!cache) {
    cache = { schemaVersion: -1, tables: new Map(), statements: new Map() };
    caches.set(db, cache);
  }
  return cache;
}

/** Returns a prepared statement for `sql`, prepared once per database. */
export function prepareCached(db: DatabaseSync, sql: string): StatementSync {
  const cache = cacheFor(db);
  let statement = cache.statements.get(sql);
  if (!statement) {
    if (cache.statements.size >= MAX_CACHED_STATEMENTS) cache.statements.clear();
    statement = db.prepare(sql);
    cache.statements.set(sql, statement);
  }
  return statement;
}

/** Every table and view of `db` by name, re-read only when the schema version changes. */
export function listTables(db: DatabaseSync): Map<string, TableInfo> {
  const cache = cacheFor(db);
  const version = (prepareCached(db, "PRAGMA schema_version").get() as { schema_version: number })
    .schema_version;
  if (version === cache.schemaVersion) return cache.tables;
  const tables = new Map<string, TableInfo>();
  const entries = db.prepare(
    `SELECT name, type, sql FROM sqlite_schema
     WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`,
  ).all() as { name: string; type: string; sql: string | null }[];
  const pragma = db.prepare("SELECT name, type, pk FROM pragma_table_info(?)");
  for (const entry of entries) {
    const info = pragma.all(entry.name) as { name: string; type: string; pk: number }[];
    const view = entry.type === "view";
    const primaryKeys = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    const affinities = new Map<string, Affinity>();
    const columns: string[] = [];
    const usesRowid = !view && primaryKeys.length === 0;
    if (usesRowid) {
      columns.push("rowid");
      affinities.set("rowid", "INTEGER");
    }
    for (const column of info) {
      columns.push(column.name);
      affinities.set(column.name, affinityOf(column.type));
    }
    tables.set(entry.name, {
      name: entry.name,
      view,
      columns,
      affinities,
      primaryKeys,
      keys: view ? [] : usesRowid ? ["rowid"] : primaryKeys,
    });
  }
  cache.tables = tables;
  cache.schemaVersion = version;
  return tables;
}

/**
 * Finds a table by its URL name: as given (already percent-decoded), else tilde-decoded
 * (`Order~20Details`, `Order+Details`). Throws a 404 {@link ApiError} naming it when absent.
 */
export function findTable(db: DatabaseSync, urlName: string): TableInfo {
  const tables = listTables(db);
  const direct = tables.get(urlName);
  if (direct) return direct;
  let decoded: string | undefined;
  try {
    decoded = tildeDecode(urlName);
  } catch {
    decoded = undefined;
  }
  const table = decoded === undefined ? undefined : tables.get(decoded);
  if (!table) throw new ApiError(404, `table not found: ${decoded ?? urlName}`);
  return table;
}

/** Options of {@linkcode checkColumn}. */
export interface CheckColumnOptions {
  /** What the column was for, in the message (`sort by`, `filter on`). @default "use" */
  use?: string;
}

/** Throws a 400 naming `column` and the table's columns unless it is one of them. */
export function checkColumn(
  table: TableInfo,
  column: string,
  options: CheckColumnOptions = {},
): void {
  if (!table.affinities.has(column)) {
    throw new ApiError(
      400,
      `cannot ${options.use ?? "use"} unknown column ${JSON.stringify(column)} of table ${
        JSON.stringify(table.name)
      }; columns are ${table.columns.join(", ")}`,
    );
  }
}

/** A value as JSON can carry it: BLOBs become Datasette's `{"$base64": true, "encoded": …}`. */
export function jsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    let binary = "";
    for (const byte of value) binary += String.fromCharCode(byte);
    return { $base64: true, encoded: btoa(binary) };
  }
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  }
  return value;
}

/** Makes every value of the rows JSON-safe, in place (most rows hold no BLOB and stay as they are). */
export function jsonRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows) {
    for (const key in row) {
      const value = row[key];
      if (value !== null && typeof value === "object" || typeof value === "bigint") {
        row[key] = jsonValue(value);
      }
    }
  }
  return rows;
}

/** `null` in a token part; a real `$null` string is tilde-encoded as `~24null`, so never clashes. */
const NULL_PART = "$null";

/** Encodes one value as a token part (tilde-encoded text; `$null` for NULL). */
export function encodePart(value: unknown): string {
  if (value === null || value === undefined) return NULL_PART;
  return tildeEncode(String(value));
}

/** The key of a row as Datasette writes it: key parts tilde-encoded and comma-joined. */
export function rowKey(table: TableInfo, row: Record<string, unknown>): string {
  return table.keys.map((key) => encodePart(row[key])).join(",");
}

/**
 * Turns a token part back into a value to bind for `column`: numbers for numeric affinities
 * (and for untyped columns when the text is a number), text otherwise. Throws a 400 for a
 * non-number in an INTEGER key.
 */
function decodePart(
  table: TableInfo,
  column: string,
  part: string,
  what: string,
): SQLInputValue {
  if (part === NULL_PART) return null;
  let text: string;
  try {
    text = tildeDecode(part);
  } catch (error) {
    throw new ApiError(400, `invalid ${what}: ${(error as Error).message}`);
  }
  const affinity = table.affinities.get(column);
  const numeric = text.trim() !== "" && Number.isFinite(Number(text));
  if (affinity === "INTEGER" && table.keys.includes(column) && !/^-?\d+$/.test(text)) {
    throw new ApiError(400, `invalid ${what}: ${JSON.stringify(text)} is not an integer ${column}`);
  }
  if (numeric && affinity !== "TEXT") return Number(text);
  return text;
}

/** Options of {@linkcode decodeKey} and {@linkcode decodeToken}. */
export interface DecodeOptions {
  /** What the token is called in error messages (`_next`, `starting_after`). @default "key" */
  what?: string;
}

/** Splits a key token (`10248,11`) into bindable values, one per key column. */
export function decodeKey(
  table: TableInfo,
  token: string,
  options: DecodeOptions = {},
): SQLInputValue[] {
  const what = options.what ?? "key";
  const parts = token.split(",");
  if (parts.length !== table.keys.length) {
    throw new ApiError(
      400,
      `invalid ${what} ${JSON.stringify(token)}: expected ${table.keys.length} comma-separated ${
        table.keys.length === 1 ? "value" : "values"
      } (${table.keys.join(", ")})`,
    );
  }
  return parts.map((part, i) => decodePart(table, table.keys[i], part, what));
}

/** Where a page starts: after a row (keyset, with the sort value when sorted) or at an offset. */
export type PageStart =
  | { kind: "first" }
  | { kind: "after"; keys: SQLInputValue[]; sortValue?: SQLInputValue }
  | { kind: "offset"; offset: number };

/** Options of {@linkcode decodeToken}. */
export interface DecodeTokenOptions extends DecodeOptions {
  /** The sort column: the token is then `sortvalue,key`. @default undefined (key order) */
  sortColumn?: string;
}

/**
 * Turns a page token of a keyed table into where the page starts: the key (`10248,11`), or with
 * a sort column the sort value and the key (`263~2E5,10476,38`). An empty token is the start.
 */
export function decodeToken(
  table: TableInfo,
  token: string | undefined | null,
  options: DecodeTokenOptions = {},
): PageStart {
  if (token === undefined || token === null || token === "") return { kind: "first" };
  const what = options.what ?? "key";
  const sortColumn = options.sortColumn;
  if (sortColumn === undefined) return { kind: "after", keys: decodeKey(table, token, options) };
  const comma = token.indexOf(",");
  if (comma < 0) {
    throw new ApiError(
      400,
      `invalid ${what} ${JSON.stringify(token)}: a sorted page token is sortvalue,${
        table.keys.join(",")
      }`,
    );
  }
  return {
    kind: "after",
    sortValue: decodePart(table, sortColumn, token.slice(0, comma), what),
    keys: decodeKey(table, token.slice(comma + 1), options),
  };
}

/** One page read. */
export interface PageRequest {
  /** The table or view to read. */
  table: TableInfo;
  /** SQL conditions (already validated and quoted) joined with AND. */
  where?: string[];
  /** Values bound to the conditions' placeholders, in order. */
  params?: SQLInputValue[];
  /** Sort column (validated) and direction; the key always breaks ties. */
  sort?: { column: string; desc: boolean };
  /** Columns to select (validated); @default every served column */
  columns?: string[];
  /** Where the page starts. */
  start: PageStart;
  /** Rows wanted; one more is read to know whether another page follows. */
  limit: number;
}

/** A page of rows and whether more follow. */
export interface Page {
  /** The rows, JSON-safe. */
  rows: Record<string, unknown>[];
  /** Whether rows follow this page. */
  more: boolean;
}

function keyTuple(table: TableInfo): string {
  const quoted = table.keys.map(quoteIdentifier);
  return quoted.length === 1 ? quoted[0] : `(${quoted.join(", ")})`;
}

function placeholders(count: number): string {
  const marks = new Array(count).fill("?");
  return count === 1 ? "?" : `(${marks.join(", ")})`;
}

/**
 * Reads one page of `table` ordered by (sort column, key): keyset pagination, so rows with equal
 * sort values are neither skipped nor repeated across pages. Views are read by offset.
 */
export function readPage(db: DatabaseSync, request: PageRequest): Page {
  const table = request.table;
  const where = [...(request.where ?? [])];
  const params = [...(request.params ?? [])];
  const keys = keyTuple(table);
  const sort = request.sort;
  const start = request.start;
  if (start.kind === "after") {
    const after = `${keys} > ${placeholders(start.keys.length)}`;
    if (!sort) {
      where.push(after);
      params.push(...start.keys);
    } else {
      const column = quoteIdentifier(sort.column);
      // NULLs sort first ascending and last descending, as SQLite orders them.
      if (start.sortValue === null || start.sortValue === undefined) {
        where.push(
          sort.desc
            ? `(${column} IS NULL AND ${after})`
            : `(${column} IS NOT NULL OR (${column} IS NULL AND ${after}))`,
        );
        params.push(...start.keys);
      } else {
        where.push(
          `(${column} ${sort.desc ? "<" : ">"} ? OR (${column} = ? AND ${after})${
            sort.desc ? ` OR ${column} IS NULL` : ""
          })`,
        );
        params.push(start.sortValue, start.sortValue, ...start.keys);
      }
    }
  }
  const order = [
    ...(sort ? [`${quoteIdentifier(sort.column)}${sort.desc ? " DESC" : ""}`] : []),
    ...table.keys.map(quoteIdentifier),
  ];
  const columns = request.columns ?? table.columns;
  const select = columns.map(quoteIdentifier).join(", ");
  let sql = `SELECT ${select} FROM ${quoteIdentifier(table.name)}`;
  if (where.length > 0) sql += ` WHERE ${where.join(" AND ")}`;
  if (order.length > 0) sql += ` ORDER BY ${order.join(", ")}`;
  sql += " LIMIT ?";
  params.push(request.limit + 1);
  if (start.kind === "offset") {
    sql += " OFFSET ?";
    params.push(start.offset);
  }
  const rows = prepareCached(db, sql).all(...params) as Record<string, unknown>[];
  const more = rows.length > request.limit;
  if (more) rows.length = request.limit;
  return { rows: jsonRows(rows), more };
}

/** SQL conditions (validated and quoted) and the values bound to their placeholders. */
export interface Conditions {
  /** Conditions joined with AND. @default [] */
  where?: string[];
  /** Bound values in placeholder order. @default [] */
  params?: SQLInputValue[];
}

/** Counts the rows of `table` matching the conditions. */
export function countRows(
  db: DatabaseSync,
  table: TableInfo,
  conditions: Conditions = {},
): number {
  const where = conditions.where ?? [];
  const params = conditions.params ?? [];
  let sql = `SELECT count(*) AS n FROM ${quoteIdentifier(table.name)}`;
  if (where.length > 0) sql += ` WHERE ${where.join(" AND ")}`;
  return (prepareCached(db, sql).get(...params) as { n: number }).n;
}

/** A row by its key token. */
export interface RowTarget {
  /** The keyed table. */
  table: TableInfo;
  /** The tilde-encoded, comma-joined key (`10248,11`). */
  token: string;
}

/** Reads the row whose key is `target.token`, JSON-safe, or undefined when there is none. */
export function readRow(
  db: DatabaseSync,
  target: RowTarget,
): Record<string, unknown> | undefined {
  const table = target.table;
  if (table.view) throw new ApiError(400, `${table.name} is a view: its rows have no key`);
  const values = decodeKey(table, target.token, { what: "row key" });
  const where = table.keys.map((key) => `${quoteIdentifier(key)} = ?`).join(" AND ");
  const select = table.columns.map(quoteIdentifier).join(", ");
  const row = prepareCached(
    db,
    `SELECT ${select} FROM ${quoteIdentifier(table.name)} WHERE ${where}`,
  ).get(...values) as Record<string, unknown> | undefined;
  return row && jsonRows([row])[0];
}
