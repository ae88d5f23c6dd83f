/**
 * A local folder as an upload destination, with the same interface and key layout as S3: each
 * file is copied to a temporary name beside its target, flushed, renamed into place, and
 * verified by size and MD5 against the source. For tests, demos and shared network drives.
 * @module
 */
import { dirname, join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { commitTemporaryFile, readDirIfExists, temporaryPathFor } from "../core/atomic_file.ts";
import { ConfigError, ObjectStoreError, VerifyError } from "../core/errors.ts";
import { systemClock } from "../core/clock.ts";
import type { LocalDestination } from "./destination.ts";
import { digestFile, type UploadDigest } from "./etag.ts";
import { objectKey } from "./object_key.ts";
import type { ListedObject, ObjectStore, ObjectStoreOptions, UploadedObject } from "./store.ts";

// `temporaryPathFor` names: `<path>.<pid>.<n>.tmp`; a crash can leave them, listing skips them.
const TEMPORARY = /\.\d+\.\d+\.tmp$/;

/**
 * Opens a local-folder destination; the folder is created by `preflight` or the first upload.
 *
 * @example
 * ```ts
 * import { parseDestination } from "./destination.ts";
 * import { openLocalStore } from "./local_store.ts";
 * const destination = parseDestination("file:///tmp/lake");
 * if (destination.kind === "local") {
 *   await using store = openLocalStore(destination, { loadTime: new Date("2026-11-23T10:15:00Z") });
 *   await store.preflight();
 *   // store.keyFor("Orders/part.csv") === "Orders/load_date=2026-11-23/load_time=101500/part.csv"
 * }
 * ```
 */
export function openLocalStore(
  destination: LocalDestination,
  options: Pick<ObjectStoreOptions, "clock" | "loadTime"> = {},
): ObjectStore {
  const loadTime = options.loadTime ?? new Date((options.clock ?? systemClock).now());
  const root = destination.root;
  let closed = false;
  const keyFor = (relativeKey: string) => objectKey(relativeKey, { loadTime });
  const pathOf = (key: string) => join(root, ...key.split("/"));
  const ensureOpen = () => {
    if (closed) throw new ObjectStoreError(`object store ${destination.url} is closed`);
  };

  return {
    destination,
    loadTime,
    keyFor,
    async preflight(): Promise<void> {
      ensureOpen();
      const probe = join(root, `.tidemark-preflight-${Deno.pid}`);
      try {
        await Deno.mkdir(root, { recursive: true });
        await Deno.writeFile(probe, new Uint8Array());
        await Deno.remove(probe);
      } catch (error) {
        throw new ConfigError(`object storage preflight failed for ${destination.url}`, [{
          path: "output.destination",
          message: `folder ${root} is not writable (${(error as Error).name}: ${
            (error as Error).message
          }); fix output.destination or the folder's permissions`,
        }]);
      }
    },
    async upload(localPath: string, relativeKey: string): Promise<UploadedObject> {
      ensureOpen();
      const key = keyFor(relativeKey);
      const target = pathOf(key);
      let source: UploadDigest;
      try {
        source = await digestFile(localPath);
        await Deno.mkdir(dirname(target), { recursive: true });
      } catch (error) {
        throw new ObjectStoreError(
          `cannot copy ${localPath} to ${target}: ${(error as Error).message}`,
        );
      }
      const tmp = temporaryPathFor(target);
      try {
        await Deno.copyFile(localPath, tmp);
        await commitTemporaryFile(tmp, target);
      } catch (error) {
        await Deno.remove(tmp).catch(() => {});
        throw new ObjectStoreError(
          `cannot copy ${localPath} to ${target}: ${(error as Error).message}`,
        );
      }
      const copy = await digestFile(target);
      if (copy.size !== source.size || copy.md5 !== source.md5) {
        await Deno.remove(target).catch(() => {});
        throw new VerifyError(
          `copy ${target} does not match ${localPath} (size ${copy.size}/${source.size}, ` +
            `md5 ${copy.md5}/${source.md5}); the copy was removed: copy the file again`,
        );
      }
      return {
        url: pathToFileURL(target).href,
        key,
        etag: copy.md5,
        size: copy.size,
        sha256: copy.sha256,
        parts: 1,
      };
    },
    async list(prefix = ""): Promise<ListedObject[]> {
      ensureOpen();
      const wanted = prefix.replace(/\\/g, "/").replace(/^\/+/, "");
      // Walk only the folder the prefix is surely inside, then filter by the prefix as S3 does.
      const folder = wanted.includes("/") ? wanted.slice(0, wanted.lastIndexOf("/")) : "";
      const found: ListedObject[] = [];
      for await (const path of walkFiles(folder === "" ? root : pathOf(folder))) {
        const key = relative(root, path).split(sep).join("/");
        if (!key.startsWith(wanted) || TEMPORARY.test(key)) continue;
        const info = await Deno.stat(path);
        found.push({
          key,
          url: pathToFileURL(path).href,
          size: info.size,
          ...(info.mtime ? { lastModified: info.mtime.toISOString() } : {}),
        });
      }
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
    [Symbol.asyncDispose](): Promise<void> {
      return this.close();
    },
  };
}

async function* walkFiles(folder: string): AsyncGenerator<string> {
  const entries = await readDirIfExists(folder);
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory) yield* walkFiles(path);
    else if (entry.isFile) yield path;
  }
}
