/**
 * The `pagination:` options of an asset, as zod schemas: owned here, beside the strategies that
 * read them; the config composes them.
 * @module
 */
import { z } from "zod";
import { selectorSchema } from "../core/select.ts";
import type { Assert, DefaultsOptional, SchemaIs } from "../core/schema_type.ts";
import { type CustomKindConfig, customKindSchema, routeCustomKind } from "../core/registry.ts";
import { paginatorRegistry } from "./registry.ts";

/** The pagination types a config may name, in the order error messages list them. */
export const PAGINATION_TYPES = [
  "cursor",
  "offset",
  "page",
  "link",
  "body_link",
  "timeline",
  "none",
] as const;

const pageSize = z.int().min(1).max(1_000_000);
const paramName = z.string().min(1);

/** Cursor from a body field (`next`, `meta.next_cursor`) or from the last record (`data.-1.id` + `has_more_path`). */
export const cursorPaginationSchema = z.strictObject({
  type: z.literal("cursor"),
  /** Query parameter the cursor is sent in (`_next`, `starting_after`, `cursor`). */
  param: paramName,
  /** Where the next cursor is in the body. @default "next" */
  response_path: selectorSchema.default("next"),
  /** A boolean in the body that says whether more pages follow (`has_more`); false ends. */
  has_more_path: selectorSchema.optional(),
  /** Page size sent in `limit_param`. */
  limit: pageSize.optional(),
  /** Query parameter for the page size. @default "limit" */
  limit_param: paramName.default("limit"),
});

/** Offset/limit; ends at `total_path` when given, else on a short (or empty) page. */
export const offsetPaginationSchema = z.strictObject({
  type: z.literal("offset"),
  /** Query parameter of the offset. @default "offset" */
  param: paramName.default("offset"),
  /** Page size. @default 100 */
  limit: pageSize.default(100),
  /** Query parameter of the page size. @default "limit" */
  limit_param: paramName.default("limit"),
  /** Where the total record count is in the body (`count`, `meta.total`). */
  total_path: selectorSchema.optional(),
  /**
   * Without a total, end the walk on a page shorter than `limit`, saving one request. Off by
   * default: a server that caps the page size below `limit` answers every page short, and the
   * walk would end after the first one, silently; off, only an empty page ends it. Turn on for
   * an API known to honour `limit`. @default false
   */
  stop_on_short_page: z.boolean().default(false),
  /** First offset. @default 0 */
  start: z.int().min(0).default(0),
});

/** Page numbers; ends at the total pages (body or header), on an empty page, or on an "end" status (WordPress: 400 past the last page). */
export const pagePaginationSchema = z.strictObject({
  type: z.literal("page"),
  /** Query parameter of the page number. @default "page" */
  param: paramName.default("page"),
  /** Number of the first page. @default 1 */
  start: z.int().min(0).default(1),
  /** Page size sent in `limit_param`. */
  limit: pageSize.optional(),
  /** Query parameter of the page size. @default "per_page" */
  limit_param: paramName.default("per_page"),
  /** Where the total number of pages is in the body (`total_pages`). */
  total_pages_path: selectorSchema.optional(),
  /** Response header holding the total number of pages (`X-WP-TotalPages`). */
  total_pages_header: z.string().min(1).optional(),
  /** Statuses that mean "past the last page" rather than failure (WordPress: `[400]`). @default [] */
  end_statuses: z.array(z.int().min(400).max(599)).default([]),
  /**
   * With a page size and no total, end the walk on a page shorter than `limit`. Off by default,
   * as for offsets: a server that ignores the page size would end the walk after one page;
   * off, an empty page (or an end status) ends it. @default false
   */
  stop_on_short_page: z.boolean().default(false),
});

/** RFC 8288 `Link` header (`<…>; rel="next"`). */
export const linkPaginationSchema = z.strictObject({
  type: z.literal("link"),
  /** The relation to follow. @default "next" */
  rel: z.string().min(1).default("next"),
  /** Page size sent on the first request. */
  limit: pageSize.optional(),
  /** Query parameter of the page size. @default "per_page" */
  limit_param: paramName.default("per_page"),
  /** Follow a next link to another origin (auth would be sent there). @default false */
  allow_cross_origin: z.boolean().default(false),
});

