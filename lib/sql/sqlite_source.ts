/**
 * SQLite through `node:sqlite`: the query is prepared read-only (its declared column types read
 * with `columns()`), run once into a temporary table, and read back a page at a time with
 * `StatementSync.all()` by rowid, into typed column chunks (`chunker.ts`) — never the whole
 * result in memory.
 *
 * Why a temporary table rather than streaming the statement with `iterate()`:
 * - Speed. `iterate()` crosses from JavaScript into SQLite once per row, about 2.5 µs a row in
 *   Deno 2.9; `all()` on a page of a few thousand rows costs about 0.7 µs a row, and the
 *   `INSERT … SELECT` that fills the table runs inside SQLite at its own speed (a sort or a join
 *   costs what it costs in the `sqlite3` shell). Paging the query itself with LIMIT/OFFSET would
 *   run it again for every page.
 * - Errors. `iterate()` ends quietly when a step fails (integer overflow, malformed JSON, a busy
 *   database), passing a truncated result off as complete; the `INSERT` reports SQLite's error.
 * - Memory. The table lives in SQLite's temporary file (`temp_store = FILE`, deleted when the
 *   connection closes, also after a kill), not in the heap: memory stays flat whatever the
 *   result's size. It needs free disk space about the size of the result; set `SQLITE_TMPDIR`
 *   to put it elsewhere.
 * - A consistent snapshot: the result is read in one statement.
 *
 * Integers beyond 2^53 make `all()` throw a RangeError unless big integers are on: such a page
 * is read again with them (the chunker keeps them exact), so the common case stays in doubles.
 *
 * By default the reading and the chunking run in a worker (`sqlite_worker.ts`), so that they
 * overlap with the sink encoding and writing the previous chunk.
 * @module
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { resolve } from "node:path";
import { SqlError } from "../core/errors.ts";
import type { Boundary } from "./boundary.ts";
import {
  type BuiltChunk,
  ChunkBuilder,
  type IncrementalOptions,
  type ShapeOptions,
  type SqlColumn,
  type TypeHint,
} from "./chunker.ts";
import type { BoundQuery, ParamValue } from "./params.ts";
import {
  checkUniqueColumns,
  type QueryOptions,
  type QueryStream,
  type SqlSource,
} from "./source.ts";
import { batchBuffers } from "../sinks/vectors.ts";

/** Options of {@link openSqliteSource}. */
export interface SqliteSourceOptions {
  /**
   * Read rows in a worker thread so reading overlaps with writing. `false` reads on the
   * calling thread (simpler to debug, slower end to end). @default true
   */
  worker?: boolean;
  /** Chunks the worker may read ahead of the consumer (bounds memory). @default 2 */
  readAhead?: number;
  /** Rows per `all()` page. @default 4096 */
  pageRows?: number;
  /** Dictionary-encode repeating text (see the chunker). @default true */
  encodeText?: boolean;
}

// `setReturnArrays` exists at runtime (Deno 2.9) but not yet in the bundled node types.
type ArrayStatement = StatementSync & { setReturnArrays(enabled: boolean): void };

const RESULT_TABLE = "temp.tidemark_result";

/**
 * The {@link TypeHint} of a SQLite declared type, by SQLite's affinity rules: `INT` → int64;
 * `CHAR`/`CLOB`/`TEXT` → string; `REAL`/`FLOA`/`DOUB` → float64; `BOOL` → boolean;
 * `NUMERIC`/`DECIMAL`/`NUMBER`/`MONEY` → numeric; anything else (`DATETIME`, `BLOB`, none) →
 * decided by the first value.
 *
 * @example
 * ```ts
 * import { sqliteTypeHint } from "./sqlite_source.ts";
 * sqliteTypeHint("INTEGER"); // "int64"
 * sqliteTypeHint("DATETIME"); // "any"
 * ```
 */
export function sqliteTypeHint(declared: string | null): TypeHint {
  if (!declared) return "any";
  const t = declared.toUpperCase();
  if (t.includes("INT")) return "int64";
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "string";
  if (t.includes("BLOB")) return "any";
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return "float64";
  if (t.includes("BOOL")) return "boolean";
  if (/NUMERIC|DECIMAL|NUMBER|MONEY/.test(t)) return "numeric";
  return "any";
}

/**
 * Opens `path` read-only; throws {@link SqlError} when it is missing or not a database.
 */
export function openSqliteDatabase(path: string): DatabaseSync {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new SqlError(
        `database file ${path} does not exist; check --db (make one with ` +
          "'tidemark generate northwind --out FILE')",
      );
    }
    throw error;
  }
  if (!info.isFile) throw new SqlError(`database ${path} is not a file; give a SQLite file`);
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    // Reading the schema is the cheapest way to find out it is really a SQLite file.
    db.prepare("SELECT 1 FROM sqlite_schema LIMIT 1").get();
    return db;
  } catch (error) {
    throw new SqlError(`cannot read ${path} as a SQLite database: ${(error as Error).message}`);
  }
}

