/**
 * The body of the snapshot thread (`snapshot_thread.ts`): each job's bytes → temporary file →
 * fsync → rename, and their sha256, one job at a time with blocking calls.
 * @module
 */
import { writeFileAtomicSync } from "../core/atomic_file.ts";
import { serveJobs } from "../core/job_thread.ts";
import { sha256Hex } from "../core/stamps.ts";
import type { SnapshotJob, SnapshotJobResult } from "./snapshot_thread.ts";

serveJobs((job: SnapshotJob): SnapshotJobResult => {
  const bytes = new Uint8Array(job.bytes);
  writeFileAtomicSync(job.path, bytes);
  return { sha256: sha256Hex(bytes) };
}, "snapshot");
