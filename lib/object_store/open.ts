/**
 * {@link openObjectStore} without the AWS SDK on the import graph: `s3_store.ts` (and with it
 * `@aws-sdk/client-s3`, ~300 ms of CommonJS loading and ~20 MB of heap) is imported only when a
 * destination is on S3, so a harvest that writes to a local folder, or to no destination, never
 * loads it. The harvest imports this module; `mod.ts` re-exports it.
 * @module
 */
import { type Destination, parseDestination } from "./destination.ts";
import { openLocalStore } from "./local_store.ts";
import type { ObjectStore, ObjectStoreOptions } from "./store.ts";

/**
 * Opens the destination of `output.destination` (a string, parsed with the injected env, or a
 * parsed {@link Destination}). Call `preflight()` before harvesting, `upload()` after each
 * finished file, `close()` at the end.
 *
 * @example
 * ```ts
 * import { openObjectStore } from "./mod.ts";
 * await using store = await openObjectStore("s3://lake/raw/northwind", {
 *   env: { S3_ENDPOINT: "http://127.0.0.1:4568", AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" },
 *   loadTime: new Date("2026-11-23T10:15:00Z"),
 * });
 * await store.preflight(); // ConfigError: missing bucket, bad credentials, unreachable endpoint
 * const object = await store.upload("out/parquet/Orders/part-r1-00001.parquet", "Orders/part-r1-00001.parquet");
 * // object.url → manifest `object_url`
 * ```
 */
export async function openObjectStore(
  destination: string | Destination,
  options: ObjectStoreOptions = {},
): Promise<ObjectStore> {
  const parsed = typeof destination === "string"
    ? parseDestination(destination, options.env === undefined ? {} : { env: options.env })
    : destination;
  const { env: _env, ...rest } = options;
  if (parsed.kind !== "s3") return openLocalStore(parsed, rest);
  const { openS3Store } = await import("./s3_store.ts");
  return openS3Store(parsed, rest);
}
