/**
 * `--out s3://BUCKET/PREFIX` for the commands that read an out folder (verify, report, replay):
 * the folder is copied from object storage into a temporary folder, the command runs on the
 * copy exactly as on a local folder, and the copy is removed. The bucket is only read.
 * @module
 */
import { downloadObject, openBucket } from "../object_store/bucket.ts";

/**
 * Runs `fn` on the out folder `out`: itself when it is a local path, else a temporary copy of
 * the objects under `s3://BUCKET/PREFIX` (credentials and endpoint from the `AWS_*` variables).
 *
 * @example
 * ```ts
 * import { withOutFolder } from "./bucket_out.ts";
 * const files = await withOutFolder("s3://lake/tidemark/northwind", async (dir) =>
 *   (await Array.fromAsync(Deno.readDir(dir))).length);
 * ```
 */
export async function withOutFolder<T>(
  out: string,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  if (!out.startsWith("s3://")) return await fn(out);
  const bucket = openBucket(out, Deno.env.toObject());
  const dir = await Deno.makeTempDir({ prefix: "tidemark-bucket-" });
  try {
    for (const object of await bucket.list("")) await downloadObject(bucket, object.path, dir);
    return await fn(dir);
  } finally {
    bucket.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
