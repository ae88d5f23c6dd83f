/**
 * The SQLite reader thread: opens the database, prepares the query, and posts its rows as
 * column chunks to the main thread (typed arrays transferred, not copied), at most `readAhead`
 * chunks ahead of the consumer so memory stays bounded. See `sqlite_source.ts`.
 * @module
 */
/// <reference lib="deno.worker" />
import { SqlError } from "../core/errors.ts";
import type { ColumnChunk } from "./chunker.ts";
import {
  openSqliteDatabase,
  prepareSqliteQuery,
  readSqliteChunks,
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
    reply({ type: "columns", columns: prepared.columns });
    const sizes = {
      chunkRows: request.chunkRows,
      batchRows: request.batchRows,
      encodeText: request.encodeText,
    };
    for (const chunk of readSqliteChunks(db, prepared, sizes)) {
      while (credits === 0) {
        await new Promise<void>((resolve) => wakeOnCredit = resolve);
        wakeOnCredit = undefined;
      }
      credits -= 1;
      reply({ type: "chunk", chunk }, buffersOf(chunk));
    }
    reply({ type: "done" });
  } finally {
    db.close();
  }
}

function buffersOf(chunk: ColumnChunk): Transferable[] {
  const out = new Set<ArrayBuffer>();
  for (const column of chunk.columns) {
    if ("encoded" in column && column.encoded) out.add(column.encoded.codes.buffer as ArrayBuffer);
    if (column.values instanceof Array) continue;
    out.add(column.values.buffer as ArrayBuffer);
    if (column.valid) out.add(column.valid.buffer as ArrayBuffer);
  }
  return [...out];
}
