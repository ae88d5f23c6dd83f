/**
 * Shared set-up for the route tests: the data routes over a generated (or hand-made) database,
 * called in-process with `routes.request()`, and a pager that follows `next` to the end.
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { Hono } from "hono";
import { assert } from "../assert.ts";
import type { MockEnv } from "../../mock_api/context.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { createRoutes } from "../../mock_api/routes/mod.ts";

/** The routes over a database, with helpers; `close()` closes the database. */
export interface RoutesFixture {
  db: DatabaseSync;
  routes: Hono<MockEnv>;
  get(path: string): Promise<{ status: number; headers: Headers; body: unknown }>;
  post(path: string, body: unknown): Promise<{ status: number; body: unknown }>;
  close(): void;
}

/** Serves `db` (default: a scale 1 Northwind) through `createRoutes`. */
export function routesFixture(
  db: DatabaseSync = generateNorthwind(":memory:"),
  now: () => number = () => Date.UTC(2024, 5, 1),
): RoutesFixture {
  const routes = createRoutes({ db, dbName: "northwind", now, seed: 42 });
  return {
    db,
    routes,
    async get(path) {
      const response = await routes.request(path);
      return { status: response.status, headers: response.headers, body: await response.json() };
    },
    async post(path, body) {
      const response = await routes.request(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
    close() {
      db.close();
    },
  };
}

/** A Datasette table page as the tests read it. */
export interface TablePage {
  ok: boolean;
  rows: Record<string, unknown>[];
  columns: string[];
  next: string | null;
  next_url: string | null;
  count?: number;
}

/** Follows `next_url` from `path` to the last page; returns every row and the page count. */
export async function pageToEnd(
  fixture: RoutesFixture,
  path: string,
): Promise<{ rows: Record<string, unknown>[]; pages: number }> {
  const rows: Record<string, unknown>[] = [];
  let url: string | null = path;
  let pages = 0;
  while (url !== null) {
    const response = await fixture.get(url);
    assert(
      response.status === 200,
      `${url} answered ${response.status}: ${JSON.stringify(response.body)}`,
    );
    const page = response.body as TablePage;
    rows.push(...page.rows);
    pages++;
    assert(pages < 10_000, "paging does not end");
    url = page.next_url;
    if (url !== null) assert(page.next !== null, "next_url without next");
  }
  return { rows, pages };
}

/** Runs a query directly against SQLite and returns plain objects. */
export function query(db: DatabaseSync, sql: string, ...params: (string | number | null)[]) {
  return (db.prepare(sql).all(...params) as Record<string, unknown>[]).map((row) => ({ ...row }));
}
