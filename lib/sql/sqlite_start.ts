/**
 * Starting a SQLite reader thread (`sqlite_worker.ts`), apart from the rest of the source so
 * the CLI can start one before it loads the extractor: this module imports nothing of the
 * chunker or the sinks, so the query starts running a few tens of milliseconds after the
 * process does, and runs (its first pages waiting for the consumer) while the main thread
 * loads the rest.
 * @module
 */
import type { BoundQuery } from "./params.ts";
import type { WorkerReply, WorkerRequest } from "./sqlite_source.ts";
import { newReaderControl, stopReader } from "./sqlite_stream.ts";

/** How a reader thread hands its pages over. */
export interface ReaderPaging {
  /** Rows per page. @default 4096 */
  pageRows?: number;
  /** Pages it may post ahead of the consumer (bounds memory). @default 16 */
  readAhead?: number;
}

const PAGE_ROWS = 4096;
/**
 * 16 pages of 4096 rows (a few MB, outside the heap) let the reader keep going while the main
 * thread is still loading the extractor or writing a part: with 8, a loaded machine left it
 * waiting for a third of a second; 32 added about 10 MB to the peak for no more speed.
 */
const READ_AHEAD = 16;

/** A reader thread running `query` on `path`; replies wait in `replies` until `listen`. */
export interface ReaderThread {
  /** The database file (absolute). */
  readonly path: string;
  /** The query it runs. */
  readonly query: BoundQuery;
  /** Rows per page. */
  readonly pageRows: number;
  /** Pages it may post ahead of the consumer. */
  readonly readAhead: number;
  /** Its flow control: credits the consumer gives as it takes pages (`sqlite_stream.ts`). */
  readonly control: Int32Array;
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
 * (replying its columns) and runs it, posting pages while the consumer keeps up.
 */
export function startReaderThread(
  path: string,
  query: BoundQuery,
  paging: ReaderPaging = {},
): ReaderThread {
  const { worker, listen } = spare ?? spawnReader();
  spare = undefined;
  const absolute = absolutePath(path);
  const pageRows = paging.pageRows ?? PAGE_ROWS;
  const readAhead = paging.readAhead ?? READ_AHEAD;
  const control = newReaderControl(readAhead);
  worker.postMessage(
    { type: "start", path: absolute, query, pageRows, control } satisfies WorkerRequest,
  );
  return { path: absolute, query, pageRows, readAhead, control, worker, listen };
}

/**
 * `path` made absolute as node:path's `resolve` does on POSIX, without loading node:path: that
 * takes about 30 ms at start-up, before the query can start. Where the two differ (Windows),
 * the source only fails to adopt the thread, and starts its own.
 */
function absolutePath(path: string): string {
  const parts: string[] = [];
  for (const part of (path.startsWith("/") ? path : `${Deno.cwd()}/${path}`).split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "" && part !== ".") parts.push(part);
  }
  return `/${parts.join("/")}`;
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
    if (started.delete(thread)) {
      stopReader(thread.control);
      thread.worker.terminate();
    }
    return Promise.resolve();
  };
}

/**
 * The reader thread started for `query` on `path` (absolute) with the same paging, taken out
 * of the waiting list.
 */
export function adoptReaderThread(
  path: string,
  query: BoundQuery,
  paging: ReaderPaging = {},
): ReaderThread | undefined {
  for (const thread of started) {
    const same = thread.path === path && thread.query.text === query.text &&
      thread.query.values.length === query.values.length &&
      thread.query.values.every((v, i) => v === query.values[i]) &&
      thread.pageRows === (paging.pageRows ?? PAGE_ROWS) &&
      thread.readAhead === (paging.readAhead ?? READ_AHEAD);
    if (same) {
      started.delete(thread);
      return thread;
    }
  }
  return undefined;
}
