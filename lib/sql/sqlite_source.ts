/**
 * SQLite through `node:sqlite` as a {@link SqlSource}: the query's result comes a page at a
 * time as columns (doubles, joined text, JSON), and the pages become typed column chunks
 * (`chunker.ts`) — never the whole result in memory.
 *
 * By default the SQLite work runs in a reader thread (`sqlite_worker.ts`): it runs the query
 * and posts its pages while the query runs (`sqlite_stream.ts` says how and why), while this
 * thread parses the pages, builds the chunks and hands them to the sink, so reading overlaps
 * converting and writing. A full extraction can even start its query before the extractor is
 * loaded (`startSqliteQuery` in `sqlite_start.ts`). Without a worker (`worker: false`), the
 * query runs into a temporary table read back by pages (`sqlite_read.ts`).
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
import { giveCredit, stopReader } from "./sqlite_stream.ts";

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
  /** Pages the reader thread may read ahead of the consumer (bounds memory). @default 16 */
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
  | { type: "error"; message: string; sql: boolean };

/**
 * Messages to `sqlite_worker.ts`: `start` opens the database, prepares the query (replying
 * its columns) and runs it, posting pages of `pageRows` rows as long as `control` has credits
 * (see `sqlite_stream.ts`).
 */
export type WorkerRequest = {
  type: "start";
  path: string;
  query: BoundQuery;
  pageRows: number;
  control: Int32Array;
};

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
      const paging = { pageRows: this.options.pageRows, readAhead: this.options.readAhead };
      stream = new WorkerStream(
        adoptReaderThread(this.description, query, paging) ??
          startReaderThread(this.description, query, paging),
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
    stream.read(builder);
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
  readonly #control: Int32Array;
  readonly #replies: WorkerReply[] = [];
  #wake: (() => void) | undefined;
  #stopped = false;
  #columns: Promise<void> | undefined;
  #builder: ChunkBuilder | undefined;
  /** Called once when the stream stops. */
  onStop: () => void = () => {};

  /** Reads from `thread` (started here, or ahead by the CLI; the columns come back first). */
  constructor(thread: ReaderThread) {
    this.#worker = thread.worker;
    this.#control = thread.control;
    thread.listen((reply) => this.#push(reply));
  }

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

  /** Turns the pages into chunks with `builder`. */
  read(builder: ChunkBuilder): void {
    this.#builder = builder;
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
        giveCredit(this.#control);
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
      // Once every row is read the thread has nothing left to do; closing the source ends it.
      if (!complete) await this.cancel();
    }
  }

  cancel(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      // Ends a query blocked waiting for credit, then the thread.
      stopReader(this.#control);
      this.#worker.terminate();
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
