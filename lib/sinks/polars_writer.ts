/**
 * The polars engine of the Parquet part writer (`parquet_writer.ts` chooses it when FFI is
 * permitted): one file per batch per partition. With `thread: "worker"` the caller
 * encodes each batch to Arrow and the shared Parquet thread (`parquet_thread.ts`) builds the
 * frame, compresses, writes and hashes it; polars is then never loaded on the caller's thread
 * (this module does not import it: about 80 ms less start-up, and no Rust memory behind the
 * caller's heap). With `thread: "main"` it loads `parquet.ts` (polars) on first write.
 * @module
 */
import { temporaryPathFor } from "../core/atomic_file.ts";
import { encodeArrowStream, encodeArrowVectors } from "./arrow_ipc.ts";
import type { TypedColumn } from "./column_types.ts";
import { estimateFrameBytes, noteReleasedFrame } from "./memory_pressure.ts";
import { parquetThread } from "./parquet_thread.ts";
import type { ParquetWriterOptions } from "./parquet_writer.ts";
import type { PartTarget, PartWriter, WrittenPart } from "./part_writer.ts";
import type { VectorColumn } from "./vectors.ts";

/**
 * A part writer that writes one Parquet file per batch per partition through polars (typed
 * columns, or column vectors when they are to be in Snappy, both encoded to Arrow first).
 *
 * @example
 * ```ts
 * import { createPolarsParquetWriter } from "./polars_writer.ts";
 * const writer = createPolarsParquetWriter({ compression: "snappy", rowGroupRows: 50_000 });
 * writer.extension; // "parquet"
 * ```
 */
export function createPolarsParquetWriter(options: ParquetWriterOptions = {}): PartWriter {
  const compression = options.compression ?? "zstd";
  const rowGroupRows = options.rowGroupRows ?? 100_000;
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
    const { frameFromArrow, writeParquetFile } = await import("./parquet.ts");
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
      return writeArrow(
        target,
        encodeArrowStream(columns, length),
        length,
        () => estimateFrameBytes(columns),
      );
    },
    writeVectors(target: PartTarget, columns: VectorColumn[], length: number) {
      const arrow = encodeArrowVectors(columns, length);
      return writeArrow(target, arrow, length, () => arrow.byteLength * 1.2);
    },
    close: () => Promise.resolve([]),
    abort: () => Promise.resolve(),
  };
}
