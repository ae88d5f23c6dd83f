/**
 * The SQLite reader thread: opens the database, prepares the query (replying its columns),
 * runs it into its temporary table, and — once asked to read — posts the result page by page
 * as JSON column texts, at most `readAhead` pages ahead of the consumer so memory stays
 * bounded. It loads only `sqlite_read.ts` (no chunker, no zod), so it starts in a few tens of
 * milliseconds. See `sqlite_source.ts`.
 * @module
 */
/// <reference lib="deno.worker" />
import type { DatabaseSync } from "node:sqlite";
import { SqlError } from "../errors.ts";
import {
  materialize,
  openSqliteDatabase,
  type PreparedSqliteQuery,
  prepareSqliteQuery,
  readPages,
} from "./sqlite_read.ts";
import type { WorkerReply, WorkerRequest } from "./sqlite_source.ts";

let credits = 0;
let wakeOnCredit: (() => void) | undefined;
let db: DatabaseSync | undefined;
let prepared: PreparedSqliteQuery | undefined;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === "credit") {
    credits += 1;
    wakeOnCredit?.();
  } else if (request.type === "start") {
    try {
      db = openSqliteDatabase(request.path);
      prepared = prepareSqliteQuery(db, request.query);
      reply({ type: "columns", columns: prepared.columns });
      // Runs now, while the consumer gets ready; `read` waits in the queue until it is done.
      materialize(db, prepared);
    } catch (error) {
      fail(error);
    }
  } else if (db && prepared) {
    credits = request.readAhead;
    read(db, prepared, request.pageRows).catch(fail);
  }
};

function fail(error: unknown): void {
  reply({ type: "error", message: (error as Error).message, sql: error instanceof SqlError });
  db?.close();
  db = undefined;
  prepared = undefined;
}

function reply(message: WorkerReply): void {
  self.postMessage(message);
}

async function read(
  db: DatabaseSync,
  prepared: PreparedSqliteQuery,
  pageRows: number,
): Promise<void> {
  for (const page of readPages(db, prepared, pageRows)) {
    while (credits === 0) {
      await new Promise<void>((resolve) => wakeOnCredit = resolve);
      wakeOnCredit = undefined;
    }
    credits -= 1;
    reply({ type: "page", page });
  }
  reply({ type: "done" });
  db.close();
}
