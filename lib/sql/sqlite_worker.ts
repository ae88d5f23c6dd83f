/**
 * The SQLite reader thread: opens the database, prepares the query (replying its columns),
 * runs it into its temporary table, and — once asked to read — posts the result page by page
 * as JSON columns (UTF-8 bytes, moved, not copied), at most `readAhead` pages ahead of the
 * consumer so memory stays bounded. Between pages, and once every page is sent, it compresses Parquet pages with zstd
 * for the consumer, whose thread is the busy one. It loads only `sqlite_read.ts` (no chunker,
 * no zod) before the query, so it starts in a few tens of milliseconds; node:zlib comes once
 * the rows are read. See `sqlite_source.ts`.
 * @module
 */
/// <reference lib="deno.worker" />
import type { DatabaseSync } from "node:sqlite";
import { SqlError } from "../core/errors.ts";
import {
  materialize,
  openSqliteDatabase,
  type PreparedSqliteQuery,
  prepareSqliteQuery,
  readPages,
} from "./sqlite_read.ts";
import type { WorkerReply, WorkerRequest } from "./sqlite_source.ts";

type Compress = (data: Uint8Array) => Uint8Array;
let zstd: Promise<Compress> | undefined;
/**
 * zstd from node:zlib, loaded once the rows are being read: loading it takes about 0.1 s,
 * which at start-up would delay the query by as much; between pages it costs nothing.
 */
const loadZstd = (): Promise<Compress> =>
  zstd ??= import("node:zlib").then((zlib) =>
    (zlib.default as unknown as { zstdCompressSync: Compress }).zstdCompressSync
  );

let credits = 0;
let wakeOnCredit: (() => void) | undefined;
let db: DatabaseSync | undefined;
let prepared: PreparedSqliteQuery | undefined;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === "credit") {
    credits += 1;
    wakeOnCredit?.();
  } else if (request.type === "compress") {
    loadZstd().then((compress) => {
      const frame = compress(request.page);
      // Only a buffer of its own can be transferred (a Buffer may share a pool).
      const page = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength
        ? new Uint8Array(frame.buffer)
        : Uint8Array.from(frame);
      reply({ type: "compressed", id: request.id, page }, [page.buffer as ArrayBuffer]);
    }).catch(fail);
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
    loadZstd().catch(fail);
    read(db, prepared, request.pageRows).catch(fail);
  }
};

const tick = new MessageChannel();

/**
 * Resolves on the next turn of the event loop, after the messages already queued: a message
 * to itself, because `setTimeout(0)` waits about 2 ms in Deno (a quarter of a second over the
 * pages of a million rows).
 */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    tick.port1.onmessage = () => resolve();
    tick.port2.postMessage(0);
  });
}

function fail(error: unknown): void {
  reply({ type: "error", message: (error as Error).message, sql: error instanceof SqlError });
  db?.close();
  db = undefined;
  prepared = undefined;
}

function reply(message: WorkerReply, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
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
    // A JSON page's column buffers move to the consumer (each BLOB has a buffer of its own).
    reply(
      { type: "page", page },
      page.kind === "json" ? page.columns.map((bytes) => bytes.buffer as ArrayBuffer) : [],
    );
    // Let queued compressions run between pages: the consumer waits for them.
    await nextTask();
  }
  reply({ type: "done" });
  db.close();
  tick.port1.close();
}
