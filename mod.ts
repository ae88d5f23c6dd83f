/**
 * Tidemark — resilient, provenanced harvesting of REST APIs and SQL databases.
 *
 * This module re-exports the public API.
 * @module
 */
export * from "./lib/errors.ts";
export { VERSION } from "./lib/version.ts";
