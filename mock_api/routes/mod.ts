/**
 * Every data endpoint of the mock API (docs/mock_api.md §2) as one Hono app that the server mounts
 * behind its middleware. Routes know nothing of auth, limits, ETags, faults or latency; they read
 * `canWrite` for writes (undefined = allowed, so they work alone in unit tests).
 * @module
 */
import { Hono } from "hono";
import type { MockData, MockEnv } from "../context.ts";
import { ApiError, errorResponse } from "./api_error.ts";
import { datasetteRoutes } from "./datasette.ts";
import { datasetteWriteRoutes } from "./datasette_write.ts";
import { styleRoutes } from "./styles.ts";
import { wordpressRoutes } from "./wordpress.ts";
import { timelineRoutes } from "./timelines.ts";
import { generateWordPress } from "../data/wordpress.ts";
import { createTimelineStore } from "../data/timelines.ts";

/**
 * Builds the data routes over `data`: the Northwind database, the clock (timeline posts) and the
 * seed (generated WordPress and timelines).
 *
 * @example
 * ```ts
 * import { generateNorthwind } from "../data/northwind.ts";
 * const db = generateNorthwind(":memory:");
 * const routes = createRoutes({ db, dbName: "northwind", now: Date.now, seed: 42 });
 * const response = await routes.request("/northwind/Orders.json?_size=2");
 * ```
 */
export function createRoutes(data: MockData): Hono<MockEnv> {
  const routes = new Hono<MockEnv>();
  // Specific prefixes first: the Datasette patterns (/:db/:table.json) would match them too.
  routes.route("/", styleRoutes(data));
  routes.route("/", wordpressRoutes(generateWordPress(data.seed)));
  routes.route("/", timelineRoutes(data, createTimelineStore(data.seed)));
  routes.route("/", datasetteWriteRoutes(data));
  routes.route("/", datasetteRoutes(data));
  routes.notFound((c) => errorResponse(c, new ApiError(404, `not found: ${c.req.path}`)));
  routes.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    if (error instanceof URIError) {
      return errorResponse(c, new ApiError(400, `malformed encoding in the URL: ${error.message}`));
    }
    // Anything else is the app's to report (its handler logs it and answers a JSON 500).
    throw error;
  });
  return routes;
}
