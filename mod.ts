/**
 * Tidemark — resilient, provenanced harvesting of REST APIs and SQL databases.
 *
 * This module re-exports the public API.
 * @module
 */
export * from "./lib/errors.ts";
export { VERSION } from "./lib/version.ts";
export { createApp, type MockOptions } from "./mock_api/app.ts";
export { type MockServer, type MockServerOptions, startMockServer } from "./mock_api/server.ts";
