/**
 * Tidemark — resilient, provenanced harvesting of REST APIs and SQL databases.
 *
 * This module re-exports the public API.
 * @module
 */
export * from "./lib/core/errors.ts";
export * from "./lib/run/out_lock.ts";
export { VERSION } from "./lib/core/version.ts";
export { createApp, type MockOptions } from "./mock_api/app.ts";
export { type MockServer, type MockServerOptions, startMockServer } from "./mock_api/server.ts";
export * from "./lib/core/stamps.ts";
export * from "./lib/provenance/snapshot.ts";
export * from "./lib/provenance/manifest.ts";
export * from "./lib/provenance/verify.ts";
export * from "./lib/report/run_report.ts";
export { renderHtmlReport } from "./lib/report/html.ts";
export { renderTextReport } from "./lib/report/text.ts";
export * from "./lib/report/logger.ts";
export * from "./lib/report/progress.ts";
export { RotatingFile, type RotatingFileOptions } from "./lib/report/rotating_file.ts";
export * from "./lib/config/schema.ts";
export * from "./lib/config/load.ts";
export * from "./lib/config/flags.ts";
export * from "./lib/config/templating.ts";
export * from "./lib/core/select.ts";
export * from "./lib/paginate/mod.ts";
export * from "./lib/state/mod.ts";
export * from "./lib/http/mod.ts";
export * from "./lib/sinks/mod.ts";
export {
  assetLayout,
  beginWrite,
  type BeginWriteOptions,
  commitReplace,
  type CommitReplaceOptions,
  mergeByKey,
  type MergeOptions,
  type MergeResult,
  recoverAsset,
  type SwitchStep,
  type WriteMode,
} from "./lib/sinks/write_mode.ts";
export * from "./lib/contracts/mod.ts";
export { inferContractModule, profileRows, renderContract } from "./lib/contracts/infer.ts";
export {
  bindQuery,
  type BindQueryOptions,
  type BoundQuery,
  findPlaceholders,
  type ParamValue,
  parseParamFlags,
  singleStatement,
  type SqlDialect,
} from "./lib/sql/params.ts";
export {
  type ExtractFormat,
  type ExtractOptions,
  type ExtractResult,
  openSqlSource,
  runExtract,
} from "./lib/sql/extract.ts";
export { type ExtractStepOptions, runExtractStep } from "./lib/sql/extract_step.ts";
export type { QueryOptions, QueryStream, SqlSource } from "./lib/sql/source.ts";
export { openSqliteSource, type SqliteSourceOptions } from "./lib/sql/sqlite_source.ts";
export {
  type BuiltChunk,
  ChunkBuilder,
  type ChunkBuilderOptions,
  type IncrementalOptions,
  type ShapeOptions,
  type SqlColumn,
  type TypeHint,
} from "./lib/sql/chunker.ts";
export {
  type ColumnDecl,
  declaredColumnType,
  declaredConverter,
  toDecimalText,
} from "./lib/sinks/column_types.ts";
export { columnDeclSchema } from "./lib/sinks/column_schema.ts";
export { compileDateFormat, parseIsoDateTime } from "./lib/sinks/date_text.ts";
export * from "./lib/object_store/mod.ts";
export * from "./lib/harvest/mod.ts";
export { type CronSchedule, cronSchedule, type CronScheduleOptions } from "./lib/schedule/cron.ts";
export {
  type FireContext,
  type JobRunner,
  type JobTally,
  runSchedule,
  type RunScheduleOptions,
  type SchedulableJob,
  type ScheduleSummary,
} from "./lib/schedule/schedule.ts";
export {
  jobEntrySchema,
  type JobsFile,
  jobsFileSchema,
  loadScheduledJobs,
  type LoadScheduledJobsOptions,
  type ScheduledJob,
} from "./lib/schedule/jobs.ts";
export {
  type DenoCronEntry,
  type DenoCronFunction,
  denoCronName,
  denoCronSchedule,
  registerDenoCron,
  type RegisterDenoCronOptions,
} from "./lib/schedule/deploy.ts";
export { deriveDataset, type DeriveOptions, type DeriveResult } from "./lib/transform/derive.ts";
export {
  checkDeriveSteps,
  runDeriveStep,
  type RunDeriveStepOptions,
} from "./lib/transform/derive_step.ts";
export {
  CONFIG_STAMP_DIR,
  configStampPath,
  type DeriveOutcome,
  openRunOutputs,
  RunOutputs,
  type RunOutputsOptions,
  writeConfigStamp,
} from "./lib/harvest/run_outputs.ts";
export {
  discardedSnapshots,
  type ManifestEntry,
  supersededLines,
} from "./lib/provenance/live_outputs.ts";
export {
  type ReplayedAsset,
  type ReplayOptions,
  replayOut,
  type ReplayResult,
} from "./lib/replay/replay.ts";
export * from "./lib/replay/compare_outs.ts";
export { runJob, type RunJobOptions } from "./lib/schedule/scheduled_run.ts";
export {
  type ChangeCheck,
  type ChangeMode,
  changeMode,
  detectChange,
  EtagRecorder,
  readWalkRecord,
  RecordingHttpClient,
  WALK_DATA_TYPE,
  type WalkRecord,
  walkRecordSchema,
} from "./lib/harvest/change_detection.ts";
export { type ForEachPlan, forEachPlan, recordParams } from "./lib/harvest/for_each.ts";
export {
  shapeRows,
  type ShapeRowsOptions,
  type TransformConfig,
} from "./lib/harvest/record_shape.ts";
export { newestLoadDate, type OutputStart } from "./lib/harvest/output_start.ts";
export { registerDeployJobs, type RegisterDeployJobsOptions } from "./lib/schedule/deploy_jobs.ts";
