/**
 * The built-in pagination kinds, registered through the same call a user's kind uses. Imported
 * for its effect by the package's `mod.ts`, before any config is parsed.
 * @module
 */
import { bodyLinkPaginator } from "./body_link.ts";
import { cursorPaginator } from "./cursor.ts";
import { lastRecordPaginator } from "./last_record.ts";
import { linkPaginator } from "./link_header.ts";
import { nonePaginator } from "./none.ts";
import { offsetPaginator } from "./offset.ts";
import { pagePaginator } from "./page.ts";
import { registerPaginator } from "./registry.ts";
import {
  bodyLinkPaginationSchema,
  cursorPaginationSchema,
  linkPaginationSchema,
  nonePaginationSchema,
  offsetPaginationSchema,
  pagePaginationSchema,
  timelinePaginationSchema,
} from "./schema.ts";
import { timelinePaginator } from "./timeline.ts";

registerPaginator("cursor", {
  schema: cursorPaginationSchema,
  // A cursor read from the last record (Stripe's `starting_after`) comes with `has_more_path`.
  create: (config, context) =>
    config.has_more_path !== undefined
      ? lastRecordPaginator(config, context)
      : cursorPaginator(config, context),
});
registerPaginator("offset", { schema: offsetPaginationSchema, create: offsetPaginator });
registerPaginator("page", { schema: pagePaginationSchema, create: pagePaginator });
registerPaginator("link", { schema: linkPaginationSchema, create: linkPaginator });
registerPaginator("body_link", { schema: bodyLinkPaginationSchema, create: bodyLinkPaginator });
registerPaginator("timeline", { schema: timelinePaginationSchema, create: timelinePaginator });
registerPaginator("none", {
  schema: nonePaginationSchema,
  create: (_config, context) => nonePaginator(context),
});
