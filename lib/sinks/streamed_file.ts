/**
 * Streamed text parts (CSV, JSONL): one file per partition per sink, appended batch by batch
 * under a temporary name and renamed into place on close, so memory holds one batch at a time
 * and readers never see a half-written file.
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { dirname } from "node:path";
import { commitTemporaryFile, temporaryPathFor } from "../core/atomic_file.ts";
import { ContractError } from "../core/errors.ts";
import type { TypedColumn } from "./column_types.ts";
import type { PartTarget, PartWriter, WrittenPart } from "./part_writer.ts";

/** How a text format renders a batch. */
export interface TextFormat {
  /** File extension without the dot. */
  extension: string;
  /** Text written once at the start of each file (e.g. the CSV header); "" for none. */
  header(columns: readonly TypedColumn[]): string;
  /** Text of rows `start` (inclusive) to `end` (exclusive). */
  rows(columns: readonly TypedColumn[], start: number, end: number): string;
  /** True when every file of the format must keep the columns it started with (CSV). */
  fixedColumns: boolean;
}

const SLICE_ROWS = 2048;

interface OpenFile {
  target: PartTarget;
  tmp: string;
  columns: string[];
  rows: number;
  bytes: number;
  hash: Hash;
}

/**
 * A part writer that appends each batch to its partition's file.
 *
 * @example
 * ```ts
 * import { createStreamedWriter } from "./streamed_file.ts";
 * const writer = createStreamedWriter({
 *   extension: "txt",
 *   fixedColumns: false,
 *   header: () => "",
 *   rows: (_columns, start, end) => "row\n".repeat(end - start),
 * });
 * writer.streamed; // true
 * ```
 */
export function createStreamedWriter(format: TextFormat): PartWriter {
  const files = new Map<string, OpenFile>();
  const encoder = new TextEncoder();
  return {
    extension: format.extension,
    streamed: true,
    async write(target, columns, length): Promise<WrittenPart> {
      let file = files.get(target.path);
      let text = "";
      if (!file) {
        await Deno.mkdir(dirname(target.path), { recursive: true });
        file = {
          target,
          tmp: temporaryPathFor(target.path),
          columns: columns.map((c) => c.name),
          rows: 0,
          bytes: 0,
          hash: createHash("sha256"),
        };
        files.set(target.path, file);
        text = format.header(columns);
      } else if (format.fixedColumns) {
        const added = columns.map((c) => c.name).filter((n) => !file!.columns.includes(n));
        if (added.length > 0) {
          throw new ContractError(
            `column${added.length > 1 ? "s" : ""} ${added.map((n) => `"${n}"`).join(", ")} first ` +
              `appeared after the header of ${target.relativePath} was written; declare every ` +
              `column up front (sink columns or the asset's contract)`,
          );
        }
      }
      // Encoded in slices of rows: short-lived strings die young instead of a whole batch of
      // lines surviving (and being copied by) every scavenge — several times faster.
      const chunks: Uint8Array[] = [];
      let bytes = 0;
      for (let start = 0; start < length; start += SLICE_ROWS) {
        text += format.rows(columns, start, Math.min(length, start + SLICE_ROWS));
        const data = encoder.encode(text);
        text = "";
        chunks.push(data);
        file.hash.update(data);
        bytes += data.length;
      }
      const handle = await Deno.open(file.tmp, { append: true, create: true });
      try {
        for (const data of chunks) {
          let written = 0;
          while (written < data.length) written += await handle.write(data.subarray(written));
        }
      } finally {
        handle.close();
      }
      file.rows += length;
      file.bytes += bytes;
      // No forced collection here (see memory_pressure.ts): the text of a batch dies young.
      return {
        ...target,
        rows: length,
        bytes,
        // Hashing every chunk as well as the file would double the cost; the file's hash is
        // known once it is closed (sink.parts).
        sha256: "",
        complete: false,
      };
    },
    async close(): Promise<WrittenPart[]> {
      const done: WrittenPart[] = [];
      for (const file of files.values()) {
        await commitTemporaryFile(file.tmp, file.target.path);
        done.push({
          ...file.target,
          rows: file.rows,
          bytes: file.bytes,
          sha256: file.hash.digest("hex"),
          complete: true,
        });
      }
      files.clear();
      return done;
    },
    async abort(): Promise<void> {
      for (const file of files.values()) await Deno.remove(file.tmp).catch(() => {});
      files.clear();
    },
  };
}
