/**
 * Datasette 1.0's write API, so data can change between harvests: `POST /{db}/{table}/-/insert`
 * (201), `/-/upsert`, `POST /{db}/{table}/{pk}/-/update` and `/-/delete`. Each request is one
 * transaction; columns are validated against the table and every value is bound.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { SQLInputValue } from "node:sqlite";
import type { MockData, MockEnv } from "../context.ts";
import { ApiError } from "./api_error.ts";
import { checkDatabase } from "./datasette.ts";
import {
  decodeKey,
  findTable,
  jsonRows,
  prepareCached,
  quoteIdentifier,
  readRow,
  rowKey,
  type TableInfo,
} from "./tables.ts";

/** Rows one insert or upsert may carry, as Datasette's `max_insert_rows`. */
export const MAX_WRITE_ROWS = 100;

type JsonRow = Record<string, unknown>;

function checkWrite(c: Context<MockEnv>): void {
  // Undefined when no auth middleware runs (unit tests): writes are then allowed.
  if (c.get("canWrite") === false) {
    throw new ApiError(
      403,
      "permission denied: this credential may not write; use the write token",
    );
  }
}

async function readBody(c: Context<MockEnv>): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ApiError(400, "the request body must be a JSON object");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ApiError(400, "the request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function writableTable(data: MockData, db: string, name: string): TableInfo {
  checkDatabase(data, db);
  const table = findTable(data.db, name);
  if (table.view) throw new ApiError(400, `cannot write to ${table.name}: it is a view`);
  return table;
}

/** The rows of an insert/upsert body: `{"row": {...}}` or `{"rows": [...]}`. */
function bodyRows(body: Record<string, unknown>): JsonRow[] {
  const rows = "row" in body ? [body.row] : body.rows;
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new ApiError(400, `the body needs "row": {...} or "rows": [{...}, ...]`);
  }
  if (rows.length > MAX_WRITE_ROWS) {
    throw new ApiError(
      400,
      `too many rows: ${rows.length}; send at most ${MAX_WRITE_ROWS} at a time`,
    );
  }
  for (const row of rows) {
    if (row === null || typeof row !== "object" || Array.isArray(row)) {
      throw new ApiError(400, `every row must be a JSON object, got ${JSON.stringify(row)}`);
    }
  }
  return rows as JsonRow[];
}

/** Checks that every column of `row` is one the table has (rowid only for rowid tables). */
function checkColumns(table: TableInfo, row: JsonRow): string[] {
  const columns = Object.keys(row);
  const unknown = columns.filter((column) => !table.affinities.has(column));
  if (unknown.length > 0) {
    throw new ApiError(
      400,
      `unknown ${unknown.length === 1 ? "column" : "columns"} ${unknown.join(", ")} for table ${
        JSON.stringify(table.name)
      }; columns are ${table.columns.join(", ")}`,
    );
  }
  return columns;
}

