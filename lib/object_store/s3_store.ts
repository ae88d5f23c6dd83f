/**
 * Uploads to S3 or an S3-compatible server (s3rver, MinIO) with `@aws-sdk/client-s3`: a single
 * PUT with `Content-MD5` for small files, `@aws-sdk/lib-storage`'s multipart `Upload` for large
 * ones (memory bounded by part size × queue size), each verified afterwards by `HeadObject`
 * (size, ETag, the `sha256` metadata). The SDK's own retries are off: transient errors are
 * retried here through the injected clock, so tests never sleep.
 * @module
 */
import { createReadStream } from "node:fs";
import { extname } from "node:path";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { ConfigError, ObjectStoreError, VerifyError } from "../core/errors.ts";
import { systemClock } from "../core/clock.ts";
import type { S3Destination } from "./destination.ts";
import { digestFile, normalizeEtag, type UploadDigest } from "./etag.ts";
import { objectKey } from "./object_key.ts";
import {
  describeS3Error,
  endpointLabel,
  isTransientS3Error,
  preflightProblem,
} from "./s3_errors.ts";
import type {
  ListedObject,
  ObjectStore,
  ObjectStoreOptions,
  UploadedObject,
  UploadOptions,
} from "./store.ts";
import { retryTransient } from "./transient_retry.ts";

const MIB = 1024 * 1024;
/** Smallest part S3 accepts (all parts but the last). */
export const S3_MIN_PART_SIZE = 5 * MIB;
/** Largest part S3 accepts. */
export const S3_MAX_PART_SIZE = 5 * 1024 * MIB;

const CONTENT_TYPES: Record<string, string> = {
  ".parquet": "application/vnd.apache.parquet",
  ".csv": "text/csv; charset=utf-8",
  ".jsonl": "application/x-ndjson",
  ".ndjson": "application/x-ndjson",
  ".json": "application/json",
};

/**
 * Opens an S3 destination. No request is made until {@link ObjectStore.preflight} or an upload.
 *
 * @example
 * ```ts
 * import { parseDestination } from "./destination.ts";
 * import { openS3Store } from "./s3_store.ts";
 * const env = { S3_ENDPOINT: "http://127.0.0.1:4568", AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
 * const destination = parseDestination("s3://lake/raw", { env });
 * if (destination.kind === "s3") {
 *   await using store = openS3Store(destination, { loadTime: new Date("2026-11-23T10:15:00Z") });
 *   await store.preflight();
 *   const object = await store.upload("out/parquet/Orders/part-r1-00001.parquet", "Orders/part-r1-00001.parquet");
 *   // object.url === "s3://lake/raw/Orders/load_date=2026-11-23/load_time=101500/part-r1-00001.parquet"
 * }
 * ```
 */
