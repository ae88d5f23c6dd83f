/**
 * `GET /-/health`: 200 without auth, limits or faults, so a script can wait for the server.
 * @module
 */
import type { Handler } from "hono";
import type { MockEnv } from "../context.ts";

/**
 * Creates the health handler for the served database `dbName`.
 *
 * @example
 * ```ts
 * app.get("/-/health", healthHandler("northwind"));
 * ```
 */
export function healthHandler(dbName: string): Handler<MockEnv> {
  return (c) => c.json({ ok: true, database: dbName });
}
