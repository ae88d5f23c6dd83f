/**
 * Types shared by the mock API's routes and middleware. The mock imports nothing from `lib/`:
 * the test bed shares no code, and so no bug, with what it tests (docs/design.md §6).
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

/** Hono variables the middleware sets for the routes. */
export interface MockVariables {
  /** The credential that authenticated this request (rate limits are kept per credential). */
  credential: string;
  /** Whether this request may use the write API (write token, or the read credential by default). */
  canWrite: boolean;
}

/** The Hono environment of the mock app. */
export type MockEnv = { Variables: MockVariables };

/** What the routes read: the data and the clock. */
export interface MockData {
  /** The Northwind database (or any SQLite file served with --db), served as database `dbName`. */
  db: DatabaseSync;
  /** The database name in URLs (`/northwind/Orders.json`). @default "northwind" */
  dbName: string;
  /** Epoch milliseconds; injected so tests drive time with fake clocks. */
  now: () => number;
  /** Seed for generated WordPress and timelines data. */
  seed: number;
}

/** The mock's app as a caller uses it (a Hono app): requests served in-process, no socket. */
export interface MockApp {
  /** Serves one request in-process, as Hono's `app.request` does. */
  request(
    input: string | URL | Request,
    init?: RequestInit,
  ): Response | Promise<Response>;
  /** Serves one request: a `fetch` handler for `Deno.serve` or a client's transport. */
  fetch(request: Request): Response | Promise<Response>;
}
