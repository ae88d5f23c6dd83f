/**
 * What a merge needs from a Parquet engine: read a part (or some of its columns), put frames
 * together, pick rows, write a part. `merge_polars.ts` (FFI) and `merge_js.ts` (no native code)
 * implement it; the decision of which rows survive and where they go is theirs in common
 * (`merge_rows.ts`, `merge_parts.ts`).
 * @module
 */
import type { CellValue } from "./column_types.ts";
import type { PartitionSpec } from "./partition.ts";

/** Rows held by an engine. */
export interface MergeFrame {
  /** Rows. */
  readonly length: number;
  /** Column names, in order. */
  readonly names: readonly string[];
}

/** How a merged part is written. */
export interface PartWriteOptions {
  /** Parquet compression (the JS engine always writes snappy). */
  compression?: "zstd" | "snappy" | "none";
  /** Rows per row group. */
  rowGroupRows?: number;
}

/** The engine operations a merge uses. */
export interface MergeEngine<F extends MergeFrame> {
  /** Reads a Parquet file, or only `columns` of it. */
  read(file: string, columns?: readonly string[]): Promise<F>;
  /** The frames one after the other; a column missing from a frame is null there, types widen. */
  concat(frames: readonly F[]): F;
  /** A column's cells as plain values (decisions compare them). */
  values(frame: F, column: string): CellValue[];
  /** The values the sink partitioned by, for each partition column of `specs`. */
  partitionColumns(frame: F, specs: readonly PartitionSpec[]): Record<string, unknown[]>;
  /** Rows `rows` of the frame, in that order. */
  gather(frame: F, rows: readonly number[]): F;
  /** Writes the frame as one Parquet file at `path` (temporary name, then rename). */
  write(frame: F, path: string, options: PartWriteOptions): Promise<void>;
  /**
   * Told that `frames` are no longer used: an engine whose frames hold memory the JS collector
   * does not count (polars) frees it, so a merge holds one part at a time.
   */
  release?(frames: readonly F[]): void;
}
