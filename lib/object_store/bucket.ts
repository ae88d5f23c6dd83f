/**
 * A folder in object storage (a Deploy job's `s3://BUCKET/PREFIX/<job>/`, a queued unit's
 * `s3://BUCKET/PREFIX/units/<asset>/`), seen as plain files: put, get,
 * list and delete by path relative to it. Endpoint, region and credentials come from the
 * environment (`AWS_*`, as `output.destination` reads them); a missing variable is one line that
 * names it. The secret stays in a closure and is masked in every error.
 * @module
 */
import { dirname, join } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { Env } from "../config/load.ts";
import { ConfigError, ObjectStoreError } from "../core/errors.ts";
import { parseDestination, type S3Destination } from "./destination.ts";
import { describeS3Error } from "./s3_errors.ts";

/** One object of a {@link Bucket} listing. */
export interface BucketObject {
  /** Path relative to the bucket folder (`parquet/Orders/…`). */
  path: string;
  /** Bytes. */
  size: number;
  /** ETag without quotes. */
  etag: string;
}

/** A folder of object storage, addressed by relative paths. */
export interface Bucket {
  /** `s3://bucket/prefix` of the folder. */
  readonly url: string;
  /** Writes an object (replacing it). */
  put(path: string, data: Uint8Array): Promise<void>;
  /** Reads an object; null when there is none. */
  get(path: string): Promise<Uint8Array | null>;
  /** Objects under a relative prefix (`""`: all), sorted by path. */
  list(prefix?: string): Promise<BucketObject[]>;
  /** Removes objects (missing ones are fine). */
  delete(paths: readonly string[]): Promise<void>;
  /** The same bucket one folder down (`child("northwind")`). */
  child(name: string): Bucket;
  /** Releases connections. */
  close(): void;
}

/**
 * Copies the object at `path` of `bucket` to `<dir>/<path>` (folders made as needed); false when
 * it was deleted since it was listed.
 */
export async function downloadObject(bucket: Bucket, path: string, dir: string): Promise<boolean> {
  const data = await bucket.get(path);
  if (data === null) return false;
  const target = join(dir, path);
  await Deno.mkdir(dirname(target), { recursive: true });
  await Deno.writeFile(target, data);
  return true;
}

/**
 * Parses `s3://BUCKET/PREFIX` with the environment's endpoint, region and credentials. Throws a
 * {@link ConfigError} whose one line names a missing variable (`AWS_SECRET_ACCESS_KEY is not
 * set; …`) or a bad URL.
 */
export function parseBucketUrl(url: string, env: Env, path = "TIDEMARK_OUT"): S3Destination {
  if (!url.startsWith("s3://")) {
    throw new ConfigError(`invalid ${path}`, [{
      path,
      message: `expected s3://BUCKET/PREFIX, got ${JSON.stringify(url)}`,
    }]);
  }
  const destination = parseDestination(url, { env, path });
  if (destination.kind !== "s3") throw new ConfigError(`invalid ${path}`, []);
  return destination;
}

/**
 * Opens the folder `s3://BUCKET/PREFIX` of the environment's object storage.
 *
 * @example
 * ```ts
 * import { openBucket } from "./bucket.ts";
 * const bucket = openBucket("s3://lake/tidemark", Deno.env.toObject()).child("northwind");
 * await bucket.put("manifest.jsonl", new TextEncoder().encode("{}\n"));
 * bucket.close();
 * ```
 */
export function openBucket(url: string, env: Env): Bucket {
  const destination = parseBucketUrl(url, env);
  const client = new S3Client({
    region: destination.region,
    ...(destination.endpoint === undefined ? {} : { endpoint: destination.endpoint }),
    forcePathStyle: destination.forcePathStyle,
    credentials: () => Promise.resolve(destination.credentials()),
    maxAttempts: 4,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // The SDK's default user agent reads the OS release, which needs --allow-sys; Deploy-like
    // permissions (deploy:local) grant no sys access, and the agent string matters to no one.
    defaultUserAgentProvider: () => Promise.resolve([["tidemark"]]),
  });
  return folder(client, destination, destination.prefix);
}

function folder(client: S3Client, destination: S3Destination, prefix: string): Bucket {
  const bucket = destination.bucket;
  const keyOf = (path: string) => (prefix === "" ? path : `${prefix}/${path}`);
  const secrets = destination.secrets();
  const fail = (action: string, error: unknown): never => {
    const f = describeS3Error(error, secrets);
    throw new ObjectStoreError(
      `${action} in s3://${bucket}/${prefix} failed (${f.code}): ${f.detail}`,
      { cause: error },
    );
  };
  return {
    url: `s3://${bucket}${prefix === "" ? "" : `/${prefix}`}`,
    async put(path, data) {
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(path), Body: data }));
      } catch (error) {
        fail(`writing ${path}`, error);
      }
    },
    async get(path) {
      try {
        const result = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: keyOf(path) }),
        );
        return await result.Body!.transformToByteArray();
      } catch (error) {
        const name = (error as { name?: string })?.name;
        if (name === "NoSuchKey" || name === "NotFound") return null;
        return fail(`reading ${path}`, error);
      }
    },
    async list(relative = "") {
      const found: BucketObject[] = [];
      const base = keyOf("");
      let token: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: keyOf(relative),
              ContinuationToken: token,
            }),
          );
          for (const object of page.Contents ?? []) {
            found.push({
              path: object.Key!.slice(base.length),
              size: object.Size ?? 0,
              etag: (object.ETag ?? "").replaceAll('"', ""),
            });
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (error) {
        fail(`listing ${relative || "/"}`, error);
      }
      return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    async delete(paths) {
      // One request per object: DeleteObjects needs a checksum header some S3-compatible
      // servers reject, and a run deletes few files.
      for (const path of paths) {
        try {
          await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(path) }));
        } catch (error) {
          fail(`deleting ${path}`, error);
        }
      }
    },
    child(name) {
      return folder(client, destination, keyOf(name).replace(/\/+$/, ""));
    },
    close() {
      client.destroy();
    },
  };
}
