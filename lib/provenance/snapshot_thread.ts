/**
 * The snapshot thread: one worker thread, shared by every {@link SnapshotStore} of the process
 * opened with `thread: "worker"`, that makes page snapshots durable — write to a temporary name,
 * `fsync`, rename, sha256 — with blocking calls on its own thread. The harvest thread only copies
 * the bytes into a message: per page that saves it the dispatch of five file operations and a
 * digest to the I/O pool, which under load costs it more than the work itself.
 * @module
 */
import { type JobMessage, sharedJobThread } from "../core/job_thread.ts";

/** One snapshot to write: `bytes` land at `path` (absolute or relative to the process). */
export type SnapshotJob = JobMessage<{ path: string; bytes: ArrayBuffer }>;

/** What the thread answers: the sha256 of the bytes written. */
export interface SnapshotJobResult {
  /** 64 lower-case hex digits. */
  sha256: string;
}

const WORKER = new URL("./snapshot_thread_worker.ts", import.meta.url);

/**
 * Writes `bytes` to `path` atomically and durably on the shared snapshot thread (started on first
 * use, and again after a failure) and resolves to their sha256. `bytes` is copied, not moved.
 *
 * @example
 * ```ts
 * import { writeSnapshotOnThread } from "./snapshot_thread.ts";
 * const { sha256 } = await writeSnapshotOnThread("out/raw/Orders/r1/00001.json", new Uint8Array([123, 125]));
 * ```
 */
export function writeSnapshotOnThread(
  path: string,
  bytes: Uint8Array,
): Promise<SnapshotJobResult> {
  const copy = bytes.slice().buffer as ArrayBuffer;
  return sharedJobThread<Omit<SnapshotJob, "id">, SnapshotJobResult>(WORKER, "snapshot")
    .run({ path, bytes: copy }, [copy]);
}
