/**
 * The harvest config (docs/design.md §7) as zod schemas. These field names are the contract: extend,
 * don't rename. Every object is strict, so a typo (`paginaton:`) is an error, not a silently
 * ignored key. Types come from here (`z.infer`); `retry`, `rate_limit` and `auth` come from the
 * HTTP layer's schemas.
 *
 * Optional sections (`schedule`, `state`, `for_each`, `extract`, `derive`, `transform`) are
 * declared here too, each owned by the part that runs it.
 * @module
 */
import { z } from "zod";
import { columnDeclSchema } from "../sinks/column_schema.ts";
import { authSchema, rateLimitSchema, retrySchema } from "../http/schema.ts";
import { selectorSchema } from "../core/select.ts";
import { paginationSchema } from "../paginate/schema.ts";
import { checkTemplate } from "./templating.ts";
import { outputSchema } from "../sinks/schema.ts";
import { stateConfigSchema } from "../state/schema.ts";
import type { Assert, SchemaIs } from "../core/schema_type.ts";
import type {
  AssetConfig,
  AssetConfigInput,
  ChangeDetectionConfig,
  ChangeDetectionConfigInput,
  Config,
  ConfigInput,
  DeriveStepConfig,
  DeriveStepConfigInput,
  ExtractStepConfig,
  ExtractStepConfigInput,
  IncrementalConfig,
  IncrementalConfigInput,
  PartitionConfig,
  PartitionConfigInput,
  TransformConfig,
  TransformConfigInput,
  WriteModeName,
} from "./types.ts";
export type * from "./types.ts";

