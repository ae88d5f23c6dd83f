/**
 * The SQL extractor: one bound query, streamed from SQLite or PostgreSQL in chunks of typed
 * columns, written as (partitioned) Parquet, CSV or JSONL parts under `<out>/<format>/<asset>/`,
 * with one manifest line per part, the run in `<out>/state.sqlite`, and a run report.
 *
 * Types: PostgreSQL's map natively; SQLite's come from declared types, first values and, for
 * text, the one ISO date/timestamp form a column holds across the first chunk. `columns`
 * declares types (with text date formats), nullability and new names; `select` keeps only some
 * columns. Rows whose values do not fit their column's type go to
 * `<out>/rejects/<asset>/<run_id>.jsonl` with the column and the reason; more than
 * `maxRejectRatio` of them (and at least `minRejectsToFail`, default 10) fails the run.
 *
 * Safety:
 * - Everything that can be checked before a row is read is checked before anything is written
 *   (placeholders, the database, the SQL, the incremental, key and partition columns): a bad
 *   query leaves no file behind.
 * - Parts are written to temporary names and renamed. A run that fails part-way removes the
 *   parts it wrote; a run that was killed leaves complete parts only, which the next run of the
 *   asset removes (they belong to a run that never finished) before it starts.
 * - Manifest lines are appended once every part is written, then the watermark advances and the
 *   run is marked succeeded.
 * - Without `--incremental-column`, a second run of an asset that already has parts is refused
 *   unless `replace` is set (it would hold every row twice).
 * @module
 */
import { basename, join, relative } from "node:path";
import zlib from "node:zlib";
import { ConfigError, SqlError, UsageError } from "../core/errors.ts";
import { openSink, type Sink, type SinkOptions, type WrittenPart } from "../sinks/mod.ts";
import type { ColumnDecl } from "../sinks/column_types.ts";
import { type ColumnDeclInput, columnDeclSchema } from "../sinks/column_schema.ts";
import { checkRejectRatio, writeRejects } from "../contracts/rejects.ts";
import { parsePartitionSpecs } from "../sinks/partition.ts";
import { synchronousCompressor } from "../sinks/parquet_encode.ts";
import { beginWrite, commitReplace } from "../sinks/write_mode.ts";
import { openSqliteState, type StateStore } from "../state/mod.ts";
import { resetCommand } from "../state/stored_json.ts";
import { type ManifestRecordInput, ManifestWriter } from "../provenance/manifest.ts";
import { configSha256, envStamp, newRunId, sha256Hex } from "../core/stamps.ts";
import { safePathSegment } from "../provenance/snapshot.ts";
import { type RunReport, type StartDecision } from "../report/report_model.ts";
import { RunReportBuilder } from "../report/run_report.ts";
import { type WrittenReport } from "../report/report_files.ts";
import { planOutput, type ShapeOptions, type SqlColumn } from "./chunker.ts";
import {
  type Boundary,
  readBoundary,
  WATERMARK_PARAM,
  watermarkValue,
  wrapIncremental,
  writeBoundary,
} from "./incremental.ts";
import { bindQuery, type BoundQuery, type ParamValue, type SqlDialect } from "./params.ts";
import type { QueryStream, SqlSource } from "./source.ts";
import { openSqliteSource } from "./sqlite_source.ts";
import { pathExists, readDirIfExists } from "../core/atomic_file.ts";
import { lockOutFolder } from "../run/out_lock.ts";
import { RunRecord } from "../run/run_record.ts";

/** Output formats of an extraction. */
export type ExtractFormat = "parquet" | "csv" | "jsonl";

