/**
 * The body of the Parquet thread (`parquet_thread.ts`): Arrow IPC stream → polars frame →
 * Parquet at a temporary path → sha256 → fsync + rename, one job at a time, in arrival order.
 * Frames die here; a full collection of this small heap every 16 MB of frames frees their
 * native memory (`memory_pressure.ts`), off the caller's thread.
 * @module
 */
import { parentPort } from "node:worker_threads";
import type { ParquetJobMessage, ParquetThreadReply } from "./parquet_thread.ts";
import { frameFromArrow, writeParquetFile } from "./parquet.ts";
import { noteReleasedFrame } from "./memory_pressure.ts";

if (!parentPort) throw new Error("parquet_thread_worker.ts runs only as a worker thread");
const port = parentPort;

let queue: Promise<void> = Promise.resolve();

port.on("message", (job: ParquetJobMessage) => {
  // One job at a time: polars already compresses in parallel, and order keeps memory bounded.
  queue = queue.then(() => run(job));
});

async function run(job: ParquetJobMessage): Promise<void> {
  let reply: ParquetThreadReply;
  try {
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
    reply = { id: job.id, result };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    reply = { id: job.id, error: { name: e.name, message: e.message } };
  }
  port.postMessage(reply);
}
