/**
 * The one interface over every upload destination (S3 and S3-compatible servers, local
 * folders): check it before harvesting, upload each finished file under a timestamped key,
 * verify it landed intact, list what is there.
 * @module
 */
import type { Env } from "../config/load.ts";
import type { Clock } from "../core/clock.ts";
import type { Destination } from "./destination.ts";

/** A file that was uploaded and verified. */
export interface UploadedObject {
  /** Object URL for the manifest: `s3://bucket/key` or `file:///path`. */
  url: string;
  /** Full object key (prefix included), `/`-separated. */
  key: string;
  /** The object's ETag as the store reports it, without quotes. */
  etag: string;
  /** Bytes, checked against the store's own report (HeadObject / stat). */
  size: number;
  /** SHA-256 hex of the uploaded bytes (also stored as object metadata `sha256` on S3). */
  sha256: string;
  /** Parts of the upload (1 for a single PUT or a copy). */
  parts: number;
}

/** One object found by {@link ObjectStore.list}. */
export interface ListedObject {
  /** Full object key. */
  key: string;
  /** Object URL (`s3://bucket/key`, `file:///path`). */
  url: string;
  /** Bytes. */
  size: number;
  /** ETag without quotes (S3 only; a local folder has none without reading every file). */
  etag?: string;
  /** Last modification time, ISO-8601. */
  lastModified?: string;
}

/** Options of one upload. */
export interface UploadOptions {
  /** `Content-Type` of the object. @default from the extension (parquet, csv, jsonl, json), else application/octet-stream */
  contentType?: string;
}

/** An open destination. Close it (or `await using` it) when the run ends. */
export interface ObjectStore {
  /** The parsed destination (its credentials stay behind a function). */
  readonly destination: Destination;
  /** The run's load time, stamped into every key as `load_date=`/`load_time=` (UTC). */
  readonly loadTime: Date;
  /** The full key a relative key (`<asset>/<file>`) gets: `<prefix>/<asset>/load_date=…/load_time=…/<file>`. */
  keyFor(relativeKey: string): string;
  /**
   * A cheap call that proves the destination usable before any harvesting: throws a
   * `ConfigError` (exit 2) naming a missing bucket, rejected credentials or an unreachable
   * endpoint, and the environment variables that fix it.
   */
  preflight(): Promise<void>;
  /**
   * Uploads a finished file under {@link keyFor}`(relativeKey)`, multipart when large, then
   * verifies size and ETag against the store; a mismatch is a `VerifyError` and the bad object
   * is removed. Transient failures are retried; a lasting one is an `ObjectStoreError`.
   */
  upload(localPath: string, relativeKey: string, options?: UploadOptions): Promise<UploadedObject>;
  /** Objects whose key starts with `<destination prefix>/<prefix>`, sorted by key. */
  list(prefix?: string): Promise<ListedObject[]>;
  /** Releases connections. Idempotent; later calls fail. */
  close(): Promise<void>;
  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of `openObjectStore`. */
export interface ObjectStoreOptions {
  /** Environment with endpoint, region and credentials (string destinations only). @default Deno.env.toObject() */
  env?: Env;
  /** Clock: `now()` gives the default load time, `sleep()` the waits between retries. @default systemClock */
  clock?: Clock;
  /** The run's load time for `load_date=`/`load_time=` keys; pass the sinks' `loadTime`. @default new Date(clock.now()) when opened */
  loadTime?: Date;
  /** Files of at least this many bytes go multipart (S3). @default 16 MiB */
  multipartThresholdBytes?: number;
  /** Multipart part size, in bytes; S3 needs at least 5 MiB. @default 8 MiB */
  partSizeBytes?: number;
  /** Parts uploaded at once per file. @default 4 */
  queueSize?: number;
  /** Attempts per request on transient errors (5xx, throttling, resets, refused connections). @default 4 */
  attempts?: number;
  /** Backoff base between attempts, in milliseconds (full jitter). @default 250 */
  retryBaseMs?: number;
  /** Longest wait between attempts, in milliseconds. @default 4000 */
  retryCapMs?: number;
  /** Uniform random source in `[0, 1)` for the backoff jitter. @default Math.random */
  random?: () => number;
  /** Time to open a connection, in milliseconds. @default 10000 */
  connectionTimeoutMs?: number;
  /** Time a request may take without progress, in milliseconds. @default 120000 */
  requestTimeoutMs?: number;
  /**
   * Check the ETag as well as the size. Turn off for buckets whose ETags are not MD5-based
   * (SSE-KMS encryption). @default true
   */
  verifyEtag?: boolean;
}
