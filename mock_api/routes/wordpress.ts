/**
 * WordPress REST: `GET /wp-json/wp/v2/{posts|pages|media}` with `page`, `per_page`
 * (1–100, default 10), `X-WP-Total` / `X-WP-TotalPages` and a Link header, a 400
 * `rest_post_invalid_page_number` past the last page, `after`/`before`,
 * `modified_after`/`modified_before`, `orderby=date|modified|id|title|slug`, `order`, `_fields`;
 * and `GET /wp-json/wp/v2/{type}/{id}`. Errors use WordPress's `{"code","message","data"}` shape.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { MockEnv } from "../context.ts";
import type { WordPressData, WordPressItem, WordPressType } from "../data/wordpress.ts";
import { urlWithParams } from "./request_url.ts";

const TYPES = new Set<string>(["posts", "pages", "media"]);
const ORDER_BY = new Set(["date", "modified", "id", "title", "slug"]);

class WordPressError extends Error {
  constructor(
    readonly status: 400 | 404,
    readonly code: string,
    message: string,
    readonly params?: Record<string, string>,
  ) {
    super(message);
  }
}

function invalidParam(name: string, reason: string): WordPressError {
  return new WordPressError(400, "rest_invalid_param", `Invalid parameter(s): ${name}`, {
    [name]: reason,
  });
}

function intParam(c: Context, name: string, fallback: number, min: number, max: number): number {
  const value = c.req.query(name);
  if (value === undefined || value === "") return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw invalidParam(
      name,
      max === Number.MAX_SAFE_INTEGER
        ? `${name} must be greater than or equal to ${min}`
        : `${name} must be between ${min} (inclusive) and ${max} (inclusive)`,
    );
  }
  return Number(value);
}

/**
 * Parses an ISO 8601 date-time as WordPress does; without a zone it is site time (UTC here).
 * Returns epoch ms.
 */
function dateParam(c: Context, name: string): number | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === "") return undefined;
  const match = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value);
  const ms = match ? Date.parse(match[2] ? value : `${value}Z`) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw invalidParam(name, `Invalid date: ${name} must be ISO 8601, e.g. 2020-01-31T00:00:00`);
  }
  return ms;
}

function itemTime(text: string): number {
  return Date.parse(`${text}Z`);
}

/** Copies the fields `_fields` names (`id,title.rendered`) out of an item. */
function pickFields(item: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const path = field.split(".");
    let source: unknown = item;
    let target = out;
    for (let i = 0; i < path.length; i++) {
      if (source === null || typeof source !== "object" || !(path[i] in source)) break;
      source = (source as Record<string, unknown>)[path[i]];
      if (i === path.length - 1) {
        target[path[i]] = source;
      } else {
        target = (target[path[i]] ??= {}) as Record<string, unknown>;
      }
    }
  }
  return out;
}

function served(item: WordPressItem, origin: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...item,
    link: `${origin}${item.link}`,
    guid: { rendered: `${origin}/?p=${item.id}` },
  };
  if (item.source_url) out.source_url = `${origin}${item.source_url}`;
  return out;
}

function compare(orderBy: string) {
  return (a: WordPressItem, b: WordPressItem): number => {
    const key = orderBy === "title" ? "title" : orderBy;
    const left = key === "title" ? a.title.rendered : a[key as "date" | "modified" | "slug" | "id"];
    const right = key === "title"
      ? b.title.rendered
      : b[key as "date" | "modified" | "slug" | "id"];
    // The id breaks ties, so equal dates never shuffle between pages.
    if (left < right) return -1;
    if (left > right) return 1;
    return a.id - b.id;
  };
}

function wpError(c: Context, error: WordPressError): Response {
  return c.json({
    code: error.code,
    message: error.message,
    data: { status: error.status, ...(error.params ? { params: error.params } : {}) },
  }, error.status);
}

/** The WordPress routes over the generated `site`. */
export function wordpressRoutes(site: WordPressData): Hono<MockEnv> {
  const routes = new Hono<MockEnv>();

  routes.get("/wp-json/wp/v2/:type", (c) => {
    try {
      const type = c.req.param("type");
      if (!TYPES.has(type)) {
        throw new WordPressError(
          404,
          "rest_no_route",
          "No route was found matching the URL and request method.",
        );
      }
      const perPage = intParam(c, "per_page", 10, 1, 100);
      const page = intParam(c, "page", 1, 1, Number.MAX_SAFE_INTEGER);
      const order = c.req.query("order") ?? "desc";
      if (order !== "asc" && order !== "desc") {
        throw invalidParam("order", "order is not one of asc, desc.");
      }
      const orderBy = c.req.query("orderby") ?? "date";
      if (!ORDER_BY.has(orderBy)) {
        throw invalidParam("orderby", `orderby is not one of ${[...ORDER_BY].join(", ")}.`);
      }
      const after = dateParam(c, "after");
      const before = dateParam(c, "before");
      const modifiedAfter = dateParam(c, "modified_after");
      const modifiedBefore = dateParam(c, "modified_before");

      const matching = site[type as WordPressType].filter((item) => {
        const date = itemTime(item.date_gmt);
        const modified = itemTime(item.modified_gmt);
        return (after === undefined || date > after) &&
          (before === undefined || date < before) &&
          (modifiedAfter === undefined || modified > modifiedAfter) &&
          (modifiedBefore === undefined || modified < modifiedBefore);
      });
      matching.sort(compare(orderBy));
      if (order === "desc") matching.reverse();

      const total = matching.length;
      const totalPages = Math.ceil(total / perPage);
      if (page > totalPages && total > 0) {
        throw new WordPressError(
          400,
          "rest_post_invalid_page_number",
          "The page number requested is larger than the number of pages available.",
        );
      }
      const origin = new URL(c.req.url).origin;
      let items: Record<string, unknown>[] = matching.slice((page - 1) * perPage, page * perPage)
        .map((item) => served(item, origin));
      const fields = c.req.query("_fields");
      if (fields) {
        const names = fields.split(",").map((f) => f.trim()).filter((f) => f !== "");
        items = items.map((item) => pickFields(item, names));
      }
      c.header("X-WP-Total", String(total));
      c.header("X-WP-TotalPages", String(totalPages));
      const links: string[] = [];
      if (page > 1) {
        links.push(`<${urlWithParams(c.req.url, { page: String(page - 1) })}>; rel="prev"`);
      }
      if (page < totalPages) {
        links.push(`<${urlWithParams(c.req.url, { page: String(page + 1) })}>; rel="next"`);
      }
      if (links.length > 0) c.header("Link", links.join(", "));
      return c.json(items);
    } catch (error) {
      if (error instanceof WordPressError) return wpError(c, error);
      throw error;
    }
  });

  routes.get("/wp-json/wp/v2/:type/:id{[0-9]+}", (c) => {
    const type = c.req.param("type");
    const id = Number(c.req.param("id"));
    const item = TYPES.has(type) ? site[type as WordPressType].find((i) => i.id === id) : undefined;
    if (!item) {
      return wpError(c, new WordPressError(404, "rest_post_invalid_id", "Invalid post ID."));
    }
    return c.json(served(item, new URL(c.req.url).origin));
  });

  return routes;
}
