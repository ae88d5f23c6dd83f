/**
 * The config's types, written out: `…Config` is a section as parsed (defaults filled, scalars
 * normalized to text where the engine wants text), `…ConfigInput` is the same section as a user
 * writes it in YAML or passes to `defineConfig`. The zod schemas in `schema.ts` parse one into the
 * other and are checked against these types at compile time; what each field means is documented
 * on both.
 * @module
 */
import type { ColumnDecl } from "../sinks/column_types.ts";
import type { ColumnDeclInput } from "../sinks/column_schema.ts";
import type {
  AuthConfig,
  AuthConfigInput,
  RateLimitConfig,
  RateLimitConfigInput,
  RetryConfig,
  RetryConfigInput,
} from "../http/schema.ts";
import type { PaginationConfig, PaginationConfigInput } from "../paginate/schema.ts";
import type { DefaultsOptional } from "../core/schema_type.ts";
import type { OutputConfig, OutputConfigInput, WriteModeName } from "../sinks/schema.ts";
import type { StateConfig, StateConfigInput } from "../state/schema.ts";

export type { OutputConfig, OutputConfigInput, StateConfig, StateConfigInput, WriteModeName };

/** A scalar as YAML gives it; the config keeps it as text. */
export type ScalarInput = string | number | boolean;

/** Parsed `incremental:` — the watermark of an asset (`>=` + dedupe by key). */
export interface IncrementalConfig {
  /** Record field the watermark is read from (`OrderDate`, `modified_gmt`, `id`). */
  cursor_field: string;
  /** Query parameter the watermark is sent in (`OrderDate__gte`, `modified_after`). */
  param?: string;
  /** Starting value when there is no state yet. */
  initial?: string;
  /** Re-read this window before the watermark (`30s`, `15m`, `6h`, `2d`, `1w`, or ids). */
  lookback?: string;
  /** `timestamp` normalizes to UTC ISO-8601; `id` compares as integers. @default "timestamp" */
  kind: "timestamp" | "id";
  /** How a timestamp watermark is written into `param`. @default "auto" */
  param_format: "auto" | "iso" | "date" | "datetime" | "epoch" | "epoch_ms";
}

/** `incremental:` as written. */
export interface IncrementalConfigInput
  extends
    DefaultsOptional<Omit<IncrementalConfig, "initial" | "lookback">, "kind" | "param_format"> {
  /** Starting value when there is no state yet. */
  initial?: string | number;
  /** Re-read this window before the watermark. */
  lookback?: string | number;
}

/** Parsed `partition:` — one asset split into key ranges (or known pages) fetched concurrently. */
export interface PartitionConfig {
  /** The numeric key to split on (`OrderID`), or `page` for page-number pagination. */
  by: string;
  /** Number of parts. */
  parts: number;
  /** Query parameter of the inclusive lower bound. @default "<by>__gte" */
  lower_param?: string;
  /** Query parameter of the exclusive upper bound. @default "<by>__lt" */
  upper_param?: string;
  /** Known smallest key, as text (skips the probe request). */
  min?: string;
  /** Known largest key, as text (skips the probe request). */
  max?: string;
  /** Query parameter sorting ascending, for the smallest-key probe. @default "_sort" */
  sort_param?: string;
  /** Query parameter sorting descending, for the largest-key probe. @default "_sort_desc" */
  sort_desc_param?: string;
  /** Query parameter of the page size, set to 1 for the probes. @default "_size" */
  size_param?: string;
}

/** `partition:` as written (`min`/`max` may be numbers). */
export interface PartitionConfigInput extends Omit<PartitionConfig, "min" | "max"> {
  /** Known smallest key. */
  min?: string | number;
  /** Known largest key. */
  max?: string | number;
}

/** Parsed `transform:` — records shaped before they are written. */
export interface TransformConfig {
  /** Write record fields as columns (`true`) or one JSON payload column. @default true */
  flatten: boolean;
  /** Constant or templated fields added to every record. */
  add_fields?: Record<string, string>;
  /** Fields that identify a record for idempotent writes. */
  key_fields?: string[];
}

/** `transform:` as written. */
export type TransformConfigInput = DefaultsOptional<TransformConfig, "flatten">;

