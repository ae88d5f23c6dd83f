/**
 * The body of the Parquet thread (`parquet_thread.ts`): Arrow IPC stream → polars frame →
 * Parquet at a temporary path → sha256 → fsync + rename, one job at a time, in arrival order.
 * Frames die here; a full collection of this small heap every 16 MB of frames frees their
 * native memory (`memory_pressure.ts`), off the caller's thread.
 * @module
 */
import { serveJobs } from "../core/job_thread.ts";
import type { ParquetJobMessage, ParquetJobResult } from "./parquet_thread.ts";
import { frameFromArrow, writeParquetFile } from "./parquet.ts";
import { noteReleasedFrame } from "./memory_pressure.ts";

// One job at a time: polars already compresses in parallel, and order keeps memory bounded.
serveJobs(async (job: ParquetJobMessage): Promise<ParquetJobResult> => {
  // Polars holds somewhat more than the stream (text as views), about what the caller-thread
  // estimate (estimateFrameBytes: 9 bytes a cell plus text) counts.
  const native = job.arrow.byteLength * 1.2;
  const frame = frameFromArrow(new Uint8Array(job.arrow));
  const result = await writeParquetFile(frame, job.path, {
    tmp: job.tmp,
    compression: job.compression,
    rowGroupRows: job.rowGroupRows,
  });
  noteReleasedFrame(native);
  return result;
}, "Parquet");
