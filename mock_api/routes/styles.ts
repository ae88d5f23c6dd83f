/**
 * The six other pagination styles over the same tables, each in the shape of the kind
 * of API it imitates: a cursor in a body field (`/v1`, Stripe), offset (`/offset`), page number
 * (`/paged`), a Link header (`/linked`, GitHub), a next link in the body (`/hal`) and a nested
 * opaque cursor (`/nested`). All read rows in key order.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { MockData, MockEnv } from "../context.ts";
import { ApiError } from "./api_error.ts";
import { urlWithParams } from "./request_url.ts";
import { countRows, decodeToken, findTable, readPage, rowKey, type TableInfo } from "./tables.ts";

/** Reads an integer query parameter within [min, max], or its default; a 400 otherwise. */
function intParam(c: Context, name: string, fallback: number, min: number, max: number): number {
  const value = c.req.query(name);
  if (value === undefined || value === "") return fallback;
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ApiError(400, `${name} must be a whole number from ${min} to ${max}, got ${value}`);
  }
  return Number(value);
}

function keyedTable(data: MockData, name: string): TableInfo {
  const table = findTable(data.db, name);
  if (table.view) {
    throw new ApiError(
      400,
      `${table.name} is a view: cursor styles need a key; use /offset or /paged`,
    );
  }
  return table;
}

/** Reads `limit` rows starting `offset` rows in, in key order. */
function offsetPage(data: MockData, table: TableInfo, offset: number, limit: number) {
  return readPage(data.db, { table, start: { kind: "offset", offset }, limit });
}

function encodeCursor(token: string): string {
  const bytes = new TextEncoder().encode(token);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): string {
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(binary, (char) => char.charCodeAt(0)),
    );
  } catch {
    throw new ApiError(
      400,
      `invalid cursor ${JSON.stringify(cursor)}: pass meta.next_cursor back unchanged`,
    );
  }
}

/** The pagination-style routes over `data.db`. */
export function styleRoutes(data: MockData): Hono<MockEnv> {
  const routes = new Hono<MockEnv>();

  // Stripe: {"object":"list","data":[…],"has_more":bool}; next = starting_after=data.-1.<key>.
  routes.get("/v1/:table", (c) => {
    const table = keyedTable(data, c.req.param("table"));
    const limit = intParam(c, "limit", 10, 1, 100);
    const start = decodeToken(table, c.req.query("starting_after"), { what: "starting_after" });
    const page = readPage(data.db, { table, start, limit });
    return c.json({
      object: "list",
      url: new URL(c.req.url).pathname,
      data: page.rows,
      has_more: page.more,
    });
  });

  // Offset: {"results":[…],"count":N}; next while offset + limit < count.
  routes.get("/offset/:table", (c) => {
    const table = findTable(data.db, c.req.param("table"));
    const limit = intParam(c, "limit", 100, 1, 1000);
    const offset = intParam(c, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
    const page = offsetPage(data, table, offset, limit);
    return c.json({ results: page.rows, count: countRows(data.db, table) });
  });

  // Page number: {"items":[…],"page":p,"total_pages":n}; next while page < total_pages.
  routes.get("/paged/:table", (c) => {
    const table = findTable(data.db, c.req.param("table"));
    const perPage = intParam(c, "per_page", 100, 1, 1000);
    const page = intParam(c, "page", 1, 1, Number.MAX_SAFE_INTEGER);
    const total = countRows(data.db, table);
    const rows = offsetPage(data, table, (page - 1) * perPage, perPage).rows;
    return c.json({
      items: rows,
      page,
      per_page: perPage,
      total,
      total_pages: Math.ceil(total / perPage),
    });
  });

  // GitHub: a bare JSON array; Link: <…>; rel="next", <…>; rel="last" (first/prev past page 1).
  routes.get("/linked/:table", (c) => {
    const table = findTable(data.db, c.req.param("table"));
    const perPage = intParam(c, "per_page", 30, 1, 100);
    const page = intParam(c, "page", 1, 1, Number.MAX_SAFE_INTEGER);
    const total = countRows(data.db, table);
    const last = Math.max(1, Math.ceil(total / perPage));
    const rows = offsetPage(data, table, (page - 1) * perPage, perPage).rows;
    const link = (n: number, rel: string) =>
      `<${urlWithParams(c.req.url, { per_page: String(perPage), page: String(n) })}>; rel="${rel}"`;
    const links: string[] = [];
    if (page < last) links.push(link(page + 1, "next"));
    links.push(link(last, "last"));
    if (page > 1) links.push(link(1, "first"), link(Math.min(page - 1, last), "prev"));
    c.header("Link", links.join(", "));
    return c.json(rows);
  });

  // A next link in the body: {"data":[…],"links":{"self":…,"next":"http://…"|null}}.
  routes.get("/hal/:table", (c) => {
    const table = keyedTable(data, c.req.param("table"));
    const size = intParam(c, "size", 100, 1, 1000);
    const start = decodeToken(table, c.req.query("after"), { what: "after" });
    const page = readPage(data.db, { table, start, limit: size });
    const next = page.more
      ? urlWithParams(c.req.url, { after: rowKey(table, page.rows[page.rows.length - 1]) })
      : null;
    return c.json({ data: page.rows, links: { self: c.req.url, next } });
  });

  // A nested opaque cursor: {"result":{"items":[…]},"meta":{"next_cursor":"…"|null}}.
  routes.get("/nested/:table", (c) => {
    const table = keyedTable(data, c.req.param("table"));
    const limit = intParam(c, "limit", 100, 1, 1000);
    const cursor = c.req.query("cursor");
    const start = decodeToken(
      table,
      cursor === undefined || cursor === "" ? undefined : decodeCursor(cursor),
      { what: "cursor" },
    );
    const page = readPage(data.db, { table, start, limit });
    const next = page.more ? encodeCursor(rowKey(table, page.rows[page.rows.length - 1])) : null;
    return c.json({ result: { items: page.rows }, meta: { next_cursor: next } });
  });

  return routes;
}