/** A query prepared on an open database, ready to run. */
export interface PreparedSqliteQuery {
  /** Result columns with declared types. */
  columns: SqlColumn[];
  /** Positional values for `?1..?n` (booleans as 1/0: SQLite has no boolean). */
  values: SQLInputValue[];
  /** The query text. */
  text: string;
}

/**
 * Prepares `query` on `db`: refuses syntax errors, missing tables, statements that return no
 * rows and duplicate column names, with SQLite's own message.
 */
export function prepareSqliteQuery(db: DatabaseSync, query: BoundQuery): PreparedSqliteQuery {
  let plain: StatementSync;
  try {
    plain = db.prepare(query.text);
  } catch (error) {
    throw new SqlError(`the query does not prepare: ${(error as Error).message}; fix the SQL`);
  }
  const described = plain.columns();
  if (described.length === 0) {
    throw new SqlError("the query returns no columns; extract runs a SELECT (or WITH … SELECT)");
  }
  const columns: SqlColumn[] = described.map((c) => ({
    name: c.name,
    declaredType: c.type ?? null,
    hint: sqliteTypeHint(c.type ?? null),
  }));
  checkUniqueColumns(columns);
  const values = query.values.map((v: ParamValue) => typeof v === "boolean" ? (v ? 1 : 0) : v);
  return { columns, values, text: query.text };
}

/** Options of {@link readSqliteChunks}. */
export interface ReadSqliteOptions {
  /** Rows per chunk. @default 100_000 */
  chunkRows?: number;
  /** Rows per page. @default 4096 */
  pageRows?: number;
  /** Dictionary-encode repeating text. @default true */
  encodeText?: boolean;
  /** Declarations, selection, date inference. */
  shape?: ShapeOptions;
  /** Follow a watermark. */
  incremental?: IncrementalOptions;
}

/** What {@link readSqliteChunks} yields: chunks, then the run's boundary. */
export type SqliteReadEvent =
  | { type: "chunk"; chunk: BuiltChunk }
  | { type: "done"; boundary: Boundary | undefined };

/**
 * A reader of a prepared query: `builder` checks the shape at once (a bad `select` or
 * `columns:` fails before any row is read); `events()` runs the query into the temporary table
 * and yields its rows as chunks (see the module notes). Throws {@link SqlError} with SQLite's
 * message when the query fails.
 */
export function sqliteReader(
  db: DatabaseSync,
  prepared: PreparedSqliteQuery,
  options: ReadSqliteOptions = {},
): { events(): Generator<SqliteReadEvent> } {
  const builder = new ChunkBuilder(prepared.columns, {
    chunkRows: options.chunkRows,
    shape: { inferDates: true, ...options.shape },
    incremental: options.incremental,
    encodeText: options.encodeText,
  });
  const pageRows = options.pageRows ?? 4096;
  return {
    *events(): Generator<SqliteReadEvent> {
      materialize(db, prepared);
      try {
        const page = db.prepare(
          `SELECT * FROM ${RESULT_TABLE} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2`,
        ) as ArrayStatement;
        page.setReturnArrays(true);
        let last = 0;
        let big = false;
        for (;;) {
          let rows: unknown[][];
          try {
            rows = page.all(last, pageRows) as unknown as unknown[][];
          } catch (error) {
            if (big || !(error instanceof RangeError)) throw error;
            // An integer beyond 2^53: this page and the rest with big integers.
            big = true;
            page.setReadBigInts(true);
            continue;
          }
          if (rows.length === 0) break;
          last += rows.length;
          for (const chunk of builder.push(rows)) yield { type: "chunk", chunk };
          if (rows.length < pageRows) break;
        }
        const chunk = builder.finish();
        if (chunk) yield { type: "chunk", chunk };
        yield { type: "done", boundary: builder.boundary() };
      } finally {
        try {
          db.exec(`DROP TABLE IF EXISTS ${RESULT_TABLE}`);
        } catch {
          // the connection is closing anyway: the temporary file goes with it
        }
      }
    },
  };
}