/** Options of {@link runExtract}. */
export interface ExtractOptions {
  /** A SQLite file path, or a `postgres://` / `postgresql://` URL (password from `PGPASSWORD`). */
  db: string;
  /**
   * The SQL: one SELECT with named `:name` / `$name` placeholders, or positional ones (`?`,
   * `?2` for SQLite, `$1` for PostgreSQL) whose values are named by position (`"1"`, `"2"`).
   */
  query: string;
  /** Values of the placeholders; every placeholder needs one, and every value a placeholder. @default {} */
  params?: Record<string, ParamValue>;
  /**
   * Declared columns by result column name: type (string, int, float, decimal(p,s), bool,
   * date, timestamp, timestamp_tz, json), text date `format`, `nullable`, `rename` — a bare
   * type name is short for `{ type }`. They win over the database's types and over inference.
   * @default {}
   */
  columns?: Record<string, ColumnDeclInput>;
  /** Result columns to keep, in this order. @default every column */
  select?: string[];
  /** Largest share of rows that may be rejected before the run fails. @default 0.01 */
  maxRejectRatio?: number;
  /**
   * Fewer rejected rows than this never fail the run, whatever their share (as a harvest's
   * `min_rejects_to_fail`). @default 10
   */
  minRejectsToFail?: number;
  /** The out folder (manifest, state, reports, `<format>/<asset>/` parts). */
  out: string;
  /** Asset name: the parts' folder and the name in manifest, state and report. @default "extract" */
  asset?: string;
  /** Partition entries: columns, `year(col)`, `month(col)`, `day(col)`. @default [] */
  partitionBy?: string[];
  /** Rows per chunk (and per part of each partition). @default 100_000 */
  chunkRows?: number;
  /** Output format. @default "parquet" */
  format?: ExtractFormat;
  /** Extract only rows with this column `>=` the stored watermark, then advance it. */
  incrementalColumn?: string;
  /** Columns that identify a row, to drop rows re-read at the watermark. @default every column */
  keys?: string[];
  /**
   * How the run's parts join the asset: `append` adds them (a second full extraction without
   * `incrementalColumn` is refused: it would hold every row twice); `replace` swaps the asset's
   * folder for the run's parts atomically at the end (sinks' write modes). @default "append"
   * with `incrementalColumn` (new rows are added), else "replace" (a full extraction is a
   * snapshot, so a plain re-run never holds a row twice)
   */
  mode?: "append" | "replace";
  /** Run id (part names, manifest, state). @default newRunId() */
  runId?: string;
  /** Parquet compression. @default "zstd" */
  compression?: SinkOptions["compression"];
  /** SQLite: read rows in a worker thread, overlapping reading and writing. @default true */
  worker?: boolean;
  /** Write the HTML report next to the JSON one. @default true */
  htmlReport?: boolean;
  /** Called after each chunk is written. */
  onProgress?: (progress: { rows: number; parts: number }) => void;
}

/** What {@link runExtract} did. */
export interface ExtractResult {
  /** The run id. */
  runId: string;
  /** The asset name. */
  asset: string;
  /** Rows written. */
  rows: number;
  /** Rows read again at the watermark and dropped because the previous run wrote them. */
  duplicatesDropped: number;
  /** Rows whose values did not fit their columns' types (in the rejects file). */
  rejected: number;
  /** The run's rejects file, relative to the out folder, when it rejected rows. */
  rejectsPath: string | null;
  /** Parts written, paths relative to the out folder. */
  parts: WrittenPart[];
  /** Bytes written. */
  bytes: number;
  /** Wall-clock seconds. */
  seconds: number;
  /** The database (file path, or URL without credentials). */
  source: string;
  /** sha256 of the query as run (after the incremental wrapper). */
  querySha256: string;
  /** Watermark before and after, when incremental. */
  watermark: { column: string; before: string | null; after: string | null } | null;
  /** Output columns and their types (after select and rename). */
  schema: Record<string, string>;
  /** The run report. */
  report: RunReport;
  /** Where the report was written, relative to the out folder. */
  reportPaths: WrittenReport;
}

const FORMATS: readonly ExtractFormat[] = ["parquet", "csv", "jsonl"];

/**
 * Opens a database by its `--db` value: a `postgres://` URL, or a SQLite file.
 *
 * @example
 * ```ts
 * import { openSqlSource } from "./extract.ts";
 * const source = await openSqlSource("northwind.db");
 * await source.close();
 * ```
 */
