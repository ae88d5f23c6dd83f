/**
 * SQLite through `node:sqlite`: the query is prepared read-only, its declared column types read
 * with `columns()`, and its rows streamed with `StatementSync.iterate()` in array mode into
 * column chunks — never the whole result in memory.
 *
 * Two quirks of `node:sqlite` in Deno are handled here:
 * - `iterate()` ends quietly when a step fails (a runtime error such as `integer overflow`,
 *   malformed JSON, a busy database), which would pass a truncated result off as complete. The
 *   query therefore runs wrapped with one sentinel row after its last row: a result that ends
 *   without the sentinel failed, and the failing row is re-read with `all()` to get SQLite's
 *   error message.
 * - Integers beyond 2^53 end an iteration the same way unless big integers are on, so they are
 *   always read as `bigint` (the chunker stores them back as numbers while they are safe).
 *
 * By default the rows are read in a worker (`sqlite_worker.ts`) so that reading overlaps with
 * the sink turning the previous chunk into Parquet on the main thread.
 * @module
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { resolve } from "node:path";
import { SqlError } from "../core/errors.ts";
import {
  type ColumnChunk,
  ColumnChunker,
  concatChunks,
  decodeChunk,
  type SqlColumn,
  type TypeHint,
} from "./chunker.ts";
import type { BoundQuery, ParamValue } from "./params.ts";
import {
  checkUniqueColumns,
  type QueryOptions,
  type QueryStream,
  quoteIdentifier,
  type SqlSource,
} from "./source.ts";

/** Options of {@link openSqliteSource}. */
export interface SqliteSourceOptions {
  /**
   * Read rows in a worker thread so reading overlaps with writing. `false` reads on the
   * calling thread (simpler to debug, slower end to end). @default true
   */
  worker?: boolean;
  /**
   * Batches the worker may read ahead of the consumer (bounds memory). Enough for a whole
   * chunk, so reading goes on while the consumer writes the previous chunk.
   * @default chunk rows / batch rows + 2
   */
  readAhead?: number;
  /**
   * Rows per batch the worker posts (batches are joined into chunks on this thread, so the
   * reader never holds a whole chunk). @default 10_000
   */
  batchRows?: number;
  /**
   * Dictionary-encode repeating text in the worker (see the chunker's `encodeText`): about
   * 50 MB less peak memory at 100 k-row chunks and less thread traffic, for about 4 % more
   * CPU on the reader thread (the critical path). @default true
   */
  encodeText?: boolean;
}

// `setReturnArrays` exists at runtime (Deno 2.9) but not yet in the bundled node types.
type ArrayStatement = StatementSync & { setReturnArrays(enabled: boolean): void };

const SENTINEL_COLUMN = "__tidemark_more";

/**
 * The {@link TypeHint} of a SQLite declared type, by SQLite's affinity rules: `INT` → int64;
 * `CHAR`/`CLOB`/`TEXT` → string; `REAL`/`FLOA`/`DOUB` → float64; `BOOL` → boolean;
 * `NUMERIC`/`DECIMAL`/`NUMBER`/`MONEY` → numeric; anything else (`DATETIME`, `BLOB`, none) →
 * decided by the first value, so text dates stay text.
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

/** A query prepared on an open database, ready to stream. */
export interface PreparedSqliteQuery {
  /** Result columns with declared types. */
  columns: SqlColumn[];
  /** The wrapped statement (the query plus one sentinel row). */
  statement: ArrayStatement;
  /** Positional values for `?1..?n` (booleans as 1/0: SQLite has no boolean). */
  values: SQLInputValue[];
  /** The query text (for re-reading a failed row). */
  text: string;
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
  const nulls = columns.map(() => "NULL").join(", ");
  // Data rows carry NULL in the extra column (no allocation per row); the sentinel carries 1.
  const wrapped = `SELECT "tidemark_q".*, NULL AS ${quoteIdentifier(SENTINEL_COLUMN)} FROM (\n` +
    `${query.text}\n) AS "tidemark_q" UNION ALL SELECT ${nulls}, 1`;
  let statement: ArrayStatement;
  try {
    statement = db.prepare(wrapped) as ArrayStatement;
  } catch (error) {
    throw new SqlError(
      `the query cannot be read as a subquery (${(error as Error).message}); ` +
        "extract runs a SELECT (or WITH … SELECT) statement",
    );
  }
  statement.setReturnArrays(true);
  statement.setReadBigInts(true);
  const values = query.values.map((v: ParamValue) => typeof v === "boolean" ? (v ? 1 : 0) : v);
  return { columns, statement, values, text: query.text };
}

/**
 * Streams a prepared query's rows as chunks of `chunkRows`. Throws {@link SqlError} with
 * SQLite's message when the query fails part-way (see the module notes).
 */
export function* readSqliteChunks(
  db: DatabaseSync,
  prepared: PreparedSqliteQuery,
  options: QueryOptions & { batchRows?: number; encodeText?: boolean } = {},
): Generator<ColumnChunk> {
  const chunker = new ColumnChunker(prepared.columns, options);
  const last = prepared.columns.length;
  let rows = 0;
  let complete = false;
  for (const row of prepared.statement.iterate(...prepared.values) as Iterable<unknown[]>) {
    if (row[last] !== null) {
      complete = true;
      break;
    }
    rows += 1;
    if (chunker.add(row)) yield chunker.take();
  }
  if (!complete) throw failureAt(db, prepared, rows);
  if (chunker.length > 0) yield chunker.take();
}

