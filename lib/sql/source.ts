/**
 * What the extractor needs from a database: run one bound query and stream its rows as typed
 * column chunks. SQLite ({@link ../sql/sqlite_source.ts}) and PostgreSQL
 * ({@link ../sql/postgres_source.ts}) implement it; both build chunks with `chunker.ts`.
 * @module
 */
import { SqlError } from "../core/errors.ts";
import type { BuiltChunk, IncrementalOptions, ShapeOptions, SqlColumn } from "./chunker.ts";
import type { Boundary } from "./boundary.ts";
import type { BoundQuery, SqlDialect } from "./params.ts";

/** Options of {@link SqlSource.query}. */
export interface QueryOptions {
  /** Rows per chunk. @default 100_000 */
  chunkRows?: number;
  /** Declared columns, selection (checked before any row is read). */
  shape?: ShapeOptions;
  /** Follow a watermark while reading (see `incremental.ts`). */
  incremental?: IncrementalOptions;
}

/** A running query: its columns (known before any row) and its rows as chunks. */
export interface QueryStream {
  /** Result columns with their declared types. */
  columns: SqlColumn[];
  /**
   * The rows, `chunkRows` at a time, as typed vectors with their rejects. Throws
   * {@link SqlError} when the query fails. Breaking out of the loop stops the query.
   */
  chunks: AsyncIterable<BuiltChunk>;
  /** The watermark boundary once every chunk has been read (incremental queries). */
  boundary(): Boundary | undefined;
  /**
   * Hands a chunk's buffers back once its rows are written, for later chunks to reuse (keeps
   * memory flat without waiting for the garbage collector). The chunk must not be read after.
   */
  release(chunk: BuiltChunk): void;
  /** Stops the query early and frees its resources. Idempotent. */
  cancel(): Promise<void>;
}

/** An open database. */
export interface SqlSource {
  /** Placeholder syntax and SQL quirks of this database. */
  readonly dialect: SqlDialect;
  /** The database for provenance: an absolute file path, or the URL without credentials. */
  readonly description: string;
  /**
   * Prepares and starts `query`. Syntax errors, missing tables and bad parameters reject here,
   * before any row is read.
   */
  query(query: BoundQuery, options?: QueryOptions): Promise<QueryStream>;
  /** Closes the connection. Idempotent. */
  close(): Promise<void>;
}

/** Quotes an identifier for SQL text (`"Order Details"`), doubling embedded quotes. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Refuses a result with two columns of one name: a Parquet file cannot hold both. */
export function checkUniqueColumns(columns: readonly { name: string }[]): void {
  const seen = new Set<string>();
  for (const { name } of columns) {
    if (seen.has(name)) {
      throw new SqlError(
        `the query returns two columns named "${name}"; give one of them another name ` +
          `(SELECT a.${name}, b.${name} AS ${name}_2 ...)`,
      );
    }
    seen.add(name);
  }
}
