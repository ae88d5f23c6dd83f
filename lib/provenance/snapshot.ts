/**
 * The raw snapshot store: every response body a run receives, byte for byte, at
 * `<out>/raw/<asset>/<run_id>/<page:05d>.json`, written atomically (temp file, fsync, rename) so
 * a manifest line never points at half a file.
 *
 * Asset names become one path segment through {@link safePathSegment}: readable names stay as
 * they are (`Order Details` → `Order Details`), and only characters that are unsafe in a file
 * name on Linux, macOS or Windows are percent-encoded (`a/b` → `a%2Fb`). `%` itself is encoded
 * too, so two different names never share a folder.
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { writeFileAtomic } from "../core/atomic_file.ts";
import { type FileDigest, sha256File, sha256Hex } from "../core/stamps.ts";

/** Where a snapshot went and what it holds, for its manifest line. */
export interface SnapshotWritten {
  /** Path relative to the out folder, `/`-separated: `raw/<asset>/<run_id>/<page:05d>.json`. */
  path: string;
  /** sha256 of the bytes, 64 lower-case hex digits. */
  sha256: string;
  /** Number of bytes written. */
  bytes: number;
}

// Unsafe in a file name somewhere (Windows forbids <>:"/\|?*), or the escape character itself.
// deno-lint-ignore no-control-regex -- control characters are exactly what must be encoded
const UNSAFE = /[\u0000-\u001f\u007f<>:"/\\|?*%]/gu;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;
const MAX_SEGMENT_BYTES = 200;

function percent(ch: string): string {
  return Array.from(
    new TextEncoder().encode(ch),
    (b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
  )
    .join("");
}

/**
 * Makes a name (an asset, a partition value) safe as one folder name while keeping it
 * readable: unsafe characters, a leading dot, trailing dots or spaces and Windows device names
 * are percent-encoded; everything else, spaces and non-ASCII letters included, is kept.
 *
 * @example
 * ```ts
 * import { safePathSegment } from "./snapshot.ts";
 * safePathSegment("Order Details"); // "Order Details"
 * safePathSegment("../etc");        // "%2E.%2Fetc"
 * ```
 */
export function safePathSegment(name: string): string {
  if (name.length === 0) {
    throw new RangeError("an empty name cannot be a folder name; give the asset a name");
  }
  let out = name.replace(UNSAFE, percent);
  if (out.startsWith(".")) out = `%2E${out.slice(1)}`;
  const trailing = /[. ]+$/.exec(out);
  if (trailing) out = out.slice(0, trailing.index) + Array.from(trailing[0], percent).join("");
  if (WINDOWS_RESERVED.test(out)) out = percent(out[0]) + out.slice(1);
  if (new TextEncoder().encode(out).length > MAX_SEGMENT_BYTES) {
    throw new RangeError(
      `name "${name.slice(0, 40)}…" is too long for a folder name (over ${MAX_SEGMENT_BYTES} ` +
        "bytes once made path-safe); use a shorter asset name",
    );
  }
  return out;
}

const SAFE_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The snapshot path of one page, relative to the out folder. Validates every part. */
export function snapshotPath(asset: string, runId: string, page: number): string {
  if (!Number.isSafeInteger(page) || page < 0) {
    throw new RangeError(`page must be a whole number ≥ 0, got ${page}`);
  }
  return `${runFolder(asset, runId)}/${String(page).padStart(5, "0")}.json`;
}

/**
 * The snapshot path of a probe (a planning request, not a page), relative to the out folder:
 * `raw/<asset>/<run_id>/probe-<probe>.json`, beside the run's pages.
 */
export function probeSnapshotPath(asset: string, runId: string, probe: string): string {
  if (!/^[a-z_]+$/.test(probe)) throw new RangeError(`probe name "${probe}" must be a-z and _`);
  return `${runFolder(asset, runId)}/probe-${probe}.json`;
}

function runFolder(asset: string, runId: string): string {
  if (!SAFE_RUN_ID.test(runId)) {
    throw new RangeError(
      `run id "${runId}" is not safe as a folder name; make one with newRunId()`,
    );
  }
  return `raw/${safePathSegment(asset)}/${runId}`;
}

/**
 * Resolves a `/`-separated path recorded in a manifest or state against the out folder,
 * refusing absolute paths and `..` segments so a tampered manifest cannot point outside it.
 */
export function resolveOutPath(out: string, relative: string): string {
  const parts = relative.split("/");
  if (
    relative.length === 0 || isAbsolute(relative) || relative.includes("\\") ||
    parts.some((p) => p === ".." || p === "." || p === "")
  ) {
    throw new RangeError(
      `path "${relative}" must be relative to the out folder, /-separated, without . or .. parts`,
    );
  }
  return join(out, ...parts);
}

/**
 * Stores and reads raw response snapshots under one out folder.
 *
 * @example
 * ```ts
 * import { SnapshotStore } from "./snapshot.ts";
 * const store = new SnapshotStore("demo-out");
 * const snap = await store.write("Orders", "20261123T101500Z-3fa9c1", 7, new Uint8Array([123, 125]));
 * // snap.path === "raw/Orders/20261123T101500Z-3fa9c1/00007.json"
 * ```
 */
export class SnapshotStore {
  /** The out folder every path is relative to. */
  readonly out: string;

  readonly #thread: "main" | "worker";
  /** Folders this store made: a page's write then skips its `mkdir` (one per run folder). */
  readonly #folders = new Set<string>();
  /** The last write handed in, settled: each write resolves after the ones before it. */
  #last: Promise<unknown> = Promise.resolve();

  /**
   * A store rooted at `out` (the harvest's output folder). With `thread: "main"` (the default)
   * the files are written with asynchronous calls and hashed on the caller's thread. With
   * `thread: "worker"` they are written and hashed on the process's snapshot thread
   * (`snapshot_thread.ts`, loaded on first use): same files, same digests, at the cost of a
   * second isolate (≈ 0.1 s of CPU to start, 20–30 MB of memory) and a copy of every body.
   */
  constructor(out: string, options: { thread?: "main" | "worker" } = {}) {
    this.out = out;
    this.#thread = options.thread ?? "main";
  }

  /**
   * Writes one page's response bytes atomically and durably (fsync before rename); resolves
   * once they are on disk, so the manifest line may be appended.
   */
  async write(
    asset: string,
    runId: string,
    page: number,
    bytes: Uint8Array,
  ): Promise<SnapshotWritten> {
    return await this.writeAt(snapshotPath(asset, runId, page), bytes);
  }

  /**
   * Writes response bytes at `path` (relative to the out folder, e.g. a
   * {@link probeSnapshotPath}) atomically and durably, like {@link SnapshotStore.write}.
   */
  async writeAt(path: string, bytes: Uint8Array): Promise<SnapshotWritten> {
    const file = resolveOutPath(this.out, path);
    if (this.#thread === "worker") {
      const { writeSnapshotOnThread } = await import("./snapshot_thread.ts");
      const { sha256 } = await writeSnapshotOnThread(file, bytes);
      return { path, sha256, bytes: bytes.length };
    }
    // Hashed before the first await: the digest is of the bytes as handed in.
    const sha256 = sha256Hex(bytes);
    const folder = dirname(file);
    const folderExists = this.#folders.has(folder);
    const io = writeFileAtomic(file, bytes, { folderExists }).then(() => {
      if (!folderExists) this.#folders.add(folder);
    });
    // The files are written concurrently, but each write resolves only after those handed in
    // before it, as on the snapshot thread (one job after another): concurrent assets that
    // append a manifest line once their snapshot resolves append them in the order they asked.
    const previous = this.#last;
    const done = Promise.allSettled([previous, io]).then(() => io);
    this.#last = done.catch(() => {});
    await done;
    return { path, sha256, bytes: bytes.length };
  }

  /** Reads a snapshot by its path relative to the out folder (as recorded in the manifest). */
  read(path: string): Promise<Uint8Array> {
    return Deno.readFile(resolveOutPath(this.out, path));
  }

  /** Re-hashes a snapshot on disk by its relative path, streaming it. */
  hash(path: string): Promise<FileDigest> {
    return sha256File(resolveOutPath(this.out, path));
  }
}
