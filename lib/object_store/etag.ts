/**
 * What S3 will say a file's ETag is, computed locally in one pass so an upload can be verified:
 * a single-part object's ETag is the MD5 of its bytes; a multipart object's is the MD5 of the
 * concatenated binary MD5s of its parts, followed by `-<number of parts>`. The same pass yields
 * the SHA-256 stored in the object's metadata for provenance.
 * @module
 */
import { createHash } from "node:crypto";

/** Digest of a local file for a given part size. */
export interface UploadDigest {
  /** Bytes in the file. */
  size: number;
  /** Hex MD5 of the whole file: the ETag of a single-part upload. */
  md5: string;
  /** Hex SHA-256 of the whole file. */
  sha256: string;
  /** Parts of a multipart upload with this part size (1 for a file of at most one part). */
  parts: number;
  /** ETag of a multipart upload with this part size (`md5-of-md5s-N`); equals `md5` when `parts` is 1. */
  multipartEtag: string;
}

/** Options of {@link digestFile}. */
export interface DigestFileOptions {
  /** Part size of the multipart upload the digest is for, in bytes. @default 8 MiB */
  partSize?: number;
}

const READ_BUFFER = 1024 * 1024;

/**
 * Reads a file once and returns its size, MD5, SHA-256 and the multipart ETag for a part size.
 *
 * @example
 * ```ts
 * import { digestFile } from "./etag.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello");
 * const digest = await digestFile(path, { partSize: 5 * 1024 * 1024 });
 * // digest.md5 === "5d41402abc4b2a76b9719d911017c592", digest.parts === 1
 * await Deno.remove(path);
 * ```
 */
export async function digestFile(
  path: string,
  options: DigestFileOptions = {},
): Promise<UploadDigest> {
  const partSize = options.partSize ?? 8 * 1024 * 1024;
  if (!Number.isSafeInteger(partSize) || partSize < 1) {
    throw new RangeError(`part size ${partSize} is not a positive integer number of bytes`);
  }
  const whole = createHash("md5");
  const sha = createHash("sha256");
  const partDigests: Uint8Array[] = [];
  let part = createHash("md5");
  let inPart = 0;
  let size = 0;
  const buffer = new Uint8Array(READ_BUFFER);
  using file = await Deno.open(path, { read: true });
  while (true) {
    const n = await file.read(buffer);
    if (n === null) break;
    let chunk = buffer.subarray(0, n);
    whole.update(chunk);
    sha.update(chunk);
    size += n;
    while (chunk.length > 0) {
      const take = Math.min(chunk.length, partSize - inPart);
      part.update(chunk.subarray(0, take));
      inPart += take;
      chunk = chunk.subarray(take);
      if (inPart === partSize) {
        partDigests.push(part.digest());
        part = createHash("md5");
        inPart = 0;
      }
    }
  }
  // A trailing partial part is the last part; a file of exactly k parts has k, and an empty
  // file is one empty part (as lib-storage uploads it).
  if (inPart > 0 || partDigests.length === 0) partDigests.push(part.digest());
  const md5 = whole.digest("hex");
  return {
    size,
    md5,
    sha256: sha.digest("hex"),
    parts: partDigests.length,
    multipartEtag: partDigests.length === 1 ? md5 : multipartEtag(partDigests),
  };
}

/**
 * The ETag S3 gives a multipart object: hex MD5 of the concatenated binary part MD5s, `-N`.
 *
 * @example
 * ```ts
 * import { createHash } from "node:crypto";
 * import { multipartEtag } from "./etag.ts";
 * const parts = ["a", "b"].map((text) => createHash("md5").update(text).digest());
 * multipartEtag(parts); // "<32 hex>-2"
 * ```
 */
export function multipartEtag(partMd5s: readonly Uint8Array[]): string {
  const hash = createHash("md5");
  for (const digest of partMd5s) hash.update(digest);
  return `${hash.digest("hex")}-${partMd5s.length}`;
}

/** An ETag as S3 returns it (`"…"`, possibly `W/"…"`) reduced to lower-case text without quotes. */
export function normalizeEtag(etag: string | undefined): string {
  return (etag ?? "").trim().replace(/^W\//, "").replace(/^"|"$/g, "").toLowerCase();
}