export async function openSqlSource(
  db: string,
  options: { worker?: boolean } = {},
): Promise<SqlSource> {
  if (/^postgres(ql)?:\/\//i.test(db)) {
    const { openPostgresSource } = await import("./postgres_source.ts");
    return await openPostgresSource(db);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) {
    throw new UsageError(
      `--db ${db.replace(/\/\/[^@/]*@/, "//***@")} is not supported; give a SQLite file ` +
        "path or a postgres:// URL",
    );
  }
  return await openSqliteSource(db, { worker: options.worker });
}

/**
 * Runs one extraction. Throws {@link SqlError} / {@link UsageError} for bad input (nothing
 * written) and {@link SqlError} when the query fails part-way (the run's parts removed).
 *
 * @example
 * ```ts
 * import { runExtract } from "./extract.ts";
 * const result = await runExtract({
 *   db: "northwind.db",
 *   query: `SELECT o.OrderID, o.OrderDate, d.ProductID, d.Quantity
 *           FROM Orders o JOIN "Order Details" d ON o.OrderID = d.OrderID
 *           WHERE o.OrderDate >= :start`,
 *   params: { start: "1997-01-01" },
 *   out: "out",
 *   asset: "line_items",
 *   partitionBy: ["year(OrderDate)"],
 * });
 * console.log(result.rows, result.parts.length);
 * ```
 */
export async function runExtract(options: ExtractOptions): Promise<ExtractResult> {
  const started = performance.now();
  const asset = options.asset ?? "extract";
  const format = options.format ?? "parquet";
  const chunkRows = options.chunkRows ?? 100_000;
  checkOptions(options, asset, format, chunkRows);
  const runId = options.runId ?? newRunId();
  // One run at a time per out folder: a second one would take this one for a crashed run and
  // remove its parts. Taken before the state is read; given back without a trace when the run
  // fails before it writes anything into a folder the lock created.
  const lock = await lockOutFolder(options.out, { command: "extract", runId });
  let writing = false;
  try {
    return await extractLocked(options, { started, asset, format, chunkRows, runId }, () => {
      writing = true;
    });
  } finally {
    lock.release({ discard: !writing });
  }
}

/** The settled options of one extraction. */
interface ExtractRun {
  started: number;
  asset: string;
  format: ExtractFormat;
  chunkRows: number;
  runId: string;
}

/** What an extraction settled before it opened its source: where, from where, how. */
interface ExtractPlan {
  assetDir: string;
  statePath: string;
  incremental: string | undefined;
  previous: Boundary | undefined;
  unfinished: Set<string>;
  bound: BoundQuery;
  mode: "append" | "replace";
  shape: ShapeOptions;
  partitionColumns: string[];
  /** sha256 of the bound query's text, for the manifest and the result. */
  querySha256: string;
  /** Passwords in the database URL, masked in the manifest and the report. */
  secrets: string[];
}

/** {@link runExtract} with the out folder locked; `writing()` is called before the first write. */
async function extractLocked(
  options: ExtractOptions,
  run: ExtractRun,
  writing: () => void,
): Promise<ExtractResult> {
  const { asset, runId } = run;
  const plan = await planExtraction(options, run);
  const { source, stream, outputNames } = await openQuery(options, run, plan);

  // From here on, files are written (the out folder exists: the lock made it).
  writing();
  const env = { ...envStamp() };
  const report = new RunReportBuilder(runId, { env });
  const record = new RunRecord(openSqliteState(plan.statePath), {
    runId,
    command: "extract",
    configSha256: configSha256(extractionConfig(options, run, plan, source.description)),
    assets: () => [asset],
    secrets: plan.secrets,
    html: options.htmlReport,
  });
  let sink: Sink | undefined;
  let target = plan.assetDir;
  try {
    await removeOrphans(plan.assetDir, plan.unfinished);
    // Append writes into the asset folder; replace into a staging folder swapped in at the end.
    target = await beginWrite(plan.assetDir, { mode: plan.mode, runId });
    await record.begin();
    report.startAsset(asset, startDecision(plan));
    // Parquet is encoded and compressed on this thread: a third JavaScript thread (the shared
    // Parquet thread) would only add its memory (about 35 MB) and start-up, and the SQLite
    // reader's is busy while the query runs.
    sink = await openSink(target, {
      format: run.format,
      runId,
      partitionBy: options.partitionBy,
      compression: options.compression,
      rowGroupRows: run.chunkRows,
      compressor: zstdFast,
    });
    const chunks = await writeChunks(stream, sink, options, run);
    if (chunks.rejected > 0) {
      report.rejects(asset, chunks.rejected);
      checkRejectRatio({ rejected: chunks.rejected, total: chunks.read - chunks.dropped }, {
        asset,
        maxRejectRatio: options.maxRejectRatio,
        minRejectsToFail: options.minRejectsToFail,
      });
    }
    return await completeExtraction(options, run, plan, {
      sink,
      target,
      chunks,
      stream,
      record,
      report,
      env,
      source: source.description,
      outputNames,
    });
  } catch (error) {
    await stream.cancel();
    await sink?.abort().catch(() => {});
    await removeRunParts(plan.assetDir, runId);
    if (target !== plan.assetDir) await Deno.remove(target, { recursive: true }).catch(() => {});
    report.error(asset, (error as Error).message);
    report.finishAsset(asset, "failed");
    await record.abandon(options.out, report.build("failed"));
    throw error;
  } finally {
    await source.close();
    await record.close();
  }
}