/** A string that may hold `{watermark}`-style placeholders (checked at load time). */
export const templateSchema = z.string().superRefine((text, ctx) => {
  const problem = checkTemplate(text);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** A query parameter value: scalars are accepted and kept as text. */
const paramValueSchema = z.union([z.string(), z.number(), z.boolean()])
  .transform((v) => String(v))
  .pipe(templateSchema);

/** Query parameters of a request (values may be templates). */
export const paramsSchema = z.record(z.string().min(1), paramValueSchema);

/** A query parameter's name. */
const paramName = z.string().min(1);

/** A lookback window: `30s`, `15m`, `6h`, `2d`, `1w`, or a number (ids: subtract it). */
export const lookbackSchema = z.union([z.string(), z.number()])
  .transform((v) => String(v))
  .pipe(
    z.string().regex(/^(\d+(\.\d+)?(ms|s|m|h|d|w)|\d+)$/, {
      message: 'expected a duration like "30m", "6h", "2d", or a number of ids',
    }),
  );

/** `incremental:` — the watermark of an asset (`>=` + dedupe by key). */
export const incrementalSchema = z.strictObject({
  /** Record field the watermark is read from (`OrderDate`, `modified_gmt`, `id`). */
  cursor_field: selectorSchema,
  /** Query parameter the watermark is sent in (`OrderDate__gte`, `modified_after`); timelines use `since_id` from `pagination`. */
  param: paramName.optional(),
  /** Starting value when there is no state yet. */
  initial: z.union([z.string(), z.number()]).transform((v) => String(v)).optional(),
  /** Re-read this window before the watermark for late data. */
  lookback: lookbackSchema.optional(),
  /** `timestamp` normalizes to UTC ISO-8601; `id` compares as integers (BigInt). @default "timestamp" */
  kind: z.enum(["timestamp", "id"]).default("timestamp"),
  /**
   * How a timestamp watermark is written into `param`: `auto` sends it in the form the source
   * itself wrote the cursor value (sources often compare the parameter as text); or a fixed
   * `iso`, `date`, `datetime` (`YYYY-MM-DD HH:MM:SS.sss`), `epoch`, `epoch_ms`. @default "auto"
   */
  param_format: z.enum(["auto", "iso", "date", "datetime", "epoch", "epoch_ms"]).default("auto"),
});

const integerText = z.union([z.int(), z.string().regex(/^-?\d+$/)]).transform((v) => String(v));

/** `partition:` — split one asset into key ranges (or known page numbers) fetched concurrently. */
export const partitionSchema = z.strictObject({
  /** The numeric key to split on (`OrderID`), or `page` for page-number pagination. */
  by: z.string().min(1),
  /** Number of parts. */
  parts: z.int().min(1).max(256),
  /** Query parameter of the inclusive lower bound. @default "<by>__gte" */
  lower_param: paramName.optional(),
  /** Query parameter of the exclusive upper bound. @default "<by>__lt" */
  upper_param: paramName.optional(),
  /** Known smallest key (skips the probe request). */
  min: integerText.optional(),
  /** Known largest key (skips the probe request). */
  max: integerText.optional(),
  /** Query parameter sorting ascending, for the smallest-key probe. @default "_sort" */
  sort_param: paramName.optional(),
  /** Query parameter sorting descending, for the largest-key probe. @default "_sort_desc" */
  sort_desc_param: paramName.optional(),
  /** Query parameter of the page size, set to 1 for the probes. @default "_size" */
  size_param: paramName.optional(),
});

/** Whether a response without the asset's `data_path` means "no records" (see `data_optional`). */
export function dataOptional(
  asset: { data_optional?: boolean; pagination: { type: string } },
): boolean {
  // The timelines API leaves `data` out of a window with no post.
  return asset.data_optional ?? asset.pagination.type === "timeline";
}

/** An asset's write mode and why it is that one. */
export interface ResolvedWriteMode {
  /** The mode. */
  mode: WriteModeName;
  /** Why: `output.mode` as written, or the default rule that chose it. */
  reason: string;
}

/**
 * The write mode of an asset: `output.mode` when written, else the one that keeps a plain re-run
 * correct. Without `incremental` every run reads the whole source, so it replaces the last
 * snapshot (appending would hold every row twice); with `incremental` and `primary_key` a run
 * reads what changed, merged by key (an updated row replaces its old version); with
 * `incremental` and no key there is nothing to merge on, so new rows are appended and the rows
 * re-read at the watermark are dropped by the boundary check; the raw-load format keeps every
 * load by design (`load_date=` partitions), so it appends.
 *
 * @example
 * ```ts
 * import { writeModeOf } from "./schema.ts";
 * writeModeOf({ output: { format: "parquet" } }).mode; // "replace"
 * ```
 */
export function writeModeOf(asset: {
  output: { mode?: WriteModeName; format: string };
  incremental?: unknown;
  primary_key?: readonly string[];
}): ResolvedWriteMode {
  const written = asset.output.mode;
  if (written !== undefined) return { mode: written, reason: "output.mode" };
  if (asset.output.format === "raw") {
    return { mode: "append", reason: "default: the raw-load format keeps every load" };
  }
  if (asset.incremental === undefined) {
    return { mode: "replace", reason: "default: not incremental, each run is a full snapshot" };
  }
  if (asset.primary_key && asset.output.format === "parquet") {
    return { mode: "merge", reason: "default: incremental with primary_key, merged by key" };
  }
  return {
    mode: "append",
    reason: asset.primary_key
      ? `default: incremental ${asset.output.format} cannot be merged, new rows are appended`
      : "default: incremental without primary_key, new rows are appended",
  };
}

/** `transform:` — shape records before they are written. */
export const transformSchema = z.strictObject({
  /** Write record fields as columns (`true`) or one JSON payload column (`false`). @default true */
  flatten: z.boolean().default(true),
  /** Constant or templated fields added to every record. */
  add_fields: z.record(z.string().min(1), templateSchema).optional(),
  /** Fields that identify a record for idempotent writes. */
  key_fields: z.array(z.string().min(1)).min(1).optional(),
});

/** `change_detection:` — how a scheduled run finds out, with one cheap request, that nothing changed. */
export const changeDetectionSchema = z.strictObject({
  /** `latest`: one request for the newest record (`params`), compared with the watermark; `etag`: the last run's pages again with `If-None-Match`; `off`. @default "latest" with params, else "etag" */
  mode: z.enum(["latest", "etag", "off"]).optional(),
  /** Query parameters of the `latest` request, over the asset's (`{ orderby: modified, order: desc, per_page: 1 }`, `{ _sort_desc: OrderDate, _size: 1 }`); ask for a few records to notice a new one tied with the newest at the watermark. */
  params: paramsSchema.optional(),
}).superRefine((value, ctx) => {
  if (value.mode === "latest" && value.params === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["params"],
      message:
        "mode latest needs the params of a request for the newest record, e.g. { orderby: modified, order: desc, per_page: 1 }",
    });
  }
});

