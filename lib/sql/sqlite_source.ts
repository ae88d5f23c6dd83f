/**
 * SQLite through `node:sqlite` as a {@link SqlSource}: the query runs once into a temporary
 * table and is read back a page at a time as JSON columns (see `sqlite_read.ts` for why), and
 * the pages become typed column chunks (`chunker.ts`) — never the whole result in memory.
 *
 * By default the SQLite work runs in a reader thread (`sqlite_worker.ts`): it runs the query
 * and builds each page's JSON while this thread parses the pages, builds the chunks and hands
 * them to the sink, so reading overlaps converting and writing. A full extraction can even
 * start its query before the extractor is loaded (`startSqliteQuery` in `sqlite_start.ts`).
 * @module
 */
import { resolve } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { SqlError } from "../core/errors.ts";
import type { Boundary } from "./boundary.ts";
import { type BuiltChunk, ChunkBuilder, type SqlColumn } from "./chunker.ts";
import type { BoundQuery } from "./params.ts";
import type { QueryOptions, QueryStream, SqlSource } from "./source.ts";
import { adoptReaderThread, type ReaderThread, startReaderThread } from "./sqlite_start.ts";
import {
  decodePage,
  materialize,
  openSqliteDatabase,
  prepareSqliteQuery,
  readPages,
  type SqlitePage,
} from "./sqlite_read.ts";

export { startSqliteQuery } from "./sqlite_start.ts";
export {
  materialize,
  openSqliteDatabase,
  type PreparedSqliteQuery,
  prepareSqliteQuery,
  readPages,
  sqliteTypeHint,
} from "./sqlite_read.ts";

/** Options of {@link openSqliteSource}. */
export interface SqliteSourceOptions {
  /**
   * Run the SQLite work in a reader thread so it overlaps with converting and writing. `false`
   * reads on the calling thread (simpler to debug, slower end to end). @default true
   */
  worker?: boolean;
  /** Pages the reader thread may read ahead of the consumer (bounds memory). @default 8 */
  readAhead?: number;
  /** Rows per page. @default 4096 */
  pageRows?: number;
  /** Dictionary-encode repeating text (see the chunker). @default true */
  encodeText?: boolean;
}

/**
 * Opens a SQLite database file as a {@link SqlSource}.
 *
 * @example
 * ```ts
 * import { openSqliteSource } from "./sqlite_source.ts";
 * import { bindQuery } from "./params.ts";
 * const source = await openSqliteSource("northwind.db");
 * const stream = await source.query(bindQuery("SELECT * FROM Orders WHERE OrderDate >= :start", {
 *   start: "1997-01-01",
 * }));
 * for await (const chunk of stream.chunks) console.log(chunk.batch.length);
 * await source.close();
 * ```
 */
export function openSqliteSource(
  path: string,
  options: SqliteSourceOptions = {},
): Promise<SqlSource> {
  const absolute = resolve(path);
  // Open once here so a missing or broken file fails before any worker starts.
  const db = openSqliteDatabase(absolute);
  if (options.worker === false) {
    return Promise.resolve(new InlineSqliteSource(absolute, db, options));
  }
  db.close();
  return Promise.resolve(new WorkerSqliteSource(absolute, options));
}

/** The builder of a query's chunks; made before any row is read, so a bad shape fails first. */
function builderFor(columns: SqlColumn[], options: QueryOptions, encodeText?: boolean) {
  return new ChunkBuilder(columns, {
    chunkRows: options.chunkRows,
    // SQLite keeps dates as text: a column of one ISO form becomes DATE/TIMESTAMP.
    shape: { inferDates: true, ...options.shape },
    incremental: options.incremental,
    encodeText,
  });
}

/** Chunks from pages: decoded, pushed through the builder, then the last chunk. */
async function* chunksOf(
  pages: AsyncIterable<SqlitePage> | Iterable<SqlitePage>,
  builder: ChunkBuilder,
  width: number,
): AsyncGenerator<BuiltChunk> {
  for await (const page of pages) {
    yield* builder.pushColumns(decodePage(page, width), page.length);
  }
  const last = builder.finish();
  if (last) yield last;
}

