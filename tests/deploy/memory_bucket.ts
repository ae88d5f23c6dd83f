/**
 * An in-memory {@link Bucket} for the deploy tests: the same interface as the S3 one, objects in
 * a Map, so tests of the runner need no S3 server.
 * @module
 */
import type { Bucket, BucketObject } from "../../lib/object_store/bucket.ts";

/** A bucket held in `objects` (full key → bytes). */
export function memoryBucket(
  objects = new Map<string, Uint8Array>(),
  prefix = "",
): Bucket & { objects: Map<string, Uint8Array> } {
  const keyOf = (path: string) => (prefix === "" ? path : `${prefix}/${path}`);
  return {
    objects,
    url: `s3://memory/${prefix}`,
    put: (path, data) => {
      objects.set(keyOf(path), data.slice());
      return Promise.resolve();
    },
    get: (path) => Promise.resolve(objects.get(keyOf(path))?.slice() ?? null),
    list: (relative = "") => {
      const base = keyOf("");
      const found: BucketObject[] = [...objects.entries()]
        .filter(([key]) => key.startsWith(keyOf(relative)))
        .map(([key, data]) => ({ path: key.slice(base.length), size: data.length, etag: "" }));
      return Promise.resolve(found.sort((a, b) => (a.path < b.path ? -1 : 1)));
    },
    delete: (paths) => {
      for (const path of paths) objects.delete(keyOf(path));
      return Promise.resolve();
    },
    child: (name) => memoryBucket(objects, keyOf(name)),
    close: () => {},
  };
}