/** A JSON value as SQLite stores it: booleans as 1/0, objects and arrays as JSON text. */
function sqlValue(value: unknown): SQLInputValue {
  if (value === null || typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return JSON.stringify(value);
}

/** Runs `work` in one transaction; a constraint failure rolls it all back and is a 400. */
function transaction<T>(data: MockData, work: () => T): T {
  data.db.exec("BEGIN");
  try {
    const result = work();
    data.db.exec("COMMIT");
    return result;
  } catch (error) {
    data.db.exec("ROLLBACK");
    if (error instanceof ApiError) throw error;
    throw new ApiError(400, `the write was refused: ${(error as Error).message}`);
  }
}

function insertRow(data: MockData, table: TableInfo, row: JsonRow, verb: string): number | bigint {
  const columns = checkColumns(table, row);
  const sql = columns.length === 0
    ? `${verb} INTO ${quoteIdentifier(table.name)} DEFAULT VALUES`
    : `${verb} INTO ${quoteIdentifier(table.name)} (${
      columns.map(quoteIdentifier).join(", ")
    }) VALUES (${columns.map(() => "?").join(", ")})`;
  const result = prepareCached(data.db, sql).run(...columns.map((col) => sqlValue(row[col])));
  return result.lastInsertRowid;
}

/** Reads back a written row by its key, or by rowid when the key was left to SQLite. */
function readBack(data: MockData, table: TableInfo, row: JsonRow, rowid: number | bigint) {
  const hasKey = table.keys.every((key) => row[key] !== undefined && row[key] !== null);
  if (hasKey) return readRow(data.db, { table, token: rowKey(table, row) });
  const select = table.columns.map(quoteIdentifier).join(", ");
  const found = prepareCached(
    data.db,
    `SELECT ${select} FROM ${quoteIdentifier(table.name)} WHERE rowid = ?`,
  ).get(rowid) as JsonRow | undefined;
  return found && jsonRows([found])[0];
}

function updateRow(data: MockData, table: TableInfo, key: SQLInputValue[], changes: JsonRow) {
  const columns = checkColumns(table, changes);
  if (columns.length === 0) return 0;
  const set = columns.map((column) => `${quoteIdentifier(column)} = ?`).join(", ");
  const where = table.keys.map((k) => `${quoteIdentifier(k)} = ?`).join(" AND ");
  const result = prepareCached(
    data.db,
    `UPDATE ${quoteIdentifier(table.name)} SET ${set} WHERE ${where}`,
  ).run(...columns.map((column) => sqlValue(changes[column])), ...key);
  return Number(result.changes);
}

/** The Datasette write routes over `data.db`. */
export function datasetteWriteRoutes(data: MockData): Hono<MockEnv> {
  const routes = new Hono<MockEnv>();

  routes.post("/:db/:table/-/insert", async (c) => {
    checkWrite(c);
    const table = writableTable(data, c.req.param("db"), c.req.param("table"));
    const body = await readBody(c);
    const rows = bodyRows(body);
    if (body.ignore === true && body.replace === true) {
      throw new ApiError(400, `use "ignore" or "replace", not both`);
    }
    const verb = body.ignore === true
      ? "INSERT OR IGNORE"
      : body.replace === true
      ? "INSERT OR REPLACE"
      : "INSERT";
    const written = transaction(
      data,
      () => rows.map((row) => readBack(data, table, row, insertRow(data, table, row, verb))),
    );
    return c.json(body.return === true ? { ok: true, rows: written } : { ok: true }, 201);
  });

  routes.post("/:db/:table/-/upsert", async (c) => {
    checkWrite(c);
    const table = writableTable(data, c.req.param("db"), c.req.param("table"));
    const body = await readBody(c);
    const rows = bodyRows(body);
    const written = transaction(data, () =>
      rows.map((row) => {
        const missing = table.keys.filter((key) => row[key] === undefined || row[key] === null);
        if (missing.length > 0) {
          throw new ApiError(
            400,
            `every upserted row needs its key: missing ${missing.join(", ")}`,
          );
        }
        const token = rowKey(table, row);
        const key = decodeKey(table, token, { what: "row key" });
        const changes = Object.fromEntries(
          Object.entries(row).filter(([column]) => !table.keys.includes(column)),
        );
        if (readRow(data.db, { table, token }) !== undefined) {
          updateRow(data, table, key, changes);
          return readRow(data.db, { table, token });
        }
        return readBack(data, table, row, insertRow(data, table, row, "INSERT"));
      }));
    return c.json(body.return === true ? { ok: true, rows: written } : { ok: true });
  });

  routes.post("/:db/:table/:pk/-/update", async (c) => {
    checkWrite(c);
    const table = writableTable(data, c.req.param("db"), c.req.param("table"));
    const token = c.req.param("pk");
    const body = await readBody(c);
    const changes = body.update;
    if (changes === null || typeof changes !== "object" || Array.isArray(changes)) {
      throw new ApiError(400, `the body needs "update": {"column": value, ...}`);
    }
    const key = decodeKey(table, token, { what: "row key" });
    const row = transaction(data, () => {
      const before = readRow(data.db, { table, token });
      if (!before) throw new ApiError(404, `row not found: ${token} in ${table.name}`);
      updateRow(data, table, key, changes as JsonRow);
      // The key itself may have changed: read back by the updated key.
      return readRow(data.db, {
        table,
        token: rowKey(table, { ...before, ...(changes as JsonRow) }),
      });
    });
    return c.json(body.return === true ? { ok: true, row } : { ok: true });
  });

  routes.post("/:db/:table/:pk/-/delete", (c) => {
    checkWrite(c);
    const table = writableTable(data, c.req.param("db"), c.req.param("table"));
    const token = c.req.param("pk");
    const key = decodeKey(table, token, { what: "row key" });
    const where = table.keys.map((k) => `${quoteIdentifier(k)} = ?`).join(" AND ");
    const deleted = transaction(data, () =>
      Number(
        prepareCached(data.db, `DELETE FROM ${quoteIdentifier(table.name)} WHERE ${where}`)
          .run(...key).changes,
      ));
    if (deleted === 0) throw new ApiError(404, `row not found: ${token} in ${table.name}`);
    return c.json({ ok: true });
  });

  return routes;
}