/** A next-page URL in the body (`links.next`, `next_url`). */
export const bodyLinkPaginationSchema = z.strictObject({
  type: z.literal("body_link"),
  /** Where the next URL is in the body. @default "links.next" */
  response_path: selectorSchema.default("links.next"),
  /** Page size sent on the first request. */
  limit: pageSize.optional(),
  /** Query parameter of the page size. @default "size" */
  limit_param: paramName.default("size"),
  /** Follow a next link to another origin (auth would be sent there). @default false */
  allow_cross_origin: z.boolean().default(false),
});

/** Newest-first timelines with `since_id` / `until_id` / `pagination_token`. */
export const timelinePaginationSchema = z.strictObject({
  type: z.literal("timeline"),
  /** Query parameter for "newer than". @default "since_id" */
  since_param: paramName.default("since_id"),
  /** Query parameter for "older than". @default "until_id" */
  until_param: paramName.default("until_id"),
  /** Query parameter of the page token. @default "pagination_token" */
  token_param: paramName.default("pagination_token"),
  /** Where the next token is in the body. @default "meta.next_token" */
  token_path: selectorSchema.default("meta.next_token"),
  /** Where the page's newest id is. @default "meta.newest_id" */
  newest_path: selectorSchema.default("meta.newest_id"),
  /** Where the page's oldest id is. @default "meta.oldest_id" */
  oldest_path: selectorSchema.default("meta.oldest_id"),
  /** Record field holding the id (used when the body has no newest/oldest). @default "id" */
  id_field: selectorSchema.default("id"),
  /** Page size. */
  limit: pageSize.optional(),
  /** Query parameter of the page size. @default "max_results" */
  limit_param: paramName.default("max_results"),
});

/** A single request. */
export const nonePaginationSchema = z.strictObject({ type: z.literal("none") });

/**
 * `pagination:` of a kind added with `registerPaginator`: parsed as its name and options, the
 * options checked by the kind's own schema (its issues keep their field paths).
 */
export const customPaginationSchema = customKindSchema(
  paginatorRegistry,
  PAGINATION_TYPES,
);

/** `pagination:` — one of {@link PAGINATION_TYPES}, or a kind added with `registerPaginator`. */
export const paginationSchema = z.preprocess(
  routeCustomKind(PAGINATION_TYPES),
  z.discriminatedUnion("type", [
    cursorPaginationSchema,
    offsetPaginationSchema,
    pagePaginationSchema,
    linkPaginationSchema,
    bodyLinkPaginationSchema,
    timelinePaginationSchema,
    nonePaginationSchema,
    customPaginationSchema,
  ]),
);
/** Parsed `pagination: { type: cursor }` (see {@link cursorPaginationSchema}). */
export interface CursorPaginationConfig {
  /** The kind. */
  type: "cursor";
  /** Query parameter the cursor is sent in. */
  param: string;
  /** Where the next cursor is in the body. @default "next" */
  response_path: string;
  /** A boolean in the body that says whether more pages follow. */
  has_more_path?: string;
  /** Page size sent in `limit_param`. */
  limit?: number;
  /** Query parameter for the page size. @default "limit" */
  limit_param: string;
}

/** Parsed `pagination: { type: offset }` (see {@link offsetPaginationSchema}). */
export interface OffsetPaginationConfig {
  /** The kind. */
  type: "offset";
  /** Query parameter of the offset. @default "offset" */
  param: string;
  /** Page size. @default 100 */
  limit: number;
  /** Query parameter of the page size. @default "limit" */
  limit_param: string;
  /** Where the total record count is in the body. */
  total_path?: string;
  /** Without a total, end the walk on a page shorter than `limit`. @default false */
  stop_on_short_page: boolean;
  /** First offset. @default 0 */
  start: number;
}

