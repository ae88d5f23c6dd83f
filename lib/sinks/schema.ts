/**
 * The `output:` options of an asset or extraction (format, layout, write mode, compression,
 * destination): owned here, beside the sinks that read them; the config composes them.
 * @module
 */
import { z } from "zod";
import type { Assert, DefaultsOptional, SchemaIs } from "../core/schema_type.ts";

/** How a run's rows join an asset's earlier output. */
export type WriteModeName = "append" | "replace" | "merge";

/** Parsed `output:` — where and how rows land. */
export interface OutputConfig {
  /** File format; `raw` is the raw-load format. @default "parquet" */
  format: "parquet" | "csv" | "jsonl" | "raw";
  /** Hive partition columns or derived values (`year(OrderDate)`, `load_date`). */
  partition_by?: string[];
  /** `append`, `replace` or `merge`; when not set it follows from the asset (`writeModeOf`). */
  mode?: WriteModeName;
  /** Parquet compression. @default "zstd" */
  compression: "zstd" | "snappy" | "none";
  /** Parquet row group size. @default 100000 */
  row_group_rows: number;
  /** Object storage (`s3://bucket/prefix`) or a folder that receives finished files. */
  destination?: string;
}

/** `output:` as written. */
export type OutputConfigInput = DefaultsOptional<
  OutputConfig,
  "format" | "compression" | "row_group_rows"
>;

/** `output:` — where and how rows land. */
export const outputSchema = z.strictObject({
  /** File format; `raw` is the raw-load format. @default "parquet" */
  format: z.enum(["parquet", "csv", "jsonl", "raw"]).default("parquet"),
  /** Hive partition columns or derived values (`year(OrderDate)`, `load_date`). */
  partition_by: z.array(z.string().min(1)).optional(),
  /**
   * `append` parts per run, `replace` the asset's folder, or `merge` on `primary_key`. When not
   * set it follows from the asset (see {@link writeModeOf}): a full snapshot replaces, an
   * incremental asset with a key merges, so a plain re-run never holds a row twice.
   */
  mode: z.enum(["append", "replace", "merge"]).optional(),
  /** Parquet compression. @default "zstd" */
  compression: z.enum(["zstd", "snappy", "none"]).default("zstd"),
  /** Parquet row group size. @default 100000 */
  row_group_rows: z.int().min(1).default(100_000),
  /** Object storage (`s3://bucket/prefix`) or a folder that receives finished files. */
  destination: z.string().min(1).optional(),
});

type _Output = Assert<SchemaIs<typeof outputSchema, OutputConfig, OutputConfigInput>>;
