/**
 * The fourth rule of the starting-point precedence: with no watermark in
 * state, an incremental asset starts from the newest `load_date=` partition already in its
 * output — the local folder (`parquet/<asset>/…/load_date=YYYY-MM-DD/…`) or the object storage
 * of `output.destination` (`<prefix>/<asset>/load_date=…/…`) — so a lost or fresh state does
 * not re-harvest everything an earlier load already delivered. The start is the beginning of that
 * day (UTC): the newest load may have been cut short, so its whole day is read again.
 * @module
 */
import { join } from "node:path";
import type { Env } from "../config/load.ts";
import type { AssetConfig } from "../config/schema.ts";
import { openObjectStore } from "../object_store/open.ts";
import { assetFolder } from "../pipeline/asset_output.ts";

/** The newest `load_date=` found for an asset, and where. */
export interface OutputStart {
  /** `YYYY-MM-DD`. */
  date: string;
  /** Where it was found, for the report (`parquet/posts/load_date=2026-11-23`, `s3://lake/wp/posts/…`). */
  where: string;
}

/** Options of {@link newestLoadDate}. */
export interface NewestLoadDateOptions {
  /** Environment of an S3 destination (endpoint, credentials). @default Deno.env.toObject() */
  env?: Env;
}

const LOAD_DATE = /^load_date=(\d{4}-\d{2}-\d{2})$/;

/**
 * The newest `load_date=` partition of an asset's output, local or in object storage; null when
 * there is none. A destination that cannot be listed is an error (the caller decides whether it
 * stops the run).
 *
 * @example
 * ```ts
 * import { newestLoadDate } from "./output_start.ts";
 * const found = await newestLoadDate("out/wordpress", postsAsset);
 * // { date: "2026-11-23", where: "parquet/posts/load_date=2026-11-23" }
 * ```
 */
export async function newestLoadDate(
  out: string,
  asset: AssetConfig,
  options: NewestLoadDateOptions = {},
): Promise<OutputStart | null> {
  const folder = assetFolder(asset.name, asset.output);
  let best = await newestLocal(join(out, folder), folder);
  const destination = asset.output.destination;
  if (destination !== undefined) {
    const store = await openObjectStore(destination, { env: options.env });
    try {
      for (const object of await store.list(`${asset.name}/`)) {
        const segments = object.key.split("/");
        const i = segments.findIndex((s) => LOAD_DATE.test(s));
        if (i < 0) continue;
        const date = LOAD_DATE.exec(segments[i])![1];
        if (best === null || date > best.date) {
          const url = object.url;
          best = { date, where: url.slice(0, url.indexOf(segments[i]) + segments[i].length) };
        }
      }
    } finally {
      await store.close();
    }
  }
  return best;
}

/** Walks the folders under `dir` (never into a `load_date=` folder) for the newest date. */
async function newestLocal(dir: string, shown: string): Promise<OutputStart | null> {
  let best: OutputStart | null = null;
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
  for (const entry of entries) {
    if (!entry.isDirectory || entry.name.startsWith(".")) continue;
    const m = LOAD_DATE.exec(entry.name);
    const found = m
      ? { date: m[1], where: `${shown}/${entry.name}` }
      : await newestLocal(join(dir, entry.name), `${shown}/${entry.name}`);
    if (found && (best === null || found.date > best.date)) best = found;
  }
  return best;
}