/** Re-reads the row a failed iteration stopped at, to report SQLite's error for it. */
function failureAt(db: DatabaseSync, prepared: PreparedSqliteQuery, rows: number): SqlError {
  const offset = prepared.values.length + 1;
  try {
    db.prepare(`SELECT * FROM (\n${prepared.text}\n) LIMIT 1 OFFSET ?${offset}`)
      .all(...prepared.values, rows);
  } catch (error) {
    return new SqlError(
      `the query failed after ${rows} rows: ${(error as Error).message}; fix the query ` +
        "(or the data) and run again — nothing from this run was kept",
    );
  }
  return new SqlError(
    `the query stopped after ${rows} rows without reaching its end, and reading that row ` +
      "again worked (was the database busy or changing?); run again",
  );
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
 * for await (const chunk of stream.chunks) console.log(chunk.length);
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
  if (options.worker === false) return Promise.resolve(new InlineSqliteSource(absolute, db));
  db.close();
  return Promise.resolve(
    new WorkerSqliteSource(
      absolute,
      options.readAhead,
      options.batchRows ?? 10_000,
      options.encodeText ?? true,
    ),
  );
}

class InlineSqliteSource implements SqlSource {
  readonly dialect = "sqlite" as const;
  #db: DatabaseSync | undefined;
  constructor(readonly description: string, db: DatabaseSync) {
    this.#db = db;
  }
  query(query: BoundQuery, options: QueryOptions = {}): Promise<QueryStream> {
    const db = this.#db;
    if (!db) return Promise.reject(new SqlError(`database ${this.description} is closed`));
    try {
      const prepared = prepareSqliteQuery(db, query);
      const iterator = readSqliteChunks(db, prepared, options);
      return Promise.resolve({
        columns: prepared.columns,
        chunks: (async function* () {
          yield* iterator;
        })(),
        cancel() {
          iterator.return(undefined);
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
  | { type: "chunk"; chunk: ColumnChunk }
  | { type: "done" }
  | { type: "error"; message: string; sql: boolean };

/** Messages to `sqlite_worker.ts`. */
export type WorkerRequest =
  | {
    type: "start";
    path: string;
    query: BoundQuery;
    chunkRows: number;
    batchRows: number;
    encodeText: boolean;
    readAhead: number;
  }
  | { type: "credit" };

class WorkerSqliteSource implements SqlSource {
  readonly dialect = "sqlite" as const;
  readonly #streams = new Set<WorkerStream>();
  #inline: InlineSqliteSource | undefined;
  #closed = false;
  constructor(
    readonly description: string,
    readonly readAhead: number | undefined,
    readonly batchRows: number,
    readonly encodeText: boolean,
  ) {}

  async query(query: BoundQuery, options: QueryOptions = {}): Promise<QueryStream> {
    if (this.#closed) throw new SqlError(`database ${this.description} is closed`);
    const stream = new WorkerStream(() => this.#streams.delete(stream));
    this.#streams.add(stream);
    try {
      await stream.start({
        type: "start",
        path: this.description,
        query,
        chunkRows: options.chunkRows ?? 100_000,
        batchRows: this.batchRows,
        encodeText: this.encodeText,
        readAhead: this.readAhead ??
          Math.ceil((options.chunkRows ?? 100_000) / this.batchRows) + 2,
      });
    } catch (error) {
      if (error instanceof SqlError) throw error;
      // The worker could not start (no read permission on its module, a compiled binary
      // without it): read on this thread instead — slower, same rows.
      this.#inline ??= new InlineSqliteSource(
        this.description,
        openSqliteDatabase(this.description),
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
  readonly #onStop: () => void;
  #chunkRows = 100_000;

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
    this.#chunkRows = request.chunkRows;
    this.#worker.postMessage(request);
    const reply = await this.#next();
    if (reply.type === "columns") {
      this.columns = reply.columns;
      return;
    }
    await this.cancel();
    throw toError(reply);
  }

  get chunks(): AsyncIterable<ColumnChunk> {
    return { [Symbol.asyncIterator]: () => this.#iterate() };
  }

  async *#iterate(): AsyncGenerator<ColumnChunk> {
    let batches: ColumnChunk[] = [];
    try {
      while (!this.#stopped) {
        const reply = await this.#next();
        if (reply.type === "chunk") {
          this.#worker.postMessage({ type: "credit" } satisfies WorkerRequest);
          const batch = decodeChunk(reply.chunk);
          batches.push(batch);
          // Batches never cross a chunk boundary: join them when one is reached.
          if ((batch.firstRow + batch.length) % this.#chunkRows === 0) {
            const chunk = concatChunks(batches);
            batches = [];
            yield chunk;
          }
        } else if (reply.type === "done") {
          if (batches.length > 0) yield concatChunks(batches);
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
