/**
 * The mock API test bed: `createApp` (in-process Hono app) and `startMockServer` (served over
 * HTTP), with their options.
 * @module
 */
export { checkMockOptions, createApp, type MockOptions } from "./app.ts";
export { type MockServer, type MockServerOptions, startMockServer } from "./server.ts";
export type { MockApp, MockData, MockEnv, MockVariables } from "./context.ts";