/** What an extraction hands over once every chunk was written. */
interface WrittenChunks {
  sink: Sink;
  target: string;
  chunks: ChunksWritten;
  stream: QueryStream;
  record: RunRecord;
  report: RunReportBuilder;
  env: ManifestRecordInput["env"];
  source: string;
  outputNames: string[];
}

/**
 * Closes the parts (a replace swaps its folder in), records them in the manifest, moves the
 * watermark, writes the report and finishes the run.
 */
async function completeExtraction(
  options: ExtractOptions,
  run: ExtractRun,
  plan: ExtractPlan,
  done: WrittenChunks,
): Promise<ExtractResult> {
  const { asset, runId } = run;
  const { sink, target, chunks, stream, record, report, env, outputNames } = done;
  const closing = performance.now();
  await sink.close();
  // Streamed formats (CSV, JSONL) complete their files on close.
  const runParts = sink.parts;
  if (plan.mode === "replace") await commitReplace(plan.assetDir, { runId });
  // Parts as they are now: under the asset folder (replace moved them out of staging).
  const moved = (path: string) => join(plan.assetDir, relative(target, path));
  const parts = runParts.map((p) => ({ ...p, path: moved(p.path) }));
  const timings = new Map(chunks.written.map((w) => [moved(w.part.path), w]));
  const lines = await appendPartLines(options, run, plan, {
    parts,
    timings,
    closing,
    source: done.source,
    configSha256: record.configSha256,
    env,
  });
  for (const line of lines) report.request(line);
  const boundary = plan.incremental ? stream.boundary() : undefined;
  if (plan.incremental && boundary) await writeBoundary(record.state, asset, boundary);
  const bytes = parts.reduce((n, p) => n + p.bytes, 0);
  noteOutcome(report, options, asset, chunks);
  report.finishAsset(asset, parts.length === 0 ? "unchanged" : "ok");
  const built = report.build();
  const reportPaths = await record.finish(options.out, built, {
    rows: chunks.rows,
    parts: parts.length,
    bytes,
    duplicates: chunks.dropped,
    rejected: chunks.rejected,
  });
  return {
    runId,
    asset,
    rows: chunks.rows,
    duplicatesDropped: chunks.dropped,
    rejected: chunks.rejected,
    rejectsPath: chunks.rejectsFile ? toOutPath(options.out, chunks.rejectsFile) : null,
    parts: parts.map((p) => ({ ...p, path: toOutPath(options.out, p.path) })),
    bytes,
    seconds: (performance.now() - run.started) / 1000,
    source: done.source,
    querySha256: plan.querySha256,
    watermark: plan.incremental
      ? {
        column: plan.incremental,
        before: plan.previous?.value ?? null,
        after: boundary?.value ?? null,
      }
      : null,
    schema: chunks.schema ?? Object.fromEntries(
      outputNames.map((name) => [name, hintOf(stream.columns, plan.shape, name)]),
    ),
    report: built,
    reportPaths,
  };
}

