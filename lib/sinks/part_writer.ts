/**
 * The seam between the sink (batches, schema, partitions) and one file format: a part writer
 * receives typed columns for one partition and writes or appends them to that partition's file.
 * @module
 */
import type { TypedColumn } from "./column_types.ts";
import type { VectorColumn } from "./vectors.ts";

/** A file a sink wrote (or, for a streamed CSV/JSONL file, a batch appended to it). */
export interface WrittenPart {
  /** Final path: `<dir>/<k>=<v>/part-<runId>-<key>.<ext>` (absolute when the sink's dir is). */
  path: string;
  /** Path relative to the sink's dir, with `/` separators. */
  relativePath: string;
  /** Partition values by key, unencoded (`__null__` for null); empty when unpartitioned. */
  partition: Record<string, string>;
  /** Rows in the part (for a streamed chunk: rows this batch appended). */
  rows: number;
  /** Bytes of the part (for a streamed chunk: bytes this batch appended). */
  bytes: number;
  /** SHA-256 hex of the part's bytes; `""` for a streamed chunk (the closed file has it). */
  sha256: string;
  /**
   * True when the file is in place at `path`. Parquet and raw parts always are; a streamed
   * CSV/JSONL file is written under a temporary name and renamed into place by `close()`, so
   * the parts `writeRows` returns for it are chunks (`complete: false`) and `sink.parts` lists
   * the whole files once closed.
   */
  complete: boolean;
}

/** Where a part goes. */
export interface PartTarget {
  /** Final path of the file. */
  path: string;
  /** Path relative to the sink's dir. */
  relativePath: string;
  /** Partition values by key. */
  partition: Record<string, string>;
}

/** Writes typed columns of one partition to a file format. */
export interface PartWriter {
  /** File extension without the dot. */
  readonly extension: string;
  /** True when parts are appended across batches (one file per partition per sink). */
  readonly streamed: boolean;
  /** Writes (or appends) `length` rows to the target; resolves to what was written. */
  write(target: PartTarget, columns: TypedColumn[], length: number): Promise<WrittenPart>;
  /**
   * Writes `length` rows of column vectors to the target, when the format has a path that
   * skips boxing them into {@link TypedColumn}s (Parquet); the sink boxes them for the others.
   */
  writeVectors?(target: PartTarget, columns: VectorColumn[], length: number): Promise<WrittenPart>;
  /** Puts streamed files in place and resolves to them (whole files); `[]` for per-batch parts. */
  close(): Promise<WrittenPart[]>;
  /** Removes temporary files of streamed parts not yet in place. */
  abort(): Promise<void>;
}
