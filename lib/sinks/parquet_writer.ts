/**
 * The Parquet part writer a sink gets, one file per batch per partition, from one of three
 * writers:
 * - Column vectors (the SQL extractor's typed arrays), zstd or uncompressed, when FFI is
 *   permitted: the TypeScript encoder (`parquet_encode.ts`), on the caller's thread with its
 *   pages compressed there or by the `compressor` given (the SQLite reader thread). No frame,
 *   no Arrow copy, no polars: that is most of the extractor's speed.
 * - Boxed typed columns (the harvest's), and vectors in Snappy (no Snappy in the runtime), when
 *   FFI is permitted: the polars engine (`polars_writer.ts`, nodejs-polars through Arrow, on the
 *   caller's thread or the shared Parquet thread).
 * - Everything when FFI is not permitted (Deno Deploy, `--deny-ffi`): the pure-JS engine
 *   (`parquet_wasm.ts`, hyparquet-writer, Snappy), whose reader (hyparquet, for merges on that
 *   path) reads Snappy but not zstd — so vectors go there too, not to the zstd encoder.
 *
 * The polars engine is loaded by a dynamic import on its first write, so a process without FFI
 * never imports it. All three write the same schema and rows for the same column types (see
 * `parquet_wasm.ts` for the one difference in decimals' physical type).
 * @module
 */
import { createHash } from "node:crypto";
import { writePiecesAtomic } from "../core/atomic_file.ts";
import { parquetEngine } from "./ffi.ts";
import { encodeParquetPieces, encodeParquetPiecesWith } from "./parquet_encode.ts";
import { createJsParquetWriter } from "./parquet_wasm.ts";
import type { PartTarget, PartWriter, WrittenPart } from "./part_writer.ts";
import type { TypedColumn } from "./column_types.ts";
import type { VectorColumn } from "./vectors.ts";

/** Options of {@link createParquetPartWriter} (the polars engine takes all but `compressor`). */
export interface ParquetWriterOptions {
  /**
   * Compression codec of every column chunk (the pure-JS engine always writes Snappy).
   * @default "zstd"
   */
  compression?: "zstd" | "snappy" | "none";
  /** Rows per row group. @default 100_000 */
  rowGroupRows?: number;
  /**
   * Where the polars engine builds, compresses and writes frames: on the caller's thread
   * (`main`), or on the shared Parquet thread (`worker`, see `parquet_thread.ts`), leaving the
   * caller only the cast and the Arrow encoding. @default "main"
   */
  thread?: "main" | "worker";
  /** Compresses a zstd page of a vector batch elsewhere (see `SinkOptions.compressor`). */
  compressor?: (page: Uint8Array) => Promise<Uint8Array>;
}

/**
 * A Parquet part writer choosing its engine at first use (see the module doc).
 *
 * @example
 * ```ts
 * import { createParquetPartWriter } from "./parquet_writer.ts";
 * const writer = createParquetPartWriter({ compression: "zstd" });
 * writer.extension; // "parquet"
 * ```
 */
export function createParquetPartWriter(options: ParquetWriterOptions = {}): PartWriter {
  const compression = options.compression ?? "zstd";
  const rowGroupRows = options.rowGroupRows ?? 100_000;
  let chosen: Promise<PartWriter> | undefined;
  const engine = () =>
    chosen ??= parquetEngine() === "polars"
      ? import("./polars_writer.ts").then((m) => m.createPolarsParquetWriter(options))
      : Promise.resolve(createJsParquetWriter({ rowGroupRows }));
  return {
    extension: "parquet",
    streamed: false,
    async write(target: PartTarget, columns: TypedColumn[], length: number): Promise<WrittenPart> {
      return await (await engine()).write(target, columns, length);
    },
    async writeVectors(
      target: PartTarget,
      columns: VectorColumn[],
      length: number,
    ): Promise<WrittenPart> {
      if (compression === "snappy" || parquetEngine() === "js") {
        // Both engines write vectors; the check keeps PartWriter's method optional.
        const writer = await engine();
        if (!writer.writeVectors) throw new Error("the Parquet engine does not take vectors");
        return await writer.writeVectors(target, columns, length);
      }
      const pieces = compression === "zstd" && options.compressor
        ? await encodeParquetPiecesWith(columns, length, { rowGroupRows }, options.compressor)
        : encodeParquetPieces(columns, length, { compression, rowGroupRows });
      const { bytes, sha256 } = await writePartAtomic(target.path, pieces);
      return { ...target, rows: length, bytes, sha256, complete: true };
    },
    close: async () => chosen ? await (await chosen).close() : [],
    abort: async () => chosen ? await (await chosen).abort() : undefined,
  };
}

/** Writes a part from its pieces atomically (see `writePiecesAtomic`), hashing as it writes. */
async function writePartAtomic(
  path: string,
  pieces: readonly Uint8Array[],
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  await writePiecesAtomic(path, pieces, {
    onPiece: (piece) => {
      hash.update(piece);
      bytes += piece.length;
    },
  });
  return { bytes, sha256: hash.digest("hex") };
}