/**
 * What earlier runs left (the watermark; the runs that never finished, whose parts are orphans)
 * read without creating anything, and the query bound to it.
 */
async function planExtraction(options: ExtractOptions, run: ExtractRun): Promise<ExtractPlan> {
  const { asset, format } = run;
  const partitionColumns = parsePartitionSpecs(options.partitionBy ?? [])
    .flatMap((spec) => spec.column ? [spec.column] : []);
  const assetDir = join(options.out, format, safePathSegment(asset));
  const statePath = join(options.out, "state.sqlite");
  const dialect: SqlDialect = /^postgres(ql)?:\/\//i.test(options.db) ? "postgres" : "sqlite";
  const incremental = options.incrementalColumn;
  let previous: Boundary | undefined;
  let unfinished = new Set<string>();
  if (await pathExists(statePath)) {
    const state = openSqliteState(statePath);
    try {
      if (incremental) previous = await readBoundary(state, asset);
      unfinished = await unfinishedRuns(state);
    } finally {
      await state.close();
    }
    if (incremental && previous && previous.column !== incremental) {
      throw new UsageError(
        `asset "${asset}" has a watermark on column ${previous.column}, not ${incremental}; ` +
          `use --incremental-column ${previous.column}, or forget it: ${
            resetCommand(asset, options.out)
          }`,
      );
    }
  }
  const bound = bindUserQuery(options.query, options.params ?? {}, dialect, incremental, previous);
  const mode = options.mode ?? (incremental ? "append" : "replace");
  if (mode !== "append" && mode !== "replace") {
    throw new UsageError(
      `output mode "${mode}" is not supported by extract; use append (with an incremental ` +
        "column and key to add only new rows) or replace",
    );
  }
  if (!incremental && mode === "append") await refuseSecondRun(assetDir, asset, unfinished);
  const shape: ShapeOptions = { columns: parseColumns(options.columns), select: options.select };
  return {
    assetDir,
    statePath,
    incremental,
    previous,
    unfinished,
    bound,
    mode,
    shape,
    partitionColumns,
    querySha256: sha256Hex(bound.text),
    secrets: passwordsOf(options.db),
  };
}

/** Opens the source and starts the query; its columns are checked before anything is written. */
async function openQuery(options: ExtractOptions, run: ExtractRun, plan: ExtractPlan) {
  const source = await openSqlSource(options.db, { worker: options.worker });
  try {
    const { incremental, previous, shape } = plan;
    const stream = await source.query(plan.bound, {
      chunkRows: run.chunkRows,
      shape,
      incremental: incremental ? { column: incremental, keys: options.keys, previous } : undefined,
    });
    const outputNames = planOutput(stream.columns, shape).map((c) => c.name);
    checkColumns(
      stream.columns,
      outputNames,
      run.asset,
      incremental,
      options.keys,
      plan.partitionColumns,
    );
    return { source, stream, outputNames };
  } catch (error) {
    await source.close();
    throw error;
  }
}

/** The options an extraction's hash covers: what makes its rows what they are. */
function extractionConfig(
  options: ExtractOptions,
  run: ExtractRun,
  plan: ExtractPlan,
  source: string,
): Record<string, unknown> {
  return {
    command: "extract",
    asset: run.asset,
    db: source,
    query: options.query,
    params: options.params ?? {},
    format: run.format,
    partition_by: options.partitionBy ?? [],
    chunk_rows: run.chunkRows,
    incremental_column: plan.incremental ?? null,
    keys: options.keys ?? null,
    ...(options.columns ? { columns: plan.shape.columns } : {}),
    ...(options.select ? { select: options.select } : {}),
  };
}

/** Where an incremental extraction starts, for the report. */
function startDecision(plan: ExtractPlan): StartDecision | undefined {
  if (!plan.incremental) return undefined;
  return plan.previous
    ? {
      source: "state",
      value: plan.previous.value,
      reason: `watermark ${plan.incremental} >= ${plan.previous.value} in state`,
    }
    : { source: "none", value: null, reason: "no watermark yet: every row" };
}

