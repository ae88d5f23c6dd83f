/**
 * The `state:` options of a config (backend and path): owned here, beside the stores that read
 * them; the config composes them.
 * @module
 */
import { z } from "zod";
import { isPostgresUrl } from "../core/postgres_url.ts";
import type { Assert, DefaultsOptional, SchemaIs } from "../core/schema_type.ts";

/** Parsed `state:` — where state lives (SQLite file by default; Deno KV; PostgreSQL by URL). */
export interface StateConfig {
  /** `sqlite`, `kv` or `postgres`. @default "sqlite" */
  backend: "sqlite" | "kv" | "postgres";
  /** State file, KV path, or `postgres://…` URL; default `<out>/state.sqlite`. */
  path?: string;
}

/** `state:` as written. */
export type StateConfigInput = DefaultsOptional<StateConfig, "backend">;

/** Where state lives (SQLite file by default; Deno KV on Deploy; PostgreSQL by URL). */
export const stateConfigSchema = z.strictObject({
  /** `postgres` needs `path`, a `postgres://` URL (such a path implies it). @default "sqlite" */
  backend: z.enum(["sqlite", "kv", "postgres"]).default("sqlite"),
  /**
   * State file (sqlite), KV path, or `postgres://user@host:port/db[?schema=NAME]` URL (password
   * from `PGPASSWORD`); default `<out>/state.sqlite`.
   */
  path: z.string().min(1).optional(),
}).superRefine((state, ctx) => {
  const url = state.path !== undefined && isPostgresUrl(state.path);
  if (state.backend === "postgres" && !url) {
    ctx.addIssue({
      code: "custom",
      path: ["path"],
      message: "backend postgres needs path: postgres://user@host:port/database",
    });
  }
  if (state.backend === "kv" && url) {
    ctx.addIssue({
      code: "custom",
      path: ["backend"],
      message: "a postgres:// path is a PostgreSQL state; set backend: postgres (or leave it out)",
    });
  }
});

type _State = Assert<SchemaIs<typeof stateConfigSchema, StateConfig, StateConfigInput>>;
