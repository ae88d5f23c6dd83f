/**
 * The mock API in-process, driven by a {@linkcode ManualClock}, with an `HttpClient` wired to
 * it: what most HTTP tests start from.
 * @module
 */
import { createApp, type MockOptions } from "../../mock_api/app.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { HttpClient, type HttpClientOptions } from "../../lib/http/client.ts";
import type { FetchFunction } from "../../lib/http/fetch_resilient.ts";
import { ManualClock } from "./manual_clock.ts";

/** 2026-01-01T10:00:00Z: a multiple of every window the tests use, so windows start here. */
export const START = Date.UTC(2026, 0, 1, 10, 0, 0);

/** Where the in-process mock pretends to live (never contacted: requests go to `app.request`). */
export const BASE_URL = "http://127.0.0.1:9000";

/** A small page of Orders. */
export const ORDERS = { url: "/northwind/Orders.json", params: { _size: 5 } };

let sharedDb: ReturnType<typeof generateNorthwind> | undefined;

/** One Northwind database for every test of the process (the mock only reads it here). */
export function northwind(): ReturnType<typeof generateNorthwind> {
  return sharedDb ??= generateNorthwind(":memory:");
}

/** What {@linkcode setup} builds. */
export interface Setup {
  clock: ManualClock;
  app: ReturnType<typeof createApp>;
  client: HttpClient;
  /** Requests the mock received for `path`, by status. */
  counts(path?: string): Promise<Record<string, number>>;
}

/**
 * A mock app (auth `none` unless given) and a client for it, on one manual clock. The client's
 * random source is 0.5 and its backoff base 500 ms, cap 8 s, unless overridden.
 */
export function setup(
  mock: MockOptions = {},
  client: HttpClientOptions & { wrap?: (fetch: FetchFunction) => FetchFunction } = {},
): Setup {
  const clock = new ManualClock(START);
  const app = createApp({ db: northwind(), auth: "none", now: () => clock.now(), ...mock });
  const direct: FetchFunction = (url, init) => app.request(url, init);
  const { wrap, ...clientOptions } = client;
  const http = new HttpClient({
    baseUrl: BASE_URL,
    fetch: wrap ? wrap(direct) : direct,
    clock,
    random: () => 0.5,
    ...clientOptions,
  });
  return {
    clock,
    app,
    client: http,
    async counts(path = ORDERS.url) {
      const stats = await (await app.request("/-/stats")).json();
      return stats.by_path[path] ?? {};
    },
  };
}