/** What {@link writeChunks} wrote and counted. */
interface ChunksWritten {
  rows: number;
  read: number;
  rejected: number;
  dropped: number;
  rejectsFile: string | null;
  schema: Record<string, string> | undefined;
  written: { part: WrittenPart; at: string; ms: number }[];
}

/** Writes the query's chunks to the sink (one write in flight) and their rejects to the rejects file. */
async function writeChunks(
  stream: QueryStream,
  sink: Sink,
  options: ExtractOptions,
  run: ExtractRun,
): Promise<ChunksWritten> {
  const out: ChunksWritten = {
    rows: 0,
    read: 0,
    rejected: 0,
    dropped: 0,
    rejectsFile: null,
    schema: undefined,
    written: [],
  };
  let chunkNo = 0;
  let pending: Promise<void> = Promise.resolve();
  for await (const chunk of stream.chunks) {
    chunkNo += 1;
    out.read += chunk.rowsRead;
    out.dropped += chunk.dropped;
    out.schema ??= Object.fromEntries(chunk.batch.columns.map((c) => [c.name, c.type]));
    if (chunk.rejects.length > 0) {
      out.rejected += chunk.rejects.length;
      out.rejectsFile = await writeRejects(options.out, chunk.rejects, {
        asset: run.asset,
        runId: run.runId,
        provenance: { snapshot: null, page: chunkNo, sha256: null },
      });
    }
    const { batch } = chunk;
    if (batch.length === 0) continue;
    // One write in flight: the next chunk is read and converted while this one is encoded.
    await pending;
    const t0 = performance.now();
    out.rows += batch.length;
    const number = chunkNo;
    pending = sink.writeVectors(batch, { key: String(number).padStart(5, "0") })
      .then((parts) => {
        // Written: its buffers can take the next chunks' rows; every other chunk, the garbage
        // of turning pages into chunks goes while it is little (see collectGarbage).
        stream.release(chunk);
        if (number % 2 === 0) collectGarbage();
        const at = new Date().toISOString();
        for (const part of parts) out.written.push({ part, at, ms: performance.now() - t0 });
        options.onProgress?.({ rows: out.rows, parts: out.written.length });
      });
    // Handled here so a failure surfaces at the next await, not as an unhandled rejection.
    pending.catch(() => {});
  }
  await pending;
  return out;
}

/** One manifest line per part written, in part order; returns the lines as appended. */
async function appendPartLines(
  options: ExtractOptions,
  run: ExtractRun,
  plan: ExtractPlan,
  written: {
    parts: WrittenPart[];
    timings: Map<string, { at: string; ms: number }>;
    closing: number;
    source: string;
    configSha256: string;
    env: ManifestRecordInput["env"];
  },
) {
  const manifest = new ManifestWriter(options.out, {
    secrets: plan.secrets,
    checkSnapshot: false,
  });
  const lines = [];
  for (const [i, part] of written.parts.entries()) {
    const seen = written.timings.get(part.path);
    const record: ManifestRecordInput = {
      kind: "sql",
      run_id: run.runId,
      asset: run.asset,
      page: i + 1,
      timestamp: seen?.at ?? new Date().toISOString(),
      method: "SQL",
      source: written.source,
      params: jsonParams(plan.bound.params),
      status: null,
      elapsed_ms: Math.round(seen?.ms ?? performance.now() - written.closing),
      sha256: null,
      bytes: part.bytes,
      rows: part.rows,
      watermark_in: plan.previous?.value ?? null,
      snapshot: null,
      output: toOutPath(options.out, part.path),
      config_sha256: written.configSha256,
      env: written.env,
      partition: Object.entries(part.partition).map(([k, v]) => `${k}=${v}`).join("/") || null,
      query_sha256: plan.querySha256,
      part_sha256: part.sha256,
    };
    lines.push(await manifest.append(record));
  }
  return lines;
}

