/**
 * One way to open the state of a config: `state.backend` picks SQLite (the default: one file in
 * the out folder), Deno KV (Deno Deploy, where there is no writable disk) or PostgreSQL (a state
 * that outlives the machine). A `state.path` (or `tidemark state --state`) that is a
 * `postgres://` / `postgresql://` URL means PostgreSQL without saying `backend: postgres`.
 * @module
 */
import { join } from "node:path";
import type { StateConfigInput } from "./schema.ts";
import { StateError } from "../core/errors.ts";
import { openKvState } from "./kv.ts";
import type { StateStore } from "./mod.ts";
import { openSqliteState } from "./sqlite.ts";
import { pathExists } from "../core/atomic_file.ts";
import { redactUrl } from "../core/redact.ts";
import { isPostgresUrl } from "../core/postgres_url.ts";

/** A config's `state:` as written (`backend` defaults to `sqlite`). */
export type StateSpec = StateConfigInput;

/** Options of {@link openStateStore} and {@link stateLocation}. */
export interface OpenStateOptions {
  /** The out folder; the state lives in it unless `spec.path` says otherwise. */
  out?: string;
  /** Clock of the store. @default () => new Date() */
  now?: () => Date;
  /** Create the state when it does not exist yet; `false` refuses (for read-only tools). @default true */
  create?: boolean;
}

/** Where a state lives: its backend and path (undefined: the default Deno KV database). */
export interface StateLocation {
  /** `sqlite`, `kv` or `postgres`. */
  backend: "sqlite" | "kv" | "postgres";
  /**
   * File path, KV URL or PostgreSQL URL (which may hold a password: show it through
   * {@link describeState}); undefined for the default KV database (Deno Deploy).
   */
  path: string | undefined;
}

/**
 * Resolves where the state of `spec` lives: `spec.path`, else `<out>/state.sqlite` (SQLite) or
 * `<out>/state.kv` (KV with a local out folder), else the default KV database. A `postgres://`
 * path is PostgreSQL whatever the (defaulted) backend, except an explicit `kv`.
 */
export function stateLocation(spec: StateSpec = {}, options: OpenStateOptions = {}): StateLocation {
  const backend = spec.backend ?? "sqlite";
  const local = options.out !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(options.out);
  if (isPostgresUrl(spec.path)) {
    if (backend === "kv") {
      throw new StateError(
        `state.backend kv cannot use ${
          redactUrl(spec.path)
        }, a PostgreSQL URL; set state.backend: postgres (or leave it out)`,
      );
    }
    return { backend: "postgres", path: spec.path };
  }
  if (backend === "postgres") {
    throw new StateError(
      `state.backend postgres needs state.path, a postgres://user@host:port/database URL, got ${
        spec.path === undefined ? "none" : `"${spec.path}"`
      }`,
    );
  }
  if (spec.path !== undefined) return { backend, path: spec.path };
  if (backend === "kv") {
    return { backend, path: local ? join(options.out!, "state.kv") : undefined };
  }
  if (!local) {
    throw new StateError(
      `the SQLite state needs a local out folder or state.path, got ${
        options.out === undefined ? "neither" : `out "${options.out}"`
      }; set state.path, or state.backend: kv`,
    );
  }
  return { backend, path: join(options.out!, "state.sqlite") };
}

/**
 * Opens the state store a config's `state:` names.
 * @example
 * ```ts
 * const state = await openStateStore({ backend: "kv" }, { out: "out" }); // out/state.kv
 * await state.close();
 * ```
 */
export async function openStateStore(
  spec: StateSpec = {},
  options: OpenStateOptions = {},
): Promise<StateStore> {
  const { backend, path } = stateLocation(spec, options);
  if (backend === "postgres") {
    // Loaded on demand: a SQLite or KV run never loads the PostgreSQL driver.
    const { openPostgresState } = await import("./postgres.ts");
    return await openPostgresState(path!, { now: options.now, create: options.create });
  }
  const local = path !== undefined && path !== ":memory:" && !/^https?:\/\//.test(path);
  if (options.create === false && local && !(await exists(path))) {
    throw new StateError(
      `no ${backend} state at ${path}: nothing has run with this out folder yet (check --out)`,
    );
  }
  return backend === "kv"
    ? await openKvState(path, { now: options.now })
    : openSqliteState(path!, { now: options.now });
}

/**
 * How messages and listings name a state: its path, a PostgreSQL URL with the credentials
 * masked, or the default KV database.
 */
export function describeState(location: StateLocation): string {
  if (location.path === undefined) return "the default Deno KV database";
  return location.backend === "postgres" ? redactUrl(location.path) : location.path;
}

async function exists(path: string): Promise<boolean> {
  try {
    return await pathExists(path);
  } catch (error) {
    throw new StateError(`cannot read state ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