const assetName = z.string().min(1).max(200).regex(/^[A-Za-z0-9_][A-Za-z0-9_ .-]*$/, {
  message:
    "asset names are used as folder names: letters, digits, spaces, '_', '.', '-', not starting with '.' or a space",
});

/** A path below `base_url` (`/northwind/Orders.json`) or a full http(s) URL. */
const requestPath = z.string().regex(/^(\/|https?:\/\/)/, {
  message: 'expected a path starting with "/" or a full http(s) URL',
});

/** One asset: an endpoint walked page by page into one dataset. */
export const assetSchema = z.strictObject({
  /** Dataset name (folder names under raw/ and parquet/, state key). */
  name: assetName,
  /** Endpoint path below `base_url`, or a full URL. */
  path: requestPath,
  /** HTTP method. @default "GET" */
  method: z.enum(["GET", "POST"]).default("GET"),
  /** Query parameters (values may hold `{watermark}`-style placeholders). @default {} */
  params: paramsSchema.default({}),
  /** Extra request headers (values may come from `${ENV}`; treated as secrets). */
  headers: z.record(
    z.string().min(1),
    z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)),
  ).optional(),
  /** JSON body for POST requests. */
  body: z.record(z.string(), z.unknown()).optional(),
  /** How to walk the pages. @default { type: "none" } */
  pagination: paginationSchema.prefault({ type: "none" }),
  /** Where the records are in the body (`rows`, `data`, `""` for a bare array). */
  data_path: selectorSchema,
  /**
   * A response without `data_path` holds no records, rather than being an error (APIs that leave
   * the list out when it is empty). @default true with timeline pagination, else false
   */
  data_optional: z.boolean().optional(),
  /** Columns that identify a record (dedupe at the watermark boundary, merge). */
  primary_key: z.preprocess(
    (v) => (typeof v === "string" ? [v] : v),
    z.array(z.string().min(1)).min(1),
  ).optional(),
  /** Incremental loading from a watermark. */
  incremental: incrementalSchema.optional(),
  /** Concurrent key-range (or page) partitions of this asset. */
  partition: partitionSchema.optional(),
  /** Name of a data contract in lib/contracts. */
  contract: z.string().min(1).optional(),
  /** Output format, layout and write mode. @default { format: "parquet" } */
  output: outputSchema.prefault({}),
  /** Rows buffered per worker before a part is written (bounds memory). @default 10000 */
  batch_size: z.int().min(1).max(10_000_000).default(10_000),
  /** Safety stop: more pages than this is an error, not a loop. @default 10000 */
  max_pages: z.int().min(1).default(10_000),
  /** Fraction of records a contract may reject before the asset fails. @default 0.01 */
  max_reject_ratio: z.number().min(0).max(1).default(0.01),
  /**
   * Fewer rejected records than this never fail the asset, whatever their share (one malformed
   * row in a small incremental page is not a broken contract). @default 10
   */
  min_rejects_to_fail: z.int().min(1).default(10),
  /** The asset whose records drive this one (`params` use `{record.Field}`). */
  for_each: z.string().min(1).optional(),
  /** Parent keys sent per request (comma-joined) with `for_each`. @default 1 */
  for_each_batch: z.int().min(1).optional(),
  /** Record shaping: flatten, added fields, key fields. */
  transform: transformSchema.optional(),
  /** Cron schedule of this asset (overrides the config's). */
  schedule: z.string().min(1).optional(),
  /** How a scheduled run decides nothing changed (lib/harvest/change_detection.ts). */
  change_detection: changeDetectionSchema.optional(),
});

