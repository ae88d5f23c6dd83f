/**
 * The Parquet thread: one worker thread, shared by every sink of the process opened with
 * `thread: "worker"`, that turns Arrow IPC batches into Parquet files. The caller's thread only
 * casts and encodes (≈ 0.1–0.5 ms per 1000 rows); building the polars frame, compressing,
 * writing, hashing and renaming happen on the worker, and so does freeing the frames' native
 * memory: no polars object lives on the caller's heap, so the caller needs no forced full
 * collections (see `memory_pressure.ts`), and the worker's own heap is a few MB, where a full
 * collection costs about a millisecond.
 *
 * Batches cross as transferred `ArrayBuffer`s (no copy, no structured clone of cells), through a
 * {@link JobThread}; the thread starts on first use (≈ 0.1 s, loading polars).
 * @module
 */
import {
  type JobMessage,
  type JobThread,
  sharedJobThread,
  transferableBuffer,
} from "../core/job_thread.ts";

/** One Parquet file to write from an Arrow IPC stream. */
export interface ParquetJob {
  /** Final path of the file. */
  path: string;
  /** Temporary path it is written to before the rename (same folder). */
  tmp: string;
  /** Arrow IPC stream (`encodeArrowStream`); its buffer is transferred, unusable afterwards. */
  arrow: Uint8Array;
  /** Compression codec. */
  compression: "zstd" | "snappy" | "none";
  /** Rows per row group. */
  rowGroupRows: number;
}

/** A job as posted to the worker: the Arrow stream travels as its (transferred) ArrayBuffer. */
export type ParquetJobMessage = JobMessage<Omit<ParquetJob, "arrow"> & { arrow: ArrayBuffer }>;

/** What the worker answers for a job. */
export interface ParquetJobResult {
  /** Size of the file. */
  bytes: number;
  /** SHA-256 hex of the file. */
  sha256: string;
}

/** A worker thread writing Parquet jobs one after another, in the order they arrive. */
export class ParquetThread {
  readonly #thread: JobThread<Omit<ParquetJobMessage, "id">, ParquetJobResult>;

  /** Writes through `thread`, a thread running `parquet_thread_worker.ts` (see {@link parquetThread}). */
  constructor(thread: JobThread<Omit<ParquetJobMessage, "id">, ParquetJobResult>) {
    this.#thread = thread;
  }

  /** Jobs sent and not answered yet. */
  get pending(): number {
    return this.#thread.pending;
  }

  /** Writes one file on the worker; resolves once it is in place (fsynced and renamed). */
  write(job: ParquetJob): Promise<ParquetJobResult> {
    const arrow = transferableBuffer(job.arrow);
    return this.#thread.run({ ...job, arrow }, [arrow]);
  }

  /** Stops the worker; pending writes fail. */
  terminate(): Promise<void> {
    return this.#thread.terminate();
  }
}

const WORKER = new URL("./parquet_thread_worker.ts", import.meta.url);

/**
 * The process's Parquet thread, started on first use (and again after a crash).
 *
 * @example
 * ```ts
 * import { parquetThread } from "./parquet_thread.ts";
 * import { encodeArrowStream } from "./arrow_ipc.ts";
 * import { castColumn } from "./column_types.ts";
 * const arrow = encodeArrowStream([castColumn("id", [1, 2], "int64")], 2);
 * await parquetThread().write({
 *   path: "out/a.parquet",
 *   tmp: "out/a.parquet.tmp",
 *   arrow,
 *   compression: "zstd",
 *   rowGroupRows: 100_000,
 * });
 * ```
 */
export function parquetThread(): ParquetThread {
  return new ParquetThread(sharedJobThread(WORKER, "Parquet"));
}