/** Parsed `pagination: { type: page }` (see {@link pagePaginationSchema}). */
export interface PagePaginationConfig {
  /** The kind. */
  type: "page";
  /** Query parameter of the page number. @default "page" */
  param: string;
  /** Number of the first page. @default 1 */
  start: number;
  /** Page size sent in `limit_param`. */
  limit?: number;
  /** Query parameter of the page size. @default "per_page" */
  limit_param: string;
  /** Where the total number of pages is in the body. */
  total_pages_path?: string;
  /** Response header holding the total number of pages. */
  total_pages_header?: string;
  /** Statuses that mean "past the last page". @default [] */
  end_statuses: number[];
  /** With a page size and no total, end the walk on a short page. @default false */
  stop_on_short_page: boolean;
}

/** Parsed `pagination: { type: link }` (see {@link linkPaginationSchema}). */
export interface LinkPaginationConfig {
  /** The kind. */
  type: "link";
  /** The relation to follow. @default "next" */
  rel: string;
  /** Page size sent on the first request. */
  limit?: number;
  /** Query parameter of the page size. @default "per_page" */
  limit_param: string;
  /** Follow a next link to another origin. @default false */
  allow_cross_origin: boolean;
}

/** Parsed `pagination: { type: body_link }` (see {@link bodyLinkPaginationSchema}). */
export interface BodyLinkPaginationConfig {
  /** The kind. */
  type: "body_link";
  /** Where the next URL is in the body. @default "links.next" */
  response_path: string;
  /** Page size sent on the first request. */
  limit?: number;
  /** Query parameter of the page size. @default "size" */
  limit_param: string;
  /** Follow a next link to another origin. @default false */
  allow_cross_origin: boolean;
}

/** Parsed `pagination: { type: timeline }` (see {@link timelinePaginationSchema}). */
export interface TimelinePaginationConfig {
  /** The kind. */
  type: "timeline";
  /** Query parameter for "newer than". @default "since_id" */
  since_param: string;
  /** Query parameter for "older than". @default "until_id" */
  until_param: string;
  /** Query parameter of the page token. @default "pagination_token" */
  token_param: string;
  /** Where the next token is in the body. @default "meta.next_token" */
  token_path: string;
  /** Where the page's newest id is. @default "meta.newest_id" */
  newest_path: string;
  /** Where the page's oldest id is. @default "meta.oldest_id" */
  oldest_path: string;
  /** Record field holding the id. @default "id" */
  id_field: string;
  /** Page size. */
  limit?: number;
  /** Query parameter of the page size. @default "max_results" */
  limit_param: string;
}

/** Parsed `pagination:`: one of the built-in kinds, or a registered one. */
export type PaginationConfig =
  | CursorPaginationConfig
  | OffsetPaginationConfig
  | PagePaginationConfig
  | LinkPaginationConfig
  | BodyLinkPaginationConfig
  | TimelinePaginationConfig
  | { type: "none" }
  | CustomKindConfig;

/**
 * `pagination:` as written: a built-in kind with its defaults left out, or a registered kind
 * named by its `type` with its own options beside it.
 */
export type PaginationConfigInput =
  | DefaultsOptional<CursorPaginationConfig, "response_path" | "limit_param">
  | DefaultsOptional<
    OffsetPaginationConfig,
    "param" | "limit" | "limit_param" | "stop_on_short_page" | "start"
  >
  | DefaultsOptional<
    PagePaginationConfig,
    "param" | "start" | "limit_param" | "end_statuses" | "stop_on_short_page"
  >
  | DefaultsOptional<LinkPaginationConfig, "rel" | "limit_param" | "allow_cross_origin">
  | DefaultsOptional<
    BodyLinkPaginationConfig,
    "response_path" | "limit_param" | "allow_cross_origin"
  >
  | Partial<TimelinePaginationConfig> & { type: "timeline" }
  | { type: "none" }
  | CustomKindConfig
  | { type: string; [option: string]: unknown };

type _Pagination = Assert<
  SchemaIs<typeof paginationSchema, PaginationConfig, PaginationConfigInput>
>;
