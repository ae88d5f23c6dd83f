/**
 * The Parquet part writer a sink gets, one file per batch per partition, from one of three
 * writers:
 * - Column vectors (the SQL extractor's typed arrays) and boxed typed columns (the harvest's,
 *   turned into vectors by `fromTypedColumn`), zstd or uncompressed, when FFI is permitted: the
 *   TypeScript encoder (`parquet_encode.ts`), on the caller's thread with its pages compressed
 *   there or by the `compressor` given (the SQLite reader thread). No frame, no Arrow copy, no
 *   polars and no Parquet thread: that is most of the extractor's speed, and for the harvest
 *   the polars addon (~26 MB mapped) and the Parquet thread's isolate (~25 MB) it never loads.
 * - What the encoder cannot do, when FFI is permitted: Snappy (the runtime has no Snappy
 *   compressor), and boxed columns with a cell not of its type's kind: the polars engine
 *   (`polars_writer.ts`, nodejs-polars through Arrow, on the caller's thread or the shared
 *   Parquet thread; `thread` only matters there).
 * - Everything when FFI is not permitted (Deno Deploy, `--deny-ffi`): the pure-JS engine
 *   (`parquet_js.ts`, hyparquet-writer, Snappy), whose reader (hyparquet, for merges on that
 *   path) reads Snappy but not zstd — so vectors go there too, not to the zstd encoder.
 *
 * The polars engine is loaded by a dynamic import on its first write, so a process without FFI
 * never imports it. All three write the same schema and rows for the same column types (see
 * `parquet_js.ts` for the one difference in decimals' physical type).
 * @module
 */
import { createHash } from "node:crypto";
import { writePiecesAtomic } from "../core/atomic_file.ts";
import { parquetEngine } from "./ffi.ts";
import {
  encodeParquetPieces,
  encodeParquetPiecesPausing,
  encodeParquetPiecesWith,
} from "./parquet_encode.ts";
import type { PartTarget, PartWriter, WrittenPart } from "./part_writer.ts";
import type { TypedColumn } from "./column_types.ts";
import { fromTypedColumn, type VectorColumn } from "./vectors.ts";

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
   * Only for what the polars engine writes (Snappy, or cells the encoder does not take).
   * Where the polars engine builds, compresses and writes frames: on the caller's thread
   * (`main`), or on the shared Parquet thread (`worker`, see `parquet_thread.ts`), leaving the
   * caller only the cast and the Arrow encoding. @default "main"
   */
  thread?: "main" | "worker";
  /** Compresses a zstd page of a vector batch elsewhere (see `SinkOptions.compressor`). */
  compressor?: (page: Uint8Array) => Promise<Uint8Array>;
  /** Awaited between the column chunks the TypeScript encoder writes (see `SinkOptions.pause`). */
  pause?: () => Promise<void>;
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
      : import("./parquet_js.ts").then((m) => m.createJsParquetWriter({ rowGroupRows }));
  return {
    extension: "parquet",
    streamed: false,
    async write(target: PartTarget, columns: TypedColumn[], length: number): Promise<WrittenPart> {
      const vectors = encoderTakes(compression) ? asVectors(columns, length) : undefined;
      if (vectors) return await encodeVectors(target, vectors, length);
      return await (await engine()).write(target, columns, length);
    },
    async writeVectors(
      target: PartTarget,
      columns: VectorColumn[],
      length: number,
    ): Promise<WrittenPart> {
      if (!encoderTakes(compression)) {
        // Both engines write vectors; the check keeps PartWriter's method optional.
        const writer = await engine();
        if (!writer.writeVectors) throw new Error("the Parquet engine does not take vectors");
        return await writer.writeVectors(target, columns, length);
      }
      return await encodeVectors(target, columns, length);
    },
    close: async () => chosen ? await (await chosen).close() : [],
    abort: async () => chosen ? await (await chosen).abort() : undefined,
  };
  /** Writes a part with the TypeScript encoder, compressing where `options.compressor` says. */
  async function encodeVectors(
    target: PartTarget,
    columns: VectorColumn[],
    length: number,
  ): Promise<WrittenPart> {
    // Only reached for zstd or none (see encoderTakes).
    const codec = compression === "none" ? "none" : "zstd";
    const pieces = codec === "zstd" && options.compressor
      ? await encodeParquetPiecesWith(columns, length, { rowGroupRows }, options.compressor)
      : options.pause
      ? await encodeParquetPiecesPausing(
        columns,
        length,
        { compression: codec, rowGroupRows },
        options.pause,
      )
      : encodeParquetPieces(columns, length, { compression: codec, rowGroupRows });
    const { bytes, sha256 } = await writePartAtomic(target.path, pieces);
    return { ...target, rows: length, bytes, sha256, complete: true };
  }
}

/**
 * True when the TypeScript encoder writes this process's parts: FFI permitted (without it the
 * pure-JS engine writes everything, since its reader, used by merges there, has no zstd) and a
 * codec the encoder has (zstd or none; the runtime has no Snappy, so Snappy stays with polars).
 */
function encoderTakes(compression: "zstd" | "snappy" | "none"): boolean {
  return compression !== "snappy" && parquetEngine() === "polars";
}

/**
 * Boxed columns as vectors for the encoder, or `undefined` when one has a cell the encoder
 * cannot represent (see `fromTypedColumn`): such a batch keeps the polars engine.
 */
function asVectors(columns: TypedColumn[], length: number): VectorColumn[] | undefined {
  const out: VectorColumn[] = [];
  for (const column of columns) {
    const vector = fromTypedColumn(column, length);
    if (vector === undefined) return undefined;
    out.push(vector);
  }
  return out;
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
