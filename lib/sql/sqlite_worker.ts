/**
 * The SQLite reader thread: opens the database, prepares the query (replying its columns), and
 * runs it at once, posting the result page by page as the query yields it (`sqlite_stream.ts`)
 * — columns as doubles, joined text or JSON bytes, their buffers moved, not copied. It blocks
 * on the shared `control` counter when it is `readAhead` pages ahead of the consumer, so memory
 * stays bounded whatever the result's size. It loads only `sqlite_read.ts` and
 * `sqlite_stream.ts` (no chunker, no zod), so it starts in a few tens of milliseconds. See
 * `sqlite_source.ts`.
 * @module
 */
/// <reference lib="deno.worker" />
import type { DatabaseSync } from "node:sqlite";
import { SqlError } from "../core/errors.ts";
import { openSqliteDatabase, prepareSqliteQuery, type SqliteTextColumn } from "./sqlite_read.ts";
import { streamPages, takeCredit } from "./sqlite_stream.ts";
import type { WorkerReply, WorkerRequest } from "./sqlite_source.ts";

let db: DatabaseSync | undefined;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === "start") {
    try {
      db = openSqliteDatabase(request.path);
      const prepared = prepareSqliteQuery(db, request.query);
      reply({ type: "columns", columns: prepared.columns });
      const control = request.control;
      // Runs the whole query now, in this one task: no message is handled until it ends.
      streamPages(db, prepared, request.pageRows, (page) => {
        takeCredit(control);
        // A JSON page's column buffers move to the consumer (each has a buffer of its own).
        reply(
          { type: "page", page },
          page.kind === "json" ? page.columns.flatMap(columnBuffers) : [],
        );
      });
      reply({ type: "done" });
      db.close();
      db = undefined;
    } catch (error) {
      fail(error);
    }
  }
};

/** The buffers of a JSON page's column, each its own. */
function columnBuffers(column: Uint8Array | Float64Array | SqliteTextColumn): ArrayBuffer[] {
  if (column instanceof Uint8Array || column instanceof Float64Array) {
    return [column.buffer as ArrayBuffer];
  }
  return [column.text.buffer as ArrayBuffer, column.lengths.buffer as ArrayBuffer];
}

function fail(error: unknown): void {
  reply({ type: "error", message: (error as Error).message, sql: error instanceof SqlError });
  db?.close();
  db = undefined;
}

function reply(message: WorkerReply, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}