/** Reads on the calling thread. */
class InlineSqliteSource implements SqlSource {
  readonly dialect = "sqlite" as const;
  #db: DatabaseSync | undefined;
  constructor(
    readonly description: string,
    db: DatabaseSync,
    readonly options: SqliteSourceOptions,
  ) {
    this.#db = db;
  }
  query(query: BoundQuery, options: QueryOptions = {}): Promise<QueryStream> {
    const db = this.#db;
    if (!db) return Promise.reject(new SqlError(`database ${this.description} is closed`));
    try {
      const prepared = prepareSqliteQuery(db, query);
      const builder = builderFor(prepared.columns, options, this.options.encodeText);
      const pageRows = this.options.pageRows;
      let pages: Generator<SqlitePage> | undefined;
      return Promise.resolve({
        columns: prepared.columns,
        chunks: (async function* () {
          materialize(db, prepared);
          pages = readPages(db, prepared, pageRows);
          yield* chunksOf(pages, builder, prepared.columns.length);
        })(),
        boundary: () => builder.boundary(),
        release: (chunk: BuiltChunk) => builder.release(chunk),
        cancel() {
          pages?.return(undefined);
          return Promise.resolve();
        },
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }
  close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    return Promise.resolve();
  }
}

/** Messages from `sqlite_worker.ts`. */
export type WorkerReply =
  | { type: "columns"; columns: SqlColumn[] }
  | { type: "page"; page: SqlitePage }
  | { type: "done" }
  | { type: "compressed"; id: number; page: Uint8Array }
  | { type: "error"; message: string; sql: boolean };

/**
 * Messages to `sqlite_worker.ts`: `start` opens the database, prepares the query (replying
 * its columns) and runs it into the temporary table; `read` (sent once the consumer is ready)
 * reads it back page by page; `credit` lets the reader post one more page; `compress` asks
 * for a Parquet page's zstd frame (the reader thread is idle most of the time, the consumer's
 * is not).
 */
export type WorkerRequest =
  | { type: "start"; path: string; query: BoundQuery }
  | { type: "read"; pageRows: number; readAhead: number }
  | { type: "credit" }
  | { type: "compress"; id: number; page: Uint8Array };

/** Reads in a worker per query; falls back to the calling thread when no worker can start. */
class WorkerSqliteSource implements SqlSource {
  readonly dialect = "sqlite" as const;
  readonly #streams = new Set<WorkerStream>();
  #inline: InlineSqliteSource | undefined;
  #closed = false;
  constructor(readonly description: string, readonly options: SqliteSourceOptions) {}

  async query(query: BoundQuery, options: QueryOptions = {}): Promise<QueryStream> {
    if (this.#closed) throw new SqlError(`database ${this.description} is closed`);
    let stream: WorkerStream;
    try {
      stream = new WorkerStream(
        adoptReaderThread(this.description, query) ??
          startReaderThread(this.description, query),
      );
      await stream.columnsKnown();
    } catch (error) {
      if (error instanceof SqlError) throw error;
      // The worker could not start (no read permission on its module, a compiled binary
      // without it): read on this thread instead — slower, same rows.
      this.#inline ??= new InlineSqliteSource(
        this.description,
        openSqliteDatabase(this.description),
        this.options,
      );
      return this.#inline.query(query, options);
    }
    stream.onStop = () => this.#streams.delete(stream);
    this.#streams.add(stream);
    let builder: ChunkBuilder;
    try {
      builder = builderFor(stream.columns, options, this.options.encodeText);
    } catch (error) {
      await stream.cancel();
      throw error;
    }
    stream.read(builder, this.options.pageRows ?? 4096, this.options.readAhead ?? 8);
    return stream;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const stream of [...this.#streams]) await stream.cancel();
    await this.#inline?.close();
  }
}

/** One query running in a worker: pages are queued and turned into chunks by `chunks`. */
class WorkerStream implements QueryStream {
  columns: SqlColumn[] = [];
  readonly #worker: Worker;
  readonly #replies: WorkerReply[] = [];
  #wake: (() => void) | undefined;
  #stopped = false;
  #columns: Promise<void> | undefined;
  #builder: ChunkBuilder | undefined;
  /** Compressions asked of the reader thread and not answered yet, by id. */
  readonly #compressing = new Map<number, [(page: Uint8Array) => void, (error: Error) => void]>();
  #nextId = 0;
  /** Called once when the stream stops. */
  onStop: () => void = () => {};

  /** Reads from `thread` (started here, or ahead by the CLI; the columns come back first). */
  constructor(thread: ReaderThread) {
    this.#worker = thread.worker;
    thread.listen((reply) => {
      if (reply.type !== "compressed") return this.#push(reply);
      this.#compressing.get(reply.id)?.[0](reply.page);
      this.#compressing.delete(reply.id);
    });
  }

  /** zstd of a Parquet page on the reader thread (the page's buffer moves there). */
  readonly compressor = (page: Uint8Array): Promise<Uint8Array> => {
    if (this.#stopped) {
      return Promise.reject(new SqlError("the SQLite reader has stopped: nothing to compress"));
    }
    const id = this.#nextId++;
    const owned = page.byteOffset === 0 && page.byteLength === page.buffer.byteLength
      ? page
      : page.slice();
    return new Promise((resolve, reject) => {
      this.#compressing.set(id, [resolve, reject]);
      this.#worker.postMessage(
        { type: "compress", id, page: owned } satisfies WorkerRequest,
        [owned.buffer as ArrayBuffer],
      );
    });
  };

  #push(reply: WorkerReply): void {
    this.#replies.push(reply);
    this.#wake?.();
  }

  async #next(): Promise<WorkerReply> {
    while (this.#replies.length === 0) {
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
    return this.#replies.shift()!;
  }

  /** Resolves once the query is prepared (its columns known); rejects with its error. */
  columnsKnown(): Promise<void> {
    this.#columns ??= (async () => {
      const reply = await this.#next();
      if (reply.type === "columns") {
        this.columns = reply.columns;
        return;
      }
      await this.cancel();
      throw toError(reply);
    })();
    return this.#columns;
  }

  /** Asks the worker to read the rows back (after the query has run) into `builder`. */
  read(builder: ChunkBuilder, pageRows: number, readAhead: number): void {
    this.#builder = builder;
    this.#worker.postMessage({ type: "read", pageRows, readAhead } satisfies WorkerRequest);
  }

  get chunks(): AsyncIterable<BuiltChunk> {
    return { [Symbol.asyncIterator]: () => this.#iterate() };
  }

  boundary(): Boundary | undefined {
    return this.#builder?.boundary();
  }

  release(chunk: BuiltChunk): void {
    this.#builder?.release(chunk);
  }

  async *#pages(): AsyncGenerator<SqlitePage> {
    while (!this.#stopped) {
      const reply = await this.#next();
      if (reply.type === "page") {
        this.#worker.postMessage({ type: "credit" } satisfies WorkerRequest);
        yield reply.page;
      } else if (reply.type === "done") {
        return;
      } else {
        throw toError(reply);
      }
    }
    // Stopped from outside: the rows read so far are not the whole result.
    throw new SqlError("the SQLite reader was stopped before the end of the result");
  }

  async *#iterate(): AsyncGenerator<BuiltChunk> {
    let complete = false;
    try {
      yield* chunksOf(this.#pages(), this.#builder!, this.columns.length);
      complete = true;
    } finally {
      // Once every row is read the thread stays, to compress the last parts' pages; closing
      // the source ends it.
      if (!complete) await this.cancel();
    }
  }

  cancel(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#worker.terminate();
      for (const [, reject] of this.#compressing.values()) {
        reject(new SqlError("the SQLite reader stopped before it compressed a page"));
      }
      this.#compressing.clear();
      this.onStop();
      this.#wake?.();
    }
    return Promise.resolve();
  }
}

function toError(reply: WorkerReply): Error {
  if (reply.type !== "error") return new SqlError(`unexpected reply from the SQLite reader`);
  return reply.sql ? new SqlError(reply.message) : new Error(`SQLite reader: ${reply.message}`);
}
