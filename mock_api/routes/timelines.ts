/**
 * Timelines: `GET /2/users/{id}/posts` with `max_results` (5–100, default 10),
 * `since_id` / `until_id` (exclusive, compared as BigInt) and `pagination_token`, newest first,
 * `{"meta":{"result_count":0}}` when nothing matches; `POST /2/users/{id}/posts {"text"}` adds a
 * post (201). Errors use the X API v2 problem shape. Rate-limit headers are the middleware's.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { MockData, MockEnv } from "../context.ts";
import type { TimelineStore } from "../data/timelines.ts";

const USER_ID = /^[0-9]{1,19}$/;
const TOKEN = /^[0-9a-z]{1,20}$/;

function invalidRequest(c: Context, parameter: string, value: string, message: string): Response {
  return c.json({
    errors: [{ parameters: { [parameter]: [value] }, message }],
    title: "Invalid Request",
    detail: "One or more parameters to your request was invalid.",
    type: "https://api.twitter.com/2/problems/invalid-request",
  }, 400);
}

/** The 400 for a parameter that fails its pattern, as the X API words it. */
function notValid(
  c: Context,
  parameter: string,
  value: string,
  where: "query" | "path" = "query",
): Response {
  return invalidRequest(
    c,
    parameter,
    value,
    `The \`${parameter}\` ${where} parameter value [${value}] is not valid`,
  );
}

/** Parses a base-36 pagination token back into the id it stands for. */
function parseToken(token: string): bigint {
  let id = 0n;
  for (const char of token) id = id * 36n + BigInt(parseInt(char, 36));
  return id;
}

/** A timeline query: page size and the exclusive id bounds (`before` from the page token). */
interface TimelineQuery {
  max: number;
  since?: bigint;
  until?: bigint;
  before?: bigint;
}

/** Reads and checks the query of `GET /2/users/{id}/posts`; a 400 when a parameter is bad. */
function readTimelineQuery(c: Context): TimelineQuery | Response {
  const rawMax = c.req.query("max_results") ?? "10";
  const max = /^\d+$/.test(rawMax) ? Number(rawMax) : Number.NaN;
  if (!(max >= 5 && max <= 100)) {
    return invalidRequest(
      c,
      "max_results",
      rawMax,
      `The \`max_results\` query parameter value [${rawMax}] is not between 5 and 100`,
    );
  }
  const query: TimelineQuery = { max };
  for (const [name, field] of [["since_id", "since"], ["until_id", "until"]] as const) {
    const value = c.req.query(name);
    if (value === undefined || value === "") continue;
    if (!USER_ID.test(value)) return notValid(c, name, value);
    query[field] = BigInt(value);
  }
  const token = c.req.query("pagination_token");
  if (token !== undefined && token !== "") {
    if (!TOKEN.test(token)) return notValid(c, "pagination_token", token);
    query.before = parseToken(token);
  }
  return query;
}

/** The timeline routes over `store`, with posts added at `data.now()`. */
export function timelineRoutes(data: MockData, store: TimelineStore): Hono<MockEnv> {
  const routes = new Hono<MockEnv>();

  routes.get("/2/users/:id/posts", (c) => {
    const userId = c.req.param("id");
    if (!USER_ID.test(userId)) return notValid(c, "id", userId);
    const query = readTimelineQuery(c);
    if (query instanceof Response) return query;
    const { max, since, until, before } = query;
    const matching = store.posts(userId).filter(({ id }) =>
      (since === undefined || id > since) && (until === undefined || id < until) &&
      (before === undefined || id < before)
    );
    const page = matching.slice(0, max);
    if (page.length === 0) return c.json({ meta: { result_count: 0 } });
    const oldest = page[page.length - 1];
    return c.json({
      data: page.map((entry) => entry.post),
      meta: {
        result_count: page.length,
        newest_id: page[0].post.id,
        oldest_id: oldest.post.id,
        ...(matching.length > max ? { next_token: oldest.id.toString(36) } : {}),
      },
    });
  });

  routes.post("/2/users/:id/posts", async (c) => {
    if (c.get("canWrite") === false) {
      return c.json({
        title: "Forbidden",
        detail: "this credential may not post; use the write token",
        type: "about:blank",
        status: 403,
      }, 403);
    }
    const userId = c.req.param("id");
    if (!USER_ID.test(userId)) return notValid(c, "id", userId, "path");
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      body = undefined;
    }
    const text = (body as { text?: unknown } | undefined)?.text;
    if (typeof text !== "string" || text.length === 0 || text.length > 280) {
      return invalidRequest(
        c,
        "text",
        String(text),
        'the body must be JSON {"text": "..."} with 1 to 280 characters of text',
      );
    }
    return c.json({ data: store.add(userId, text, data.now()) }, 201);
  });

  return routes;
}
