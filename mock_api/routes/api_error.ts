/**
 * Errors the table endpoints answer with, in Datasette's JSON shape
 * `{"ok": false, "error", "status", "title"}`. Routes throw {@link ApiError}; the routes' error
 * handler (and the app's) turns it into the response.
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  500: "Internal Server Error",
};

/** A client error with its HTTP status; the message names the bad value and how to fix it. */
export class ApiError extends Error {
  /** The HTTP status to answer with. */
  readonly status: ContentfulStatusCode;
  constructor(status: ContentfulStatusCode, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** The Datasette-shaped error body. */
export function errorBody(status: number, message: string) {
  return { ok: false, error: message, status, title: TITLES[status] ?? "Error" };
}

/** Answers `error` as Datasette-shaped JSON with its status. */
export function errorResponse(c: Context, error: ApiError): Response {
  return c.json(errorBody(error.status, error.message), error.status);
}
