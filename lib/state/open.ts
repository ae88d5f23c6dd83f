/**
 * One way to open the state of a config: `state.backend` picks SQLite (the default: one file in
 * the out folder) or Deno KV (Deno Deploy, where there is no writable disk).
 * @module
 */
import { join } from "node:path";
import type { z } from "zod";
import type { stateConfigSchema } from "../config/schema.ts";
import { StateError } from "../core/errors.ts";
import { openKvState } from "./kv.ts";
import type { StateStore } from "./mod.ts";
import { openSqliteState } from "./sqlite.ts";
import { pathExists } from "../core/atomic_file.ts";

/** A config's `state:` as written (`backend` defaults to `sqlite`). */
export type StateSpec = z.input<typeof stateConfigSchema>;

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
  /** `sqlite` or `kv`. */
  backend: "sqlite" | "kv";
  /** File path or KV URL; undefined for the default KV database (Deno Deploy). */
  path: string | undefined;
}

/**
 * Resolves where the state of `spec` lives: `spec.path`, else `<out>/state.sqlite` (SQLite) or
 * `<out>/state.kv` (KV with a local out folder), else the default KV database.
 */
export function stateLocation(spec: StateSpec = {}, options: OpenStateOptions = {}): StateLocation {
  const backend = spec.backend ?? "sqlite";
  const local = options.out !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(options.out);
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

async function exists(path: string): Promise<boolean> {
  try {
    return await pathExists(path);
  } catch (error) {
    throw new StateError(`cannot read state ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
