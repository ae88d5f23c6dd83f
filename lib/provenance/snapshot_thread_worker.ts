/**
 * The body of the snapshot thread (`snapshot_thread.ts`): each job's bytes → temporary file →
 * fsync → rename, and their sha256, one job at a time with blocking calls. Folders are created
 * once each.
 * @module
 */
import { dirname } from "node:path";
import { writeFileAtomicSync } from "../atomic_file.ts";
import { serveJobs } from "../job_thread.ts";
import { sha256Hex } from "./stamps.ts";
import type { SnapshotJob, SnapshotJobResult } from "./snapshot_thread.ts";

const folders = new Set<string>();

serveJobs((job: SnapshotJob): SnapshotJobResult => {
  const folder = dirname(job.path);
  if (!folders.has(folder)) {
    Deno.mkdirSync(folder, { recursive: true });
    folders.add(folder);
  }
  const bytes = new Uint8Array(job.bytes);
  writeFileAtomicSync(job.path, bytes, { mkdir: false });
  return { sha256: sha256Hex(bytes) };
}, "snapshot");
