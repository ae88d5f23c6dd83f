/**
 * Tidemark — harvest REST APIs and SQL databases resiliently and with provenance: Parquet you can
 * trust, a raw copy of every response, and a manifest that proves where every row came from.
 * Re-running a job is always safe: it resumes, never duplicates, never loses data.
 *
 * This is the library's public API: run a harvest, an extraction, a replay or a verification;
 * load or define a config; add a pagination or auth kind; serve the mock API. Narrower parts
 * have their own entry points: `./http`, `./paginate`, `./sinks`, `./mock`.
 *
 * @example Harvest a config into a folder, then verify it
 * ```ts
 * import { harvest, loadConfig, verify } from "./mod.ts";
 * const result = await harvest(await loadConfig("jobs/northwind.yaml"), { out: "out/northwind" });
 * console.log(result.status, result.assets.map((a) => `${a.asset}: ${a.rows} rows`));
 * console.log((await verify("out/northwind")).ok);
 * ```
 * @module
 */
export { harvest, type HarvestOptions, type HarvestResult } from "./lib/harvest/run.ts";
export type { AssetResult } from "./lib/harvest/asset_run.ts";
export {
  type ExtractFormat,
  type ExtractOptions,
  type ExtractResult,
  runExtract as extract,
} from "./lib/sql/extract.ts";
export {
  type ReplayedAsset,
  type ReplayOptions,
  replayOut as replay,
  type ReplayResult,
} from "./lib/replay/replay.ts";
export {
  type VerifyMismatch,
  type VerifyOptions,
  verifyOut as verify,
  type VerifyResult,
} from "./lib/provenance/verify.ts";
export {
  defineConfig,
  type Env,
  loadConfig,
  type LoadConfigOptions,
  type LoadedConfig,
  parseConfig,
  type ParseConfigOptions,
} from "./lib/config/load.ts";
export type * from "./lib/config/types.ts";
export type {
  AuthConfig,
  AuthConfigInput,
  RateLimitConfig,
  RateLimitConfigInput,
  RetryConfig,
  RetryConfigInput,
} from "./lib/http/schema.ts";
export type {
  BodyLinkPaginationConfig,
  CursorPaginationConfig,
  LinkPaginationConfig,
  OffsetPaginationConfig,
  PagePaginationConfig,
  PaginationConfig,
  PaginationConfigInput,
  TimelinePaginationConfig,
} from "./lib/paginate/schema.ts";
export type { DefaultsOptional } from "./lib/core/schema_type.ts";
export type { EnvStamp } from "./lib/core/stamps.ts";
export type {
  AcquireOptions,
  Limiter,
  LimiterFactory,
  RateLimitObservation,
  RateLimitTicket,
} from "./lib/http/rate_limiter.ts";
export type {
  PageCommit,
  PageRow,
  RunFinish,
  RunRow,
  RunStart,
  RunStatus,
  SkipRecord,
  SkipRow,
  StateStore,
  Watermark,
  WatermarkUpdate,
} from "./lib/state/mod.ts";
export type { CustomKindConfig } from "./lib/core/registry.ts";
export type {
  StandardIssue,
  StandardResult,
  StandardSchemaProps,
  StandardSchemaV1,
} from "./lib/core/standard_schema.ts";
export {
  type BaseRequest,
  type PageRequest,
  type PageResponse,
  type Paginator,
  type PaginatorContext,
  type PaginatorKind,
  paginatorKinds,
  registerPaginator,
  type ResumeFrom,
} from "./lib/paginate/mod.ts";
export {
  type AuthContext,
  type AuthKind,
  authKinds,
  type AuthProvider,
  type AuthTarget,
  type RefreshOptions,
  registerAuth,
  type TokenSender,
} from "./lib/http/mod.ts";
export {
  type MockApp,
  type MockOptions,
  type MockServer,
  type MockServerOptions,
  startMockServer,
} from "./mock_api/mod.ts";
export {
  ConfigError,
  ContractError,
  PaginationError,
  PermissionError,
  SqlError,
  StateError,
  StateUnavailableError,
  TidemarkError,
  UsageError,
  VerifyError,
} from "./lib/core/errors.ts";
export { VERSION } from "./lib/core/version.ts";

// The types the options and results above are made of.
export type { Direction } from "./lib/harvest/plan.ts";
export type { DeriveOutcome } from "./lib/harvest/run_outputs.ts";
export type { ParamValue } from "./lib/sql/params.ts";
export type { SinkFormat, SinkOptions } from "./lib/sinks/mod.ts";
/**
 * Column types, including `decimal(p,s)` ({@link DecimalType}), and the column declarations an
 * extraction takes (`ExtractOptions.columns`: a type name or {@link ColumnDeclInput}; parsed
 * into {@link ColumnDecl}).
 */
export type {
  BaseColumnType,
  ColumnDecl,
  ColumnType,
  DecimalType,
} from "./lib/sinks/column_types.ts";
export type { ColumnDeclInput } from "./lib/sinks/column_schema.ts";
export type { WrittenPart } from "./lib/sinks/part_writer.ts";
export type { IdExtent } from "./lib/paginate/paginator.ts";
export type { Clock } from "./lib/core/clock.ts";
export type { FetchFunction } from "./lib/http/fetch_resilient.ts";
export type {
  AttemptKind,
  HttpAttempt,
  HttpRequest,
  HttpResult,
  ParamValue as QueryParamValue,
} from "./lib/http/request.ts";
export type {
  AssetReport,
  FailedPage,
  ReportCounters,
  RequestEntry,
  RunReport,
  StartDecision,
  TimelineTry,
} from "./lib/report/report_model.ts";
export type { WrittenReport } from "./lib/report/report_files.ts";
export type { LogFileOptions, LogLevel, LogOutput } from "./lib/report/logger.ts";
export type { RotatingFileOptions } from "./lib/report/rotating_file.ts";
export type { ProgressOutput } from "./lib/report/progress.ts";
export type { ConfigIssue } from "./lib/core/errors.ts";
export type { AuthMode, AuthOptions } from "./mock_api/middleware/auth.ts";