export function openS3Store(
  destination: S3Destination,
  options: Omit<ObjectStoreOptions, "env"> = {},
): ObjectStore {
  const clock = options.clock ?? systemClock;
  const loadTime = options.loadTime ?? new Date(clock.now());
  const partSize = options.partSizeBytes ?? 8 * MIB;
  const threshold = options.multipartThresholdBytes ?? 16 * MIB;
  const queueSize = options.queueSize ?? 4;
  const verifyEtag = options.verifyEtag ?? true;
  if (
    !Number.isSafeInteger(partSize) || partSize < S3_MIN_PART_SIZE || partSize > S3_MAX_PART_SIZE
  ) {
    throw new RangeError(
      `part size ${partSize} is out of range; S3 parts are 5 MiB (${S3_MIN_PART_SIZE}) to 5 GiB`,
    );
  }
  if (!Number.isSafeInteger(threshold) || threshold < 0) {
    throw new RangeError(`multipart threshold ${threshold} is not a byte count >= 0`);
  }
  if (!Number.isSafeInteger(queueSize) || queueSize < 1) {
    throw new RangeError(`queue size ${queueSize} is not a positive integer`);
  }
  const secrets = destination.secrets();
  const retry = {
    isTransient: isTransientS3Error,
    clock,
    ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
    ...(options.retryBaseMs === undefined ? {} : { baseMs: options.retryBaseMs }),
    ...(options.retryCapMs === undefined ? {} : { capMs: options.retryCapMs }),
    ...(options.random === undefined ? {} : { random: options.random }),
  };
  const client = new S3Client({
    region: destination.region,
    ...(destination.endpoint === undefined ? {} : { endpoint: destination.endpoint }),
    forcePathStyle: destination.forcePathStyle,
    // A provider function, so the client's config never holds the secret as a plain value.
    credentials: () => Promise.resolve(destination.credentials()),
    maxAttempts: 1,
    // Integrity comes from Content-MD5 and the ETag check; S3-compatible servers that predate
    // the SDK's default CRC32 trailers (s3rver, older MinIO) would store the trailer framing.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 120_000,
    },
  });
  let closed = false;

  const urlOf = (key: string) => `s3://${destination.bucket}/${key}`;
  const keyFor = (relativeKey: string) =>
    objectKey(relativeKey, { prefix: destination.prefix, loadTime });
  const ensureOpen = () => {
    if (closed) throw new ObjectStoreError(`object store ${destination.url} is closed`);
  };
  const failure = (action: string, error: unknown): ObjectStoreError => {
    const f = describeS3Error(error, secrets);
    const status = f.status !== undefined && f.code !== `HTTP ${f.status}`
      ? `, HTTP ${f.status}`
      : "";
    const after = f.attempts > 1 ? ` after ${f.attempts} attempts` : "";
    return new ObjectStoreError(
      `${action} at ${endpointLabel(destination)} failed${after} (${f.code}${status}): ${f.detail}`,
    );
  };

  async function putSingle(localPath: string, key: string, digest: UploadDigest, type: string) {
    const body = await Deno.readFile(localPath);
    await client.send(
      new PutObjectCommand({
        Bucket: destination.bucket,
        Key: key,
        Body: body,
        ContentLength: body.byteLength,
        ContentType: type,
        // The server rejects the PUT (BadDigest) if the bytes it received differ.
        ContentMD5: hexToBase64(digest.md5),
        Metadata: { sha256: digest.sha256 },
      }),
    );
  }

  async function putMultipart(localPath: string, key: string, digest: UploadDigest, type: string) {
    const stream = createReadStream(localPath, { highWaterMark: MIB });
    let upload: Upload | undefined;
    try {
      upload = new Upload({
        client,
        partSize,
        queueSize,
        // Aborted below instead, so a failing abort (s3rver has none) cannot hide the error
        // that decides whether to retry.
        leavePartsOnError: true,
        params: {
          Bucket: destination.bucket,
          Key: key,
          Body: stream,
          ContentLength: digest.size,
          ContentType: type,
          Metadata: { sha256: digest.sha256 },
        },
      });
      await upload.done();
    } catch (error) {
      const uploadId = upload?.uploadId;
      if (uploadId !== undefined) {
        // Best effort: parts left behind cost storage until a lifecycle rule removes them.
        await client.send(
          new AbortMultipartUploadCommand({
            Bucket: destination.bucket,
            Key: key,
            UploadId: uploadId,
          }),
        ).catch(() => {});
      }
      throw error;
    } finally {
      if (!stream.closed) {
        const closing = new Promise<void>((resolve) => stream.once("close", () => resolve()));
        stream.destroy();
        await closing;
      }
    }
  }

  async function verify(
    localPath: string,
    key: string,
    digest: UploadDigest,
    parts: number,
  ): Promise<string> {
    let head: HeadObjectCommandOutput;
    try {
      head = await retryTransient(
        () => client.send(new HeadObjectCommand({ Bucket: destination.bucket, Key: key })),
        retry,
      );
    } catch (error) {
      throw failure(`checking ${urlOf(key)} after its upload`, error);
    }
    const etag = normalizeEtag(head.ETag);
    const expected = parts > 1 ? digest.multipartEtag : digest.md5;
    const problems: string[] = [];
    if (head.ContentLength !== digest.size) {
      problems.push(`size ${head.ContentLength ?? "unknown"} where the file has ${digest.size}`);
    }
    // Some S3-compatible servers (s3rver, some MinIO setups) give a multipart object the MD5 of
    // its whole content instead of md5-of-md5s-N; both prove the same bytes arrived.
    if (verifyEtag && etag !== expected && etag !== digest.md5) {
      problems.push(
        `ETag ${JSON.stringify(etag)} where the file's is ${JSON.stringify(expected)}` +
          (parts > 1 ? ` (${parts} parts of ${partSize} bytes)` : ""),
      );
    }
    const storedSha = head.Metadata?.sha256;
    if (storedSha !== undefined && storedSha !== digest.sha256) {
      problems.push(`sha256 metadata ${storedSha} where the file's is ${digest.sha256}`);
    }
    if (problems.length > 0) {
      const removed = await client.send(
        new DeleteObjectCommand({ Bucket: destination.bucket, Key: key }),
      ).then(() => "the object was removed", () => "the object could not be removed: delete it");
      throw new VerifyError(
        `uploaded object ${urlOf(key)} does not match ${localPath}: ${problems.join("; ")}; ` +
          `${removed} and upload the file again`,
      );
    }
    return etag;
  }

  return {
    destination,
    loadTime,
    keyFor,
    async preflight(): Promise<void> {
      ensureOpen();
      try {
        await retryTransient(
          () =>
            client.send(
              new ListObjectsV2Command({
                Bucket: destination.bucket,
                MaxKeys: 1,
                ...(destination.prefix === "" ? {} : { Prefix: `${destination.prefix}/` }),
              }),
            ),
          retry,
        );
      } catch (error) {
        throw new ConfigError(`object storage preflight failed for ${destination.url}`, [{
          path: "output.destination",
          message: preflightProblem(error, destination),
        }]);
      }
    },
    async upload(
      localPath: string,
      relativeKey: string,
      uploadOptions: UploadOptions = {},
    ): Promise<UploadedObject> {
      ensureOpen();
      const key = keyFor(relativeKey);
      let digest: UploadDigest;
      try {
        digest = await digestFile(localPath, { partSize });
      } catch (error) {
        throw new ObjectStoreError(
          `cannot read ${localPath} to upload it to ${urlOf(key)}: ${(error as Error).message}`,
        );
      }
      const multipart = digest.size >= threshold;
      // lib-storage sends a file of one part as a single PUT, so its ETag is the plain MD5.
      const parts = multipart ? digest.parts : 1;
      const type = uploadOptions.contentType ??
        CONTENT_TYPES[extname(localPath).toLowerCase()] ?? "application/octet-stream";
      try {
        await retryTransient(
          () =>
            multipart
              ? putMultipart(localPath, key, digest, type)
              : putSingle(localPath, key, digest, type),
          retry,
        );
      } catch (error) {
        throw failure(`uploading ${localPath} to ${urlOf(key)}`, error);
      }
      const etag = await verify(localPath, key, digest, parts);
      return { url: urlOf(key), key, etag, size: digest.size, sha256: digest.sha256, parts };
    },
    async list(prefix = ""): Promise<ListedObject[]> {
      ensureOpen();
      const base = destination.prefix === "" ? "" : `${destination.prefix}/`;
      const fullPrefix = `${base}${prefix.replace(/^\/+/, "")}`;
      const found: ListedObject[] = [];
      let token: string | undefined;
      do {
        let page: ListObjectsV2CommandOutput;
        try {
          page = await retryTransient(
            () =>
              client.send(
                new ListObjectsV2Command({
                  Bucket: destination.bucket,
                  ...(fullPrefix === "" ? {} : { Prefix: fullPrefix }),
                  ...(token === undefined ? {} : { ContinuationToken: token }),
                }),
              ),
            retry,
          );
        } catch (error) {
          throw failure(`listing s3://${destination.bucket}/${fullPrefix}`, error);
        }
        for (const item of page.Contents ?? []) {
          if (item.Key === undefined) continue;
          found.push({
            key: item.Key,
            url: urlOf(item.Key),
            size: item.Size ?? 0,
            etag: normalizeEtag(item.ETag),
            ...(item.LastModified ? { lastModified: item.LastModified.toISOString() } : {}),
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    close(): Promise<void> {
      if (!closed) {
        closed = true;
        client.destroy();
      }
      return Promise.resolve();
    },
    [Symbol.asyncDispose](): Promise<void> {
      return this.close();
    },
  };
}

function hexToBase64(hex: string): string {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return btoa(String.fromCharCode(...bytes));
}
