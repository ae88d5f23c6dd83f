/**
 * Object storage: `output.destination` receives every finished file under a
 * timestamped key (`<prefix>/<asset>/load_date=YYYY-MM-DD/load_time=HHMMSS/<file>`), verified
 * by size and ETag, with the object URL for the manifest. S3 and S3-compatible servers, or a
 * local folder, behind one {@link ObjectStore} interface.
 * @module
 */
import { type Destination, parseDestination } from "./destination.ts";
import { openLocalStore } from "./local_store.ts";
import { openS3Store } from "./s3_store.ts";
import type { ObjectStore, ObjectStoreOptions } from "./store.ts";

export * from "./destination.ts";
export * from "./store.ts";
export { digestFile, type DigestFileOptions, multipartEtag, type UploadDigest } from "./etag.ts";
export { type LoadStamp, loadStamp, objectKey, type ObjectKeyOptions } from "./object_key.ts";
export { openS3Store, S3_MAX_PART_SIZE, S3_MIN_PART_SIZE } from "./s3_store.ts";
export { openLocalStore } from "./local_store.ts";

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
export function openObjectStore(
  destination: string | Destination,
  options: ObjectStoreOptions = {},
): Promise<ObjectStore> {
  try {
    const parsed = typeof destination === "string"
      ? parseDestination(destination, options.env === undefined ? {} : { env: options.env })
      : destination;
    const { env: _env, ...rest } = options;
    return Promise.resolve(
      parsed.kind === "s3" ? openS3Store(parsed, rest) : openLocalStore(parsed, rest),
    );
  } catch (error) {
    return Promise.reject(error);
  }
}