/** The report's notes on rows dropped at the watermark and rows rejected. */
function noteOutcome(
  report: RunReportBuilder,
  options: ExtractOptions,
  asset: string,
  chunks: ChunksWritten,
): void {
  if (chunks.dropped > 0) {
    report.note(asset, `${chunks.dropped} rows re-read at the watermark were dropped`);
  }
  if (chunks.rejected > 0) {
    report.note(
      asset,
      `${chunks.rejected} rows did not fit their columns' types: see ${
        toOutPath(options.out, chunks.rejectsFile!)
      }`,
    );
  }
}

/** Parses `columns` declarations; throws {@link ConfigError} listing every bad one. */
function parseColumns(
  columns: ExtractOptions["columns"],
): Record<string, ColumnDecl> | undefined {
  if (columns === undefined) return undefined;
  const out: Record<string, ColumnDecl> = {};
  const issues: { path: string; message: string }[] = [];
  for (const [name, decl] of Object.entries(columns)) {
    const parsed = columnDeclSchema.safeParse(decl);
    if (parsed.success) {
      out[name] = parsed.data;
    } else {
      for (const issue of parsed.error.issues) {
        issues.push({
          path: ["columns", name, ...issue.path.map(String)].join("."),
          message: issue.message,
        });
      }
    }
  }
  if (issues.length > 0) throw new ConfigError("bad column declarations", issues);
  return out;
}

/** The type name of an output column of a query that returned no row. */
function hintOf(columns: SqlColumn[], shape: ShapeOptions, name: string): string {
  const source = Object.entries(shape.columns ?? {}).find(([, d]) => d.rename === name)?.[0] ??
    name;
  const declared = shape.columns?.[source]?.type;
  return declared ?? columns.find((c) => c.name === source)?.hint ?? "string";
}