/** Parsed `change_detection:` — how a scheduled run finds out cheaply that nothing changed. */
export interface ChangeDetectionConfig {
  /** `latest`, `etag` or `off`. @default "latest" with params, else "etag" */
  mode?: "latest" | "etag" | "off";
  /** Query parameters of the `latest` request, over the asset's. */
  params?: Record<string, string>;
}

/** `change_detection:` as written. */
export interface ChangeDetectionConfigInput extends Omit<ChangeDetectionConfig, "params"> {
  /** Query parameters of the `latest` request. */
  params?: Record<string, ScalarInput>;
}

/** A parsed asset: an endpoint walked page by page into one dataset. */
export interface AssetConfig {
  /** Dataset name (folder names under raw/ and parquet/, state key). */
  name: string;
  /** Endpoint path below `base_url`, or a full URL. */
  path: string;
  /** HTTP method. @default "GET" */
  method: "GET" | "POST";
  /** Query parameters (values may hold `{watermark}`-style placeholders). @default {} */
  params: Record<string, string>;
  /** Extra request headers (treated as secrets). */
  headers?: Record<string, string>;
  /** JSON body for POST requests. */
  body?: Record<string, unknown>;
  /** How to walk the pages. @default { type: "none" } */
  pagination: PaginationConfig;
  /** Where the records are in the body (`rows`, `data`, `""` for a bare array). */
  data_path: string;
  /** A response without `data_path` holds no records. @default true with timelines, else false */
  data_optional?: boolean;
  /** Columns that identify a record (dedupe at the watermark boundary, merge). */
  primary_key?: string[];
  /** Incremental loading from a watermark. */
  incremental?: IncrementalConfig;
  /** Concurrent key-range (or page) partitions of this asset. */
  partition?: PartitionConfig;
  /** Name of a registered data contract. */
  contract?: string;
  /** Output format, layout and write mode. @default { format: "parquet" } */
  output: OutputConfig;
  /** Rows buffered per worker before a part is written. @default 10000 */
  batch_size: number;
  /** Safety stop: more pages than this is an error, not a loop. @default 10000 */
  max_pages: number;
  /** Fraction of records a contract may reject before the asset fails. @default 0.01 */
  max_reject_ratio: number;
  /** Fewer rejected records than this never fail the asset. @default 10 */
  min_rejects_to_fail: number;
  /** The asset whose records drive this one (`params` use `{record.Field}`). */
  for_each?: string;
  /** Parent keys sent per request (comma-joined) with `for_each`. @default 1 */
  for_each_batch?: number;
  /** Record shaping: flatten, added fields, key fields. */
  transform?: TransformConfig;
  /** Cron schedule of this asset (overrides the config's). */
  schedule?: string;
  /** How a scheduled run decides nothing changed. */
  change_detection?: ChangeDetectionConfig;
}

/** An asset as written. */
export interface AssetConfigInput extends
  DefaultsOptional<
    Omit<
      AssetConfig,
      | "params"
      | "headers"
      | "pagination"
      | "primary_key"
      | "incremental"
      | "partition"
      | "output"
      | "transform"
      | "change_detection"
    >,
    "method" | "batch_size" | "max_pages" | "max_reject_ratio" | "min_rejects_to_fail"
  > {
  /** Query parameters. @default {} */
  params?: Record<string, ScalarInput>;
  /** Extra request headers. */
  headers?: Record<string, ScalarInput>;
  /** How to walk the pages. @default { type: "none" } */
  pagination?: PaginationConfigInput;
  /** Columns that identify a record: one name or a list. */
  primary_key?: string | string[];
  /** Incremental loading from a watermark. */
  incremental?: IncrementalConfigInput;
  /** Concurrent key-range (or page) partitions. */
  partition?: PartitionConfigInput;
  /** Output format, layout and write mode. */
  output?: OutputConfigInput;
  /** Record shaping. */
  transform?: TransformConfigInput;
  /** How a scheduled run decides nothing changed. */
  change_detection?: ChangeDetectionConfigInput;
}