/** Runs the query into the result table, rowids 1..n in the query's order. */
function materialize(db: DatabaseSync, prepared: PreparedSqliteQuery): void {
  // A file, not memory: the result may be larger than the memory the extract may use.
  db.exec("PRAGMA temp_store = FILE");
  const columns = prepared.columns.map((_, i) => `c${i}`).join(", ");
  // Columns without a declared type: values are stored exactly as the query returns them (a
  // typed column would apply its affinity, turning the text '007' into 7).
  db.exec(`DROP TABLE IF EXISTS ${RESULT_TABLE}; CREATE TABLE ${RESULT_TABLE} (${columns})`);
  try {
    db.prepare(`INSERT INTO ${RESULT_TABLE} SELECT * FROM (\n${prepared.text}\n)`)
      .run(...prepared.values);
  } catch (error) {
    throw new SqlError(
      `the query failed: ${(error as Error).message}; fix the query (or the data) and run ` +
        "again — nothing from this run was kept",
    );
  }
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
      const reader = sqliteReader(db, prepared, {
        ...options,
        pageRows: this.options.pageRows,
        encodeText: this.options.encodeText,
      });
      const events = reader.events();
      let boundary: Boundary | undefined;
      return Promise.resolve({
        columns: prepared.columns,
        chunks: (async function* () {
          for (const event of events) {
            if (event.type === "chunk") yield event.chunk;
            else boundary = event.boundary;
          }
        })(),
        boundary: () => boundary,
        cancel() {
          events.return(undefined);
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
  | { type: "chunk"; chunk: BuiltChunk }
  | { type: "done"; boundary: Boundary | undefined }
  | { type: "error"; message: string; sql: boolean };

/** Messages to `sqlite_worker.ts`. */
export type WorkerRequest =
  | {
    type: "start";
    path: string;
    query: BoundQuery;
    options: ReadSqliteOptions;
    readAhead: number;
  }
  | { type: "credit" };

/** The buffers of a chunk, transferred (not copied) to the consumer's thread. */
export function chunkBuffers(chunk: BuiltChunk): ArrayBuffer[] {
  return batchBuffers(chunk.batch);
}

/** Reads in a worker per query; falls back to the calling thread when no worker can start. */
class WorkerSqliteSource implements SqlSource {
  readonly dialect = "sqlite" as const;
  readonly #streams = new Set<WorkerStream>();
  #inline: InlineSqliteSource | undefined;
  #closed = false;
  constructor(readonly description: string, readonly options: SqliteSourceOptions) {}

  async query(query: BoundQuery, options: QueryOptions = {}): Promise<QueryStream> {
    if (this.#closed) throw new SqlError(`database ${this.description} is closed`);
    const stream = new WorkerStream(() => this.#streams.delete(stream));
    this.#streams.add(stream);
    try {
      await stream.start({
        type: "start",
        path: this.description,
        query,
        options: {
          ...options,
          pageRows: this.options.pageRows,
          encodeText: this.options.encodeText,
        },
        readAhead: this.options.readAhead ?? 2,
      });
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
    return stream;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const stream of [...this.#streams]) await stream.cancel();
    await this.#inline?.close();
  }
}

/** One query running in a worker: replies are queued and consumed by `chunks`. */
class WorkerStream implements QueryStream {
  columns: SqlColumn[] = [];
  readonly #worker: Worker;
  readonly #replies: WorkerReply[] = [];
  #wake: (() => void) | undefined;
  #stopped = false;
  #boundary: Boundary | undefined;
  readonly #onStop: () => void;

  constructor(onStop: () => void) {
    this.#onStop = onStop;
    this.#worker = new Worker(new URL("./sqlite_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<WorkerReply>) => this.#push(event.data);
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#push({ type: "error", message: event.message, sql: false });
    };
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

  async start(request: Extract<WorkerRequest, { type: "start" }>): Promise<void> {
    this.#worker.postMessage(request);
    const reply = await this.#next();
    if (reply.type === "columns") {
      this.columns = reply.columns;
      return;
    }
    await this.cancel();
    throw toError(reply);
  }

  get chunks(): AsyncIterable<BuiltChunk> {
    return { [Symbol.asyncIterator]: () => this.#iterate() };
  }

  boundary(): Boundary | undefined {
    return this.#boundary;
  }

  async *#iterate(): AsyncGenerator<BuiltChunk> {
    try {
      while (!this.#stopped) {
        const reply = await this.#next();
        if (reply.type === "chunk") {
          this.#worker.postMessage({ type: "credit" } satisfies WorkerRequest);
          yield reply.chunk;
        } else if (reply.type === "done") {
          this.#boundary = reply.boundary;
          return;
        } else {
          throw toError(reply);
        }
      }
    } finally {
      await this.cancel();
    }
  }

  cancel(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#worker.terminate();
      this.#onStop();
      this.#wake?.();
    }
    return Promise.resolve();
  }
}

function toError(reply: WorkerReply): Error {
  if (reply.type !== "error") return new SqlError(`unexpected reply from the SQLite reader`);
  return reply.sql ? new SqlError(reply.message) : new Error(`SQLite reader: ${reply.message}`);
}