function checkOptions(
  options: ExtractOptions,
  asset: string,
  format: ExtractFormat,
  chunkRows: number,
): void {
  if (!FORMATS.includes(format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got "${format}"`);
  }
  if (!Number.isInteger(chunkRows) || chunkRows < 1) {
    throw new UsageError(`--chunk-rows must be a positive whole number, got ${chunkRows}`);
  }
  if (asset.trim() === "") throw new UsageError("--asset must not be empty");
  if (!options.out) throw new UsageError("--out is required: the folder to write into");
  if (options.keys && options.keys.length > 0 && !options.incrementalColumn) {
    throw new UsageError("--key only matters with --incremental-column; add it or drop --key");
  }
}

function bindUserQuery(
  query: string,
  params: Record<string, ParamValue>,
  dialect: SqlDialect,
  incremental: string | undefined,
  previous: Boundary | undefined,
): BoundQuery {
  if (Object.hasOwn(params, WATERMARK_PARAM)) {
    throw new SqlError(`--param ${WATERMARK_PARAM} is reserved for the watermark; rename it`);
  }
  // Check the user's placeholders against the user's params before any wrapping.
  const plain = bindQuery(query, params, { dialect });
  if (!incremental || !previous) return plain;
  const wrapped = wrapIncremental(query, incremental, dialect);
  // The watermark is a named placeholder, allowed beside the user's positional ones.
  return bindQuery(wrapped, { ...params, [WATERMARK_PARAM]: watermarkValue(previous) }, {
    dialect,
    reserved: WATERMARK_PARAM,
  });
}

/**
 * The incremental column and keys are result columns (they are compared in SQL and read before
 * any rename); partition columns are output columns (after select and rename).
 */
function checkColumns(
  columns: SqlColumn[],
  output: string[],
  asset: string,
  incremental: string | undefined,
  keys: string[] | undefined,
  partitionColumns: string[],
): void {
  const names = new Set(columns.map((c) => c.name));
  const list = columns.map((c) => c.name).join(", ");
  const missing = (what: string, name: string, among = list) =>
    new SqlError(
      `${what} ${name} is not a column of the query for asset "${asset}" (columns: ${among})`,
    );
  if (incremental && !names.has(incremental)) throw missing("--incremental-column", incremental);
  for (const key of keys ?? []) if (!names.has(key)) throw missing("--key", key);
  for (const column of partitionColumns) {
    if (!output.includes(column)) {
      throw missing("--partition-by column", column, output.join(", "));
    }
  }
}

function jsonParams(
  params: Record<string, ParamValue>,
): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [name, value] of Object.entries(params)) {
    out[name] = typeof value === "bigint" ? value.toString() : value;
  }
  return out;
}

function toOutPath(out: string, path: string): string {
  return relative(out, path).split("\\").join("/");
}

function passwordsOf(db: string): string[] {
  const secrets: string[] = [];
  const env = Deno.env.get("PGPASSWORD");
  if (env) secrets.push(env);
  try {
    const url = new URL(db);
    if (url.password) secrets.push(decodeURIComponent(url.password));
  } catch {
    // a file path
  }
  return secrets;
}

/** Every part file under `dir` (recursively), with the run id its name carries. */
async function* partFiles(dir: string): AsyncGenerator<{ path: string; runId: string | null }> {
  const entries = await readDirIfExists(dir);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      yield* partFiles(path);
    } else if (entry.name.startsWith("part-")) {
      yield { path, runId: runIdOfPart(entry.name) };
    }
  }
}

/** `part-<runId>-<key>.<ext>[.<pid>.<n>.tmp]` → runId. */
function runIdOfPart(name: string): string | null {
  const m = /^part-(.+)-[A-Za-z0-9._]+?\.(parquet|csv|jsonl)(\.\d+\.\d+\.tmp)?$/.exec(name);
  return m ? m[1] : null;
}

async function refuseSecondRun(
  assetDir: string,
  asset: string,
  unfinished: Set<string>,
): Promise<void> {
  for await (const file of partFiles(assetDir)) {
    if (file.path.endsWith(".tmp") || (file.runId !== null && unfinished.has(file.runId))) {
      continue;
    }
    throw new UsageError(
      `asset "${asset}" already has parts in ${assetDir} (e.g. ${basename(file.path)}); ` +
        "a second full extraction would hold every row twice: pass --replace to replace them, " +
        "--incremental-column COL to add only new rows, or another --asset / --out",
    );
  }
}

/** Runs recorded as running or failed: killed, crashed or failed part-way. */
async function unfinishedRuns(state: StateStore): Promise<Set<string>> {
  const runs = await state.listRuns(1_000_000);
  return new Set(runs.filter((r) => r.status !== "succeeded").map((r) => r.runId));
}

/**
 * Removes what runs that never finished left under the asset folder: temporary files, and
 * parts of runs recorded as running or failed (a kill, a crash).
 */
async function removeOrphans(assetDir: string, unfinished: Set<string>): Promise<void> {
  for await (const file of partFiles(assetDir)) {
    if (file.path.endsWith(".tmp") || (file.runId !== null && unfinished.has(file.runId))) {
      await Deno.remove(file.path).catch(() => {});
    }
  }
}

async function removeRunParts(assetDir: string, runId: string): Promise<void> {
  for await (const file of partFiles(assetDir)) {
    if (file.runId === runId) await Deno.remove(file.path).catch(() => {});
  }
}

const zstd = zlib as unknown as {
  zstdCompressSync(data: Uint8Array, options: unknown): Uint8Array;
  constants: Record<string, number>;
};
const ZSTD_FAST = { params: { [zstd.constants.ZSTD_c_compressionLevel]: 1 } };

/**
 * zstd at level 1 for the extract's Parquet pages: on these pages (typed values, dictionary
 * indexes, text) about twice as fast as the default level 3, for files about as small, and
 * it runs on the extract's busiest thread. Done with each page when it returns, so the encoder
 * lays every part's raw pages in the same reused memory (see `synchronousCompressor`).
 */
const zstdFast = synchronousCompressor((page) => zstd.zstdCompressSync(page, ZSTD_FAST));

/**
 * A full garbage collection of this thread's small heap (a few tens of MB: SQLite runs on the
 * reader thread and Parquet is written without polars), when the process runs with
 * `--v8-flags=--expose-gc` as the extract task does. Every second written chunk: otherwise the
 * garbage of parsing pages and encoding parts that young collections promote piles up in the
 * old generation until V8's own limit, so the peak grows with the run (line items at scale
 * 1000: 166 MB without, 148 MB with); after every chunk it cost 8 % more CPU for a few MB less.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
