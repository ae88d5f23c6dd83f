/**
 * The pagination kinds a config may name. The built-in strategies register here through the same
 * {@link registerPaginator} call a user makes for an API Tidemark does not know; a config then
 * names the kind in `pagination.type` and its options beside it.
 * @module
 */
import { createRegistry, type Registry } from "../core/registry.ts";
import type { StandardSchemaV1 } from "../core/standard_schema.ts";
import type { Paginator } from "./paginator.ts";

/** What a paginator is created with besides its options. */
export interface PaginatorContext {
  /** Names the walk in errors (asset, partition). */
  label: string;
  /** Query parameters dropped from followed links (a query-auth key). */
  stripParams: readonly string[];
  /** Timelines: fetch newer than this id. */
  sinceId?: string | null;
  /** Timelines: fetch older than this id. */
  untilId?: string | null;
}

/** A pagination kind: how its `pagination:` options are checked, and how a walk's paginator is made. */
export interface PaginatorKind<C extends { type: string } = { type: string }> {
  /**
   * Checks the whole `pagination:` object of this kind, `type` included, and fills its defaults;
   * its issues are reported at `assets[i].pagination.<field>` like the built-ins'.
   */
  schema: StandardSchemaV1<unknown, C>;
  /** The paginator of one walk (wrapped by Tidemark in the repeated-cursor and `max_pages` guards). */
  create(config: NoInfer<C>, context: PaginatorContext): Paginator;
}

/** The pagination kinds; the built-ins register first. */
export const paginatorRegistry: Registry<PaginatorKind> = createRegistry<PaginatorKind>(
  "pagination",
);

/**
 * Adds a pagination kind that configs may name in `pagination.type`. Names are lower-case
 * (`skip_token`); a name already registered, a built-in included, is refused. Returns a function
 * that removes the kind again (tests, plugins that unload).
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { registerPaginator } from "./registry.ts";
 * registerPaginator("skip_token", {
 *   schema: z.strictObject({ type: z.literal("skip_token"), param: z.string().default("skip") }),
 *   create: (config) => ({
 *     type: "skip_token",
 *     endStatuses: [],
 *     first: (base) => ({ ...base, page: 1, cursor: null }),
 *     next: (prev, res) => {
 *       const token = (res.body as { skip?: string }).skip;
 *       return token ? { url: prev.url, params: { ...prev.params, [config.param]: token }, page: prev.page + 1, cursor: token } : "done";
 *     },
 *     resume: (base, from) => ({ url: base.url, params: { ...base.params, [config.param]: from.cursor }, page: from.page + 1, cursor: from.cursor }),
 *   }),
 * });
 * ```
 */
export function registerPaginator<C extends { type: string }>(
  name: string,
  kind: PaginatorKind<C>,
): () => void {
  return paginatorRegistry.register(name, kind as unknown as PaginatorKind);
}

/** The kind registered as `name`, or undefined. */
export function paginatorKind(name: string): PaginatorKind | undefined {
  return paginatorRegistry.get(name);
}

/** Every registered kind's name, in registration order (the built-ins first). */
export function paginatorKinds(): string[] {
  return paginatorRegistry.names();
}