/** A SQL extraction step (`extract:`), run by lib/sql. */
export const extractStepSchema = z.strictObject({
  /** Dataset name. */
  name: assetName,
  /** SQLite file path or `postgres://` URL (password from the environment). */
  db: z.string().min(1),
  /**
   * The SQL text: named `:param` / `$param` placeholders, or positional ones (SQLite `?`,
   * `?2`; PostgreSQL `$1`) — bound, never interpolated.
   */
  query: z.string().min(1).optional(),
  /** A file holding the SQL. */
  query_file: z.string().min(1).optional(),
  /**
   * Bound parameter values (templated): by name, by position (`"1": …`), or a list for
   * positional placeholders (the first value binds `?1` / `$1`).
   */
  params: z.union([
    paramsSchema,
    z.array(paramValueSchema).transform((values) =>
      Object.fromEntries(values.map((v, i) => [String(i + 1), v]))
    ),
  ]).optional(),
  /**
   * Declared columns by result column name: `type` (string, int, float, decimal(p,s), bool,
   * date, timestamp, timestamp_tz, json), `format` of text dates, `nullable`, `rename`; a bare
   * type name is short for `{ type: … }`.
   */
  columns: z.record(z.string().min(1), columnDeclSchema).optional(),
  /** Result columns to keep, in this order. @default every column */
  select: z.array(z.string().min(1)).min(1).optional(),
  /** Share of rows that may be rejected (values not fitting their types). @default 0.01 */
  max_reject_ratio: z.number().min(0).max(1).optional(),
  /** Fewer rejected rows than this never fail the step, whatever their share. @default 10 */
  min_rejects_to_fail: z.int().min(1).optional(),
  /** Rows per chunk. @default 100000 */
  chunk_rows: z.int().min(1).default(100_000),
  /** Column whose watermark makes re-runs incremental. */
  incremental_column: z.string().min(1).optional(),
  /** Key columns (dedupe at the watermark boundary). */
  primary_key: z.array(z.string().min(1)).min(1).optional(),
  /** Output format and layout. */
  output: outputSchema.optional(),
}).superRefine((step, ctx) => {
  if ((step.query === undefined) === (step.query_file === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["query"],
      message: "give exactly one of query or query_file",
    });
  }
});

/** A derived dataset built from harvested ones (joins), run by the outputs layer. */
export const deriveStepSchema = z.strictObject({
  /** Dataset name. */
  name: assetName,
  /** Input datasets (asset names). */
  from: z.array(z.string().min(1)).min(1),
  /** Join keys. */
  on: z.array(z.string().min(1)).min(1).optional(),
  /** Join kind. @default "inner" */
  how: z.enum(["inner", "left"]).default("inner"),
  /** New columns: name → expression. */
  columns: z.record(z.string().min(1), z.string().min(1)).optional(),
  /** Output format and layout. */
  output: outputSchema.optional(),
});

/** The whole config file. */
export const configSchema = z.strictObject({
  /** Config (job) name. */
  name: z.string().min(1).regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, {
    message: "use letters, digits, '_', '.', '-' (it names files)",
  }),
  /** Origin (and optional path prefix) of every asset's path. */
  base_url: z.url({ protocol: /^https?$/ }).optional(),
  /** How requests authenticate. @default { type: "none" } */
  auth: authSchema.prefault({ type: "none" }),
  /** Client-side rate limit. */
  rate_limit: rateLimitSchema.prefault({}),
  /** Retry policy and run-wide retry budget. */
  retry: retrySchema.prefault({}),
  /** Concurrent workers shared by all assets and partitions. @default 4 */
  workers: z.int().min(1).max(64).default(4),
  /** Output folder (the CLI's `--out` wins). */
  out: z.string().min(1).optional(),
  /** Where state lives. */
  state: stateConfigSchema.optional(),
  /** Cron schedule for `tidemark schedule`. */
  schedule: z.string().min(1).optional(),
  /** REST assets. @default [] */
  assets: z.array(assetSchema).default([]),
  /** SQL extraction steps. */
  extract: z.array(extractStepSchema).optional(),
  /** Derived datasets. */
  derive: z.array(deriveStepSchema).optional(),
}).superRefine((config, ctx) => {
  if (config.assets.length === 0 && !config.extract?.length) {
    ctx.addIssue({
      code: "custom",
      path: ["assets"],
      message: "a config needs at least one asset (or an extract: step)",
    });
  }
  if (config.assets.length > 0 && config.base_url === undefined) {
    const relative = config.assets.findIndex((a) => a.path.startsWith("/"));
    if (relative >= 0) {
      ctx.addIssue({
        code: "custom",
        path: ["base_url"],
        message:
          `required because assets[${relative}].path is relative; e.g. base_url: http://127.0.0.1:9000`,
      });
    }
  }
  const seen = new Map<string, number>();
  const names = [...config.assets.map((a) => a.name), ...(config.extract ?? []).map((e) => e.name)];
  config.assets.forEach((asset, i) => {
    const lower = asset.name.toLowerCase();
    const first = seen.get(lower);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["assets", i, "name"],
        message:
          `duplicate asset name "${asset.name}" (also assets[${first}]); names must be unique, ignoring case`,
      });
    } else seen.set(lower, i);
    checkAsset(asset, i, names, ctx);
  });
});

