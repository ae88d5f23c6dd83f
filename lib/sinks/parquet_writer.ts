/**
 * The Parquet part writer: one file per batch per partition. Column vectors (the SQL
 * extractor's typed arrays) are encoded here, without polars (`parquet_encode.ts`), unless
 * Snappy is asked for. Boxed columns (the harvest's) go through polars: with
 * `thread: "worker"` the caller encodes each batch to Arrow and the shared Parquet thread
 * (`parquet_thread.ts`) builds the frame, compresses, writes and hashes it, so polars is never
 * loaded on the caller's thread (this module does not import it: about 80 ms less start-up,
 * and no Rust memory behind the caller's heap); with `thread: "main"` it loads `parquet.ts`
 * (polars) when the writer is made.
 * @module
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { temporaryPathFor } from "../core/atomic_file.ts";
import { encodeArrowStream, encodeArrowVectors } from "./arrow_ipc.ts";
import { encodeParquetPieces, encodeParquetPiecesWith } from "./parquet_encode.ts";
import type { TypedColumn } from "./column_types.ts";
import { estimateFrameBytes, noteReleasedFrame } from "./memory_pressure.ts";
import { parquetThread } from "./parquet_thread.ts";
import type { PartTarget, PartWriter, WrittenPart } from "./part_writer.ts";
import type { VectorColumn } from "./vectors.ts";

/** Options of {@link createParquetWriter}. */
export interface ParquetWriterOptions {
  /** Compression codec of every column chunk. @default "zstd" */
  compression?: "zstd" | "snappy" | "none";
  /** Rows per row group. @default 100_000 */
  rowGroupRows?: number;
  /**
   * Where frames are built, compressed and written: on the caller's thread (`main`), or on the
   * shared Parquet thread (`worker`, see `parquet_thread.ts`), leaving the caller only the cast
   * and the Arrow encoding. @default "main"
   */
  thread?: "main" | "worker";
  /** Compresses a page of a vector batch elsewhere (see `SinkOptions.compressor`). */
  compressor?: (page: Uint8Array) => Promise<Uint8Array>;
}

/**
 * A part writer that writes one Parquet file per batch per partition.
 *
 * @example
 * ```ts
 * import { createParquetWriter } from "./parquet_writer.ts";
 * const writer = createParquetWriter({ compression: "snappy", rowGroupRows: 50_000 });
 * writer.extension; // "parquet"
 * ```
 */
export function createParquetWriter(options: ParquetWriterOptions = {}): PartWriter {
  const compression = options.compression ?? "zstd";
  const rowGroupRows = options.rowGroupRows ?? 100_000;
  let polars: Promise<typeof import("./parquet.ts")> | undefined;
  /** polars on this thread, loaded once (as early as the writer knows it will need it). */
  const loadPolars = () => {
    polars ??= import("./parquet.ts");
    return polars;
  };
  /** Writes one Arrow IPC stream as the target's file. */
  const writeArrow = async (
    target: PartTarget,
    arrow: Uint8Array,
    length: number,
    estimate: () => number,
  ): Promise<WrittenPart> => {
    if (options.thread === "worker") {
      const { bytes, sha256 } = await parquetThread().write({
        path: target.path,
        tmp: temporaryPathFor(target.path),
        arrow,
        compression,
        rowGroupRows,
      });
      return { ...target, rows: length, bytes, sha256, complete: true };
    }
    const { frameFromArrow, writeParquetFile } = await loadPolars();
    const { bytes, sha256 } = await writeParquetFile(frameFromArrow(arrow), target.path, {
      compression,
      rowGroupRows,
    });
    noteReleasedFrame(estimate());
    return { ...target, rows: length, bytes, sha256, complete: true };
  };
  return {
    extension: "parquet",
    streamed: false,
    write(target: PartTarget, columns: TypedColumn[], length: number): Promise<WrittenPart> {
      if (options.thread !== "worker") loadPolars();
      return writeArrow(
        target,
        encodeArrowStream(columns, length),
        length,
        () => estimateFrameBytes(columns),
      );
    },
    async writeVectors(target: PartTarget, columns: VectorColumn[], length: number) {
      if (compression === "snappy") {
        // No Snappy in the runtime: polars compresses those.
        const arrow = encodeArrowVectors(columns, length);
        return await writeArrow(target, arrow, length, () => arrow.byteLength * 1.2);
      }
      const pieces = compression === "zstd" && options.compressor
        ? await encodeParquetPiecesWith(columns, length, { rowGroupRows }, options.compressor)
        : encodeParquetPieces(columns, length, { compression, rowGroupRows });
      const { bytes, sha256 } = await writePiecesAtomic(target.path, pieces);
      return { ...target, rows: length, bytes, sha256, complete: true };
    },
    close: () => Promise.resolve([]),
    abort: () => Promise.resolve(),
  };
}

/**
 * Writes a file from its pieces to a temporary name, fsyncs and renames it into place, hashing
 * as it writes; a failure removes the temporary file.
 */
async function writePiecesAtomic(
  path: string,
  pieces: readonly Uint8Array[],
): Promise<{ bytes: number; sha256: string }> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = temporaryPathFor(path);
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      for (const piece of pieces) {
        let written = 0;
        while (written < piece.length) written += await file.write(piece.subarray(written));
        hash.update(piece);
        bytes += piece.length;
      }
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
  return { bytes, sha256: hash.digest("hex") };
}
