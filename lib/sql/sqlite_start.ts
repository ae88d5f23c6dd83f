/**
 * Starting a SQLite reader thread (`sqlite_worker.ts`), apart from the rest of the source so
 * the CLI can start one before it loads the extractor: this module imports nothing of the
 * chunker or the sinks, so the query starts running a few tens of milliseconds after the
 * process does, and runs into its temporary table while the main thread loads the rest.
 * @module
 */
import { resolve } from "node:path";
import type { BoundQuery } from "./params.ts";
import type { WorkerReply, WorkerRequest } from "./sqlite_source.ts";

/** A reader thread running `query` on `path`; replies wait in `replies` until `listen`. */
export interface ReaderThread {
  /** The database file (absolute). */
  readonly path: string;
  /** The query it runs. */
  readonly query: BoundQuery;
  /** The thread. */
  readonly worker: Worker;
  /** Hands every reply, those already received first, to `on`. */
  listen(on: (reply: WorkerReply) => void): void;
}

/** A reader thread's worker with its replies queued until someone listens. */
interface Spawned {
  worker: Worker;
  listen(on: (reply: WorkerReply) => void): void;
}

function spawnReader(): Spawned {
  const worker = new Worker(new URL("./sqlite_worker.ts", import.meta.url), { type: "module" });
  const early: WorkerReply[] = [];
  let handler: ((reply: WorkerReply) => void) | undefined;
  const deliver = (reply: WorkerReply) => handler ? handler(reply) : early.push(reply);
  worker.onmessage = (event: MessageEvent<WorkerReply>) => deliver(event.data);
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    deliver({ type: "error", message: event.message, sql: false });
  };
  return {
    worker,
    listen(on) {
      handler = on;
      for (const reply of early.splice(0)) on(reply);
    },
  };
}

/** The reader thread started by {@link prestartReaderThread} and not taken yet. */
let spare: Spawned | undefined;

/**
 * Starts a reader thread with no query yet, so its runtime and modules load (about 0.1 s) while
 * the caller loads its own and works out the query: the next {@link startReaderThread} takes
 * it. For an entry point that will most likely read SQLite and ends with `Deno.exit` (an idle
 * thread no query took would otherwise keep the process alive).
 */
export function prestartReaderThread(): void {
  spare ??= spawnReader();
}

/**
 * Starts a reader thread (or takes the pre-started one) that opens `path`, prepares `query`
 * (replying its columns) and runs it into its temporary table.
 */
export function startReaderThread(path: string, query: BoundQuery): ReaderThread {
  const { worker, listen } = spare ?? spawnReader();
  spare = undefined;
  const absolute = resolve(path);
  worker.postMessage({ type: "start", path: absolute, query } satisfies WorkerRequest);
  return { path: absolute, query, worker, listen };
}

/** Reader threads started ahead of the extraction that will ask for them. */
const started = new Set<ReaderThread>();

/**
 * Starts running `query` on `path` in a reader thread now, for an extraction that will ask for
 * the same query soon (the SQLite source adopts it when the file and the bound query are the
 * same; otherwise it is never read). Returns a function that stops it unless it was adopted.
 *
 * @example
 * ```ts
 * import { startSqliteQuery } from "./sqlite_start.ts";
 * import { bindQuery } from "./params.ts";
 * const stop = startSqliteQuery("northwind.db", bindQuery("SELECT * FROM Orders", {}));
 * // … import and run the extraction, then:
 * await stop();
 * ```
 */
export function startSqliteQuery(path: string, query: BoundQuery): () => Promise<void> {
  const thread = startReaderThread(path, query);
  started.add(thread);
  return () => {
    if (started.delete(thread)) thread.worker.terminate();
    return Promise.resolve();
  };
}

/** The reader thread started for `query` on `path` (absolute), taken out of the waiting list. */
export function adoptReaderThread(path: string, query: BoundQuery): ReaderThread | undefined {
  for (const thread of started) {
    const same = thread.path === path && thread.query.text === query.text &&
      thread.query.values.length === query.values.length &&
      thread.query.values.every((v, i) => v === query.values[i]);
    if (same) {
      started.delete(thread);
      return thread;
    }
  }
  return undefined;
}
