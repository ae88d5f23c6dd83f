/**
 * The Parquet thread: one worker thread, shared by every sink of the process opened with
 * `thread: "worker"`, that turns Arrow IPC batches into Parquet files. The caller's thread only
 * casts and encodes (≈ 0.1–0.5 ms per 1000 rows); building the polars frame, compressing,
 * writing, hashing and renaming happen on the worker, and so does freeing the frames' native
 * memory: no polars object lives on the caller's heap, so the caller needs no forced full
 * collections (see `memory_pressure.ts`), and the worker's own heap is a few MB, where a full
 * collection costs about a millisecond.
 *
 * Batches cross as transferred `ArrayBuffer`s (no copy, no structured clone of cells). The
 * worker is a `node:worker_threads` Worker held (`ref`) only while a write is pending, so an
 * idle thread never keeps the process alive; it starts on first use (≈ 0.1 s, loading polars).
 * @module
 */
import { Worker } from "node:worker_threads";
import { TidemarkError } from "../errors.ts";

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
export type ParquetJobMessage = Omit<ParquetJob, "arrow"> & { id: number; arrow: ArrayBuffer };

/** What the worker answers for a job. */
export interface ParquetJobResult {
  /** Size of the file. */
  bytes: number;
  /** SHA-256 hex of the file. */
  sha256: string;
}

/** Message from the worker: a result or an error for job `id`. */
export type ParquetThreadReply =
  | { id: number; result: ParquetJobResult }
  | { id: number; error: { name: string; message: string } };

interface Pending {
  resolve(result: ParquetJobResult): void;
  reject(error: Error): void;
}

/** A worker thread writing Parquet jobs one after another, in the order they arrive. */
export class ParquetThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #failed: Error | null = null;

  /** Starts the worker (use {@link parquetThread} for the shared one). */
  constructor() {
    this.#worker = new Worker(new URL("./parquet_thread_worker.ts", import.meta.url));
    this.#worker.unref();
    this.#worker.on("message", (reply: ParquetThreadReply) => this.#settle(reply));
    this.#worker.on("error", (error: Error) => this.#fail(error));
    this.#worker.on("exit", (code: number) => {
      this.#fail(
        new TidemarkError(
          `the Parquet worker thread exited (code ${code}) with writes pending; they failed and ` +
            `the next write starts a new thread (or open the sink with thread: "main")`,
        ),
      );
    });
  }

  /** Jobs sent and not answered yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Writes one file on the worker; resolves once it is in place (fsynced and renamed). */
  write(job: ParquetJob): Promise<ParquetJobResult> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#next++;
    const done = new Promise<ParquetJobResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    if (this.#pending.size === 1) this.#worker.ref();
    const arrow = job.arrow;
    // A view on part of a larger buffer cannot be transferred alone: copy that rare case.
    const buffer =
      (arrow.byteOffset === 0 && arrow.byteLength === arrow.buffer.byteLength
        ? arrow.buffer
        : arrow.slice().buffer) as ArrayBuffer;
    // The ArrayBuffer itself, not a view: Deno's worker_threads moves a transferred
    // ArrayBuffer in 0.3 ms but spends ≈ 250 ms on a transferred 2.6 MB Uint8Array.
    const message: ParquetJobMessage = { ...job, id, arrow: buffer };
    this.#worker.postMessage(message, [buffer]);
    return done;
  }

  /** Stops the worker; pending writes fail. */
  async terminate(): Promise<void> {
    this.#fail(
      new TidemarkError("the Parquet worker thread was stopped; the next write starts a new one"),
    );
    await this.#worker.terminate();
  }

  #settle(reply: ParquetThreadReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if ("result" in reply) pending.resolve(reply.result);
    else pending.reject(rebuildError(reply.error));
  }

  #fail(error: Error): void {
    this.#failed ??= error;
    if (shared === this) shared = undefined;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#worker.unref();
  }
}

/** The worker's error as the caller would have seen it (`Deno.errors.*` keep their class). */
function rebuildError(error: { name: string; message: string }): Error {
  const DenoError = (Deno.errors as Record<string, (new (message: string) => Error) | undefined>)[
    error.name
  ];
  const rebuilt = DenoError ? new DenoError(error.message) : new Error(error.message);
  rebuilt.name = error.name;
  return rebuilt;
}

let shared: ParquetThread | undefined;

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
  shared ??= new ParquetThread();
  return shared;
}
