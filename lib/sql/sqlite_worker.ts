/**
 * The SQLite reader thread: opens the database, prepares the query, runs it into its temporary
 * table and posts its rows as typed column chunks to the main thread (typed arrays
 * transferred, not copied), at most `readAhead` chunks ahead of the consumer so memory stays
 * bounded. See `sqlite_source.ts`.
 * @module
 */
/// <reference lib="deno.worker" />
import { SqlError } from "../core/errors.ts";
import {
  chunkBuffers,
  openSqliteDatabase,
  prepareSqliteQuery,
  sqliteReader,
  type WorkerReply,
  type WorkerRequest,
} from "./sqlite_source.ts";

let credits = 0;
let wakeOnCredit: (() => void) | undefined;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === "credit") {
    credits += 1;
    wakeOnCredit?.();
    return;
  }
  credits = request.readAhead;
  run(request).catch((error) => {
    reply({ type: "error", message: (error as Error).message, sql: error instanceof SqlError });
  });
};

function reply(message: WorkerReply, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

async function run(request: Extract<WorkerRequest, { type: "start" }>): Promise<void> {
  const db = openSqliteDatabase(request.path);
  try {
    const prepared = prepareSqliteQuery(db, request.query);
    const reader = sqliteReader(db, prepared, request.options);
    reply({ type: "columns", columns: prepared.columns });
    for (const event of reader.events()) {
      if (event.type === "done") {
        reply(event);
        break;
      }
      while (credits === 0) {
        await new Promise<void>((resolve) => wakeOnCredit = resolve);
        wakeOnCredit = undefined;
      }
      credits -= 1;
      reply(event, chunkBuffers(event.chunk));
    }
  } finally {
    db.close();
  }
}