// The public types are written out in types.ts; these fail to compile when a schema drifts.
type _Incremental = Assert<
  SchemaIs<typeof incrementalSchema, IncrementalConfig, IncrementalConfigInput>
>;
type _Partition = Assert<SchemaIs<typeof partitionSchema, PartitionConfig, PartitionConfigInput>>;
type _Transform = Assert<SchemaIs<typeof transformSchema, TransformConfig, TransformConfigInput>>;
type _ChangeDetection = Assert<
  SchemaIs<typeof changeDetectionSchema, ChangeDetectionConfig, ChangeDetectionConfigInput>
>;
type _Asset = Assert<SchemaIs<typeof assetSchema, AssetConfig, AssetConfigInput>>;
type _Extract = Assert<
  SchemaIs<typeof extractStepSchema, ExtractStepConfig, ExtractStepConfigInput>
>;
type _Derive = Assert<SchemaIs<typeof deriveStepSchema, DeriveStepConfig, DeriveStepConfigInput>>;
type _Config = Assert<SchemaIs<typeof configSchema, Config, ConfigInput>>;

function checkAsset(
  asset: AssetConfig,
  i: number,
  names: string[],
  ctx: z.RefinementCtx,
): void {
  const at = (...path: (string | number)[]) => ["assets", i, ...path];
  if (asset.output.mode === "merge" && !asset.primary_key) {
    ctx.addIssue({
      code: "custom",
      path: at("primary_key"),
      message: "required by output.mode merge; list the columns that identify a record",
    });
  }
  const inc = asset.incremental;
  if (inc?.kind === "id" && inc.lookback !== undefined && !/^\d+$/.test(inc.lookback)) {
    ctx.addIssue({
      code: "custom",
      path: at("incremental", "lookback"),
      message: `an id watermark takes a number of ids as lookback, got "${inc.lookback}"`,
    });
  }
  if (inc?.kind === "timestamp" && inc.lookback !== undefined && /^\d+$/.test(inc.lookback)) {
    ctx.addIssue({
      code: "custom",
      path: at("incremental", "lookback"),
      message:
        `a timestamp watermark takes a duration with a unit ("${inc.lookback}s", "${inc.lookback}m"), got "${inc.lookback}"`,
    });
  }
  if (inc?.kind === "id" && inc.initial !== undefined && !/^-?\d+$/.test(inc.initial)) {
    ctx.addIssue({
      code: "custom",
      path: at("incremental", "initial"),
      message: `an id watermark starts from a whole number, got "${inc.initial}"`,
    });
  }
  if (asset.partition && asset.pagination.type === "none") {
    ctx.addIssue({
      code: "custom",
      path: at("partition"),
      message: "partitions split a paginated walk; set pagination or remove partition",
    });
  }
  if (asset.for_each !== undefined) {
    if (asset.for_each === asset.name || !names.includes(asset.for_each)) {
      ctx.addIssue({
        code: "custom",
        path: at("for_each"),
        message: `expected the name of another asset of this config (${
          names.filter((n) => n !== asset.name).join(", ") || "there is none"
        }); got "${asset.for_each}"`,
      });
    }
  } else if (asset.for_each_batch !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: at("for_each_batch"),
      message: "only used with for_each; remove it or set for_each",
    });
  }
  if (asset.for_each === undefined) {
    for (const [key, value] of Object.entries(asset.params)) {
      if (value.includes("{record.")) {
        ctx.addIssue({
          code: "custom",
          path: at("params", key),
          message: `{record.…} placeholders need for_each: <asset>; got "${value}"`,
        });
      }
    }
  }
}