/** A parsed SQL extraction step (`extract:`). */
export interface ExtractStepConfig {
  /** Dataset name. */
  name: string;
  /** SQLite file path or `postgres://` URL (password from the environment). */
  db: string;
  /** The SQL text (named or positional placeholders, bound, never interpolated). */
  query?: string;
  /** A file holding the SQL. */
  query_file?: string;
  /** Bound parameter values by name or by position (`"1"`), as text. */
  params?: Record<string, string>;
  /** Declared columns by result column name. */
  columns?: Record<string, ColumnDecl>;
  /** Result columns to keep, in this order. @default every column */
  select?: string[];
  /** Share of rows that may be rejected. @default 0.01 */
  max_reject_ratio?: number;
  /** Fewer rejected rows than this never fail the step. @default 10 */
  min_rejects_to_fail?: number;
  /** Rows per chunk. @default 100000 */
  chunk_rows: number;
  /** Column whose watermark makes re-runs incremental. */
  incremental_column?: string;
  /** Key columns (dedupe at the watermark boundary). */
  primary_key?: string[];
  /** Output format and layout. */
  output?: OutputConfig;
}

/** An `extract:` step as written. */
export interface ExtractStepConfigInput
  extends DefaultsOptional<Omit<ExtractStepConfig, "params" | "columns" | "output">, "chunk_rows"> {
  /** Parameter values by name, by position (`"1": …`), or a list for positional placeholders. */
  params?: Record<string, ScalarInput> | ScalarInput[];
  /** Declared columns: a type name or `{ type, format?, nullable?, rename? }`. */
  columns?: Record<string, ColumnDeclInput>;
  /** Output format and layout. */
  output?: OutputConfigInput;
}

/** A parsed derived dataset (`derive:`), built from harvested ones (joins). */
export interface DeriveStepConfig {
  /** Dataset name. */
  name: string;
  /** Input datasets (asset names). */
  from: string[];
  /** Join keys. */
  on?: string[];
  /** Join kind. @default "inner" */
  how: "inner" | "left";
  /** New columns: name → expression. */
  columns?: Record<string, string>;
  /** Output format and layout. */
  output?: OutputConfig;
}

/** A `derive:` step as written. */
export interface DeriveStepConfigInput
  extends DefaultsOptional<Omit<DeriveStepConfig, "output">, "how"> {
  /** Output format and layout. */
  output?: OutputConfigInput;
}

/** The parsed config: defaults applied, every field checked. */
export interface Config {
  /** Config (job) name. */
  name: string;
  /** Origin (and optional path prefix) of every asset's path. */
  base_url?: string;
  /** How requests authenticate. @default { type: "none" } */
  auth: AuthConfig;
  /** Client-side rate limit. */
  rate_limit: RateLimitConfig;
  /** Retry policy and run-wide retry budget. */
  retry: RetryConfig;
  /** Concurrent workers shared by all assets and partitions. @default 4 */
  workers: number;
  /** Output folder (the CLI's `--out` wins). */
  out?: string;
  /** Where state lives. */
  state?: StateConfig;
  /** Cron schedule for `tidemark schedule`. */
  schedule?: string;
  /** REST assets. @default [] */
  assets: AssetConfig[];
  /** SQL extraction steps. */
  extract?: ExtractStepConfig[];
  /** Derived datasets. */
  derive?: DeriveStepConfig[];
}

/** The config as written (before defaults): what `defineConfig` takes. */
export interface ConfigInput {
  /** Config (job) name. */
  name: string;
  /** Origin (and optional path prefix) of every asset's path. */
  base_url?: string;
  /** How requests authenticate. @default { type: "none" } */
  auth?: AuthConfigInput;
  /** Client-side rate limit. */
  rate_limit?: RateLimitConfigInput;
  /** Retry policy and run-wide retry budget. */
  retry?: RetryConfigInput;
  /** Concurrent workers shared by all assets and partitions. @default 4 */
  workers?: number;
  /** Output folder (the CLI's `--out` wins). */
  out?: string;
  /** Where state lives. */
  state?: StateConfigInput;
  /** Cron schedule for `tidemark schedule`. */
  schedule?: string;
  /** REST assets. @default [] */
  assets?: AssetConfigInput[];
  /** SQL extraction steps. */
  extract?: ExtractStepConfigInput[];
  /** Derived datasets. */
  derive?: DeriveStepConfigInput[];
}
