/**
 * The app's last-resort answers: unknown paths and thrown errors become Datasette-shaped JSON
 * (`{"ok": false, "error", "status", "title"}`), never an HTML page or a stack trace. Malformed
 * input that reaches a route as an exception (bad JSON body, bad percent-encoding) is a 400.
 * @module
 */
import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { MockEnv } from "../context.ts";
import { isClientGone } from "./faults.ts";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  500: "Internal Server Error",
};

function body(status: number, error: string) {
  return { ok: false, error, status, title: TITLES[status] ?? "Error" };
}

/** Answers an unknown path with a JSON 404. */
export const notFoundHandler: NotFoundHandler<MockEnv> = (c) =>
  c.json(body(404, `not found: ${c.req.path}`), 404);

/**
 * Turns a thrown error into JSON: an `HTTPException` keeps its status, a parse error is a 400,
 * anything else a 500 with a generic message (the detail goes to stderr, without the query
 * string, which may hold an API key). An error of a client that gave up is rethrown: nobody is
 * listening (see `isClientGone`).
 */
export const errorHandler: ErrorHandler<MockEnv> = (error, c) => {
  if (isClientGone(error)) throw error;
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return c.json(body(status, error.message || TITLES[status] || "error"), status);
  }
  if (error instanceof SyntaxError) {
    return c.json(body(400, `invalid JSON in the request body: ${error.message}`), 400);
  }
  if (error instanceof URIError) {
    return c.json(body(400, `malformed percent-encoding in the URL: ${error.message}`), 400);
  }
  console.error(`mock_api: internal error on ${c.req.method} ${c.req.path}: ${error.message}`);
  return c.json(body(500, "internal server error"), 500);
};
