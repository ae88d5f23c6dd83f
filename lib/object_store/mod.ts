/**
 * Object storage: `output.destination` receives every finished file under a
 * timestamped key (`<prefix>/<asset>/load_date=YYYY-MM-DD/load_time=HHMMSS/<file>`), verified
 * by size and ETag, with the object URL for the manifest. S3 and S3-compatible servers, or a
 * local folder, behind one {@link ObjectStore} interface.
 * @module
 */
export * from "./destination.ts";
export * from "./store.ts";
export { digestFile, type DigestFileOptions, multipartEtag, type UploadDigest } from "./etag.ts";
export { type LoadStamp, loadStamp, objectKey, type ObjectKeyOptions } from "./object_key.ts";
export { openS3Store, S3_MAX_PART_SIZE, S3_MIN_PART_SIZE } from "./s3_store.ts";
export { openLocalStore } from "./local_store.ts";
export { openObjectStore } from "./open.ts";
