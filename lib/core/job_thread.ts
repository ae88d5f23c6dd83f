/**
 * A worker thread that runs one kind of job for the thread that made it, one job after another
 * in arrival order: the Parquet thread (`lib/sinks/parquet_thread.ts`) and the snapshot thread
 * (`lib/provenance/snapshot_thread.ts`). It keeps slow, blocking work — compression, `fsync`,
 * hashing — off a thread that must keep answering the network.
 *
 * Jobs cross as structured clones with their `ArrayBuffer`s transferred (no copy). The worker is a
 * `node:worker_threads` Worker held (`ref`) only while a job is pending, so an idle thread never
 * keeps the process alive. The worker module calls {@link serveJobs} with its handler.
 * @module
 */
import { parentPort, Worker } from "node:worker_threads";
import { TidemarkError } from "./errors.ts";

/** A job as posted to the worker. */
export type JobMessage<J> = J & { id: number };

/** The worker's answer for job `id`: its result or its error. */
export type JobReply<R> =
  | { id: number; result: R }
  | { id: number; error: { name: string; message: string } };

interface Pending<R> {
  resolve(result: R): void;
  reject(error: Error): void;
}

/** A worker thread running jobs `J` to results `R`, in the order they are sent. */
export class JobThread<J extends object, R> {
  readonly #worker: Worker;
  readonly #name: string;
  readonly #pending = new Map<number, Pending<R>>();
  readonly #onFail: () => void;
  #next = 1;
  #failed: Error | null = null;

  /**
   * Starts the worker module at `url` (which calls {@link serveJobs}); `name` names the thread
   * in errors; `onFail` runs once when the thread fails or stops (to drop a shared reference).
   */
  constructor(url: URL, name: string, onFail: () => void = () => {}) {
    this.#name = name;
    this.#onFail = onFail;
    this.#worker = new Worker(url);
    this.#worker.unref();
    this.#worker.on("message", (reply: JobReply<R>) => this.#settle(reply));
    this.#worker.on("error", (error: Error) => this.#fail(error));
    this.#worker.on("exit", (code: number) => {
      this.#fail(
        new TidemarkError(
          `the ${this.#name} worker thread exited (code ${code}) with jobs pending; they ` +
            "failed and the next job starts a new thread",
        ),
      );
    });
  }

  /** Jobs sent and not answered yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Sends one job, moving the `transfer` buffers to the worker; resolves to its result. */
  run(job: J, transfer: ArrayBuffer[] = []): Promise<R> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#next++;
    const done = new Promise<R>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    if (this.#pending.size === 1) this.#worker.ref();
    this.#worker.postMessage({ ...job, id }, transfer);
    return done;
  }

  /** Stops the worker; pending jobs fail. */
  async terminate(): Promise<void> {
    this.#fail(
      new TidemarkError(
        `the ${this.#name} worker thread was stopped; the next job starts a new one`,
      ),
    );
    await this.#worker.terminate();
  }

  #settle(reply: JobReply<R>): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if ("result" in reply) pending.resolve(reply.result);
    else pending.reject(rebuildError(reply.error));
  }

  #fail(error: Error): void {
    if (!this.#failed) {
      this.#failed = error;
      this.#onFail();
    }
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#worker.unref();
  }
}

// deno-lint-ignore no-explicit-any
const sharedThreads = new Map<string, JobThread<any, any>>();

/**
 * The process's one thread for the worker module at `url`, started on first use and again after
 * it failed or was stopped (a failed thread leaves this registry as it fails).
 *
 * @example
 * ```ts ignore
 * const thread = sharedJobThread<{ n: number }, number>(new URL("./my_worker.ts", import.meta.url), "doubling");
 * await thread.run({ n: 21 }); // 42
 * ```
 */
export function sharedJobThread<J extends object, R>(url: URL, name: string): JobThread<J, R> {
  const key = url.href;
  let thread = sharedThreads.get(key) as JobThread<J, R> | undefined;
  if (!thread) {
    const started: JobThread<J, R> = new JobThread<J, R>(url, name, () => {
      if (sharedThreads.get(key) === started) sharedThreads.delete(key);
    });
    sharedThreads.set(key, started);
    thread = started;
  }
  return thread;
}

/**
 * An `ArrayBuffer` holding exactly `bytes`, to transfer: the view's own buffer when it spans all
 * of it, else a copy. (Deno's worker_threads moves a transferred `ArrayBuffer` in microseconds but
 * is slow with a transferred typed array, so jobs carry buffers, not views.)
 */
export function transferableBuffer(bytes: Uint8Array): ArrayBuffer {
  return (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes.buffer
    : bytes.slice().buffer) as ArrayBuffer;
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

/**
 * The worker side: answers every job posted by a {@link JobThread} with `handle`'s result or
 * error, one job at a time, in arrival order. Throws when not running on a worker thread.
 *
 * @example
 * ```ts ignore
 * // my_worker.ts
 * import { serveJobs } from "../../job_thread.ts";
 * serveJobs((job: { n: number }) => job.n * 2);
 * ```
 */
export function serveJobs<J, R>(
  handle: (job: JobMessage<J>) => R | Promise<R>,
  name = "job",
): void {
  if (!parentPort) throw new Error(`the ${name} worker runs only as a worker thread`);
  const port = parentPort;
  let queue: Promise<void> = Promise.resolve();
  port.on("message", (job: JobMessage<J>) => {
    queue = queue.then(async () => {
      let reply: JobReply<R>;
      try {
        reply = { id: job.id, result: await handle(job) };
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        reply = { id: job.id, error: { name: e.name, message: e.message } };
      }
      port.postMessage(reply);
    });
  });
}
