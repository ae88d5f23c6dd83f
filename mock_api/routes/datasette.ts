/**
 * The Datasette-compatible read endpoints: `GET /{db}.json`, `GET /{db}/{table}.json`
 * (`_size`, `_next`, filters, `_sort`/`_sort_desc`, `_col`/`_nocol`, `_shape`, `_extra=count`)
 * and `GET /{db}/{table}/{pk}.json`, in the Datasette 1.0 shape plus the 0.x fields clients read.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { MockData, MockEnv } from "../context.ts";
import { ApiError } from "./api_error.ts";
import { parseFilters } from "./filters.ts";
import {
  checkColumn,
  countRows,
  decodeToken,
  encodePart,
  findTable,
  listTables,
  type PageStart,
  readPage,
  readRow,
  rowKey,
  type TableInfo,
} from "./tables.ts";
import { urlWithParams } from "./request_url.ts";

/** Default and largest `_size`, as Datasette's `default_page_size` and `max_returned_rows`. */
export const DEFAULT_PAGE_SIZE = 100;
/** The largest `_size`; more is a 400. */
export const MAX_PAGE_SIZE = 1000;

const SHAPES = new Set(["objects", "arrays", "array", "object"]);

/** Throws a 404 unless `name` is the served database. */
export function checkDatabase(data: MockData, name: string): void {
  if (name !== data.dbName) {
    throw new ApiError(404, `database not found: ${name}; this server serves ${data.dbName}`);
  }
}

function parseSize(value: string | null): number {
  if (value === null) return DEFAULT_PAGE_SIZE;
  if (value === "max") return MAX_PAGE_SIZE;
  if (!/^\d+$/.test(value)) {
    throw new ApiError(
      400,
      `_size must be a whole number from 0 to ${MAX_PAGE_SIZE}, got ${value}`,
    );
  }
  const size = Number(value);
  if (size > MAX_PAGE_SIZE) {
    throw new ApiError(400, `_size must be <= ${MAX_PAGE_SIZE}, got ${value}`);
  }
  return size;
}

function parseSort(table: TableInfo, params: URLSearchParams) {
  const asc = params.get("_sort");
  const desc = params.get("_sort_desc");
  if (asc !== null && desc !== null) {
    throw new ApiError(400, "cannot use _sort and _sort_desc at the same time; pick one");
  }
  const column = asc ?? desc;
  if (column === null || column === "") return undefined;
  checkColumn(table, column, { use: "sort by" });
  return { column, desc: desc !== null };
}

/** The served columns after `_col` / `_nocol`; keys and the sort column always stay. */
function pickColumns(table: TableInfo, params: URLSearchParams, sortColumn?: string): string[] {
  const only = params.getAll("_col");
  const without = params.getAll("_nocol");
  for (const column of [...only, ...without]) checkColumn(table, column, { use: "select" });
  const keep = new Set([...table.keys, ...(sortColumn ? [sortColumn] : [])]);
  return table.columns.filter((column) =>
    keep.has(column) ||
    ((only.length === 0 || only.includes(column)) && !without.includes(column))
  );
}

function parseStart(
  table: TableInfo,
  token: string | null,
  sortColumn: string | undefined,
): PageStart {
  if (token === null || token === "") return { kind: "first" };
  if (table.view) {
    if (!/^\d+$/.test(token)) {
      throw new ApiError(400, `invalid _next ${JSON.stringify(token)}: expected a row offset`);
    }
    return { kind: "offset", offset: Number(token) };
  }
  return decodeToken(table, token, { sortColumn, what: "_next" });
}

/** `GET /{db}/{table}.json` */
function tableRows(c: Context<MockEnv>, data: MockData, table: TableInfo): Response {
  const url = new URL(c.req.url);
  const params = url.searchParams;
  const size = parseSize(params.get("_size"));
  const shape = params.get("_shape") ?? "objects";
  if (!SHAPES.has(shape)) {
    throw new ApiError(400, `_shape must be objects, arrays, array or object, got ${shape}`);
  }
  if (shape === "object" && table.view) {
    throw new ApiError(400, `_shape=object needs a primary key; ${table.name} is a view`);
  }
  const sort = parseSort(table, params);
  const columns = pickColumns(table, params, sort?.column);
  const conditions = parseFilters(table, [...params]);
  const start = parseStart(table, params.get("_next"), sort?.column);
  const extras = new Set(params.getAll("_extra").flatMap((v) => v.split(",")));

  const page = size === 0
    ? { rows: [], more: false }
    : readPage(data.db, { table, ...conditions, sort, columns, start, limit: size });
  let next: string | null = null;
  if (page.more && page.rows.length > 0) {
    if (table.view) {
      next = String((start.kind === "offset" ? start.offset : 0) + page.rows.length);
    } else {
      const last = page.rows[page.rows.length - 1];
      next = sort ? `${encodePart(last[sort.column])},${rowKey(table, last)}` : rowKey(table, last);
    }
  }
  const nextUrl = next === null ? null : urlWithParams(c.req.url, { _next: next });
  if (nextUrl) c.header("Link", `<${nextUrl}>; rel="next"`);

  if (shape === "array") return c.json(page.rows);
  if (shape === "object") {
    const keyed: Record<string, unknown> = {};
    for (const row of page.rows) keyed[rowKey(table, row)] = row;
    return c.json(keyed);
  }
  const count = extras.has("count") ? countRows(data.db, table, conditions) : undefined;
  return c.json({
    ok: true,
    database: data.dbName,
    table: table.name,
    is_view: table.view,
    columns,
    primary_keys: table.primaryKeys,
    rows: shape === "arrays" ? page.rows.map((row) => columns.map((col) => row[col])) : page.rows,
    truncated: false,
    ...(count === undefined ? {} : { count, filtered_table_rows_count: count }),
    sort: sort && !sort.desc ? sort.column : null,
    sort_desc: sort?.desc ? sort.column : null,
    next,
    next_url: nextUrl,
  });
}

/** The Datasette read routes over `data.db`. */
export function datasetteRoutes(data: MockData): Hono<MockEnv> {
  const routes = new Hono<MockEnv>();

  routes.get("/:file{[^/]+\\.json}", (c) => {
    const name = c.req.param("file").slice(0, -".json".length);
    checkDatabase(data, name);
    const tables = [...listTables(data.db).values()];
    const describe = (table: TableInfo) => ({
      name: table.name,
      columns: table.columns,
      primary_keys: table.primaryKeys,
      count: countRows(data.db, table),
    });
    return c.json({
      database: data.dbName,
      tables: tables.filter((t) => !t.view).map(describe),
      views: tables.filter((t) => t.view).map((t) => ({ name: t.name, columns: t.columns })),
    });
  });

  routes.get("/:db/:file{[^/]+\\.json}", (c) => {
    checkDatabase(data, c.req.param("db"));
    const table = findTable(data.db, c.req.param("file").slice(0, -".json".length));
    return tableRows(c, data, table);
  });

  routes.get("/:db/:table/:file{[^/]+\\.json}", (c) => {
    checkDatabase(data, c.req.param("db"));
    const table = findTable(data.db, c.req.param("table"));
    const token = c.req.param("file").slice(0, -".json".length);
    const row = readRow(data.db, { table, token });
    if (!row) throw new ApiError(404, `row not found: ${token} in ${table.name}`);
    return c.json({
      ok: true,
      database: data.dbName,
      table: table.name,
      columns: table.columns,
      primary_keys: table.primaryKeys,
      rows: [row],
    });
  });

  return routes;
}
