/**
 * The SQL extractor: one bound query, streamed from SQLite or PostgreSQL in chunks, written as
 * (partitioned) Parquet, CSV or JSONL parts under `<out>/<format>/<asset>/`, with one manifest
 * line per part, the run in `<out>/state.sqlite`, and a run report.
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
import { SqlError, UsageError } from "../core/errors.ts";
import {
  type ColumnType,
  openSink,
  type Sink,
  type SinkOptions,
  type WrittenPart,
} from "../sinks/mod.ts";
import { parsePartitionSpecs } from "../sinks/partition.ts";
import { beginWrite, commitReplace } from "../sinks/write_mode.ts";
import { openSqliteState, type StateStore } from "../state/mod.ts";
import { type ManifestRecordInput, ManifestWriter } from "../provenance/manifest.ts";
import { configSha256, envStamp, newRunId, sha256Hex } from "../core/stamps.ts";
import { safePathSegment } from "../provenance/snapshot.ts";
import {
  type RunReport,
  RunReportBuilder,
  writeRunReport,
  type WrittenReport,
} from "../report/run_report.ts";
import { chunkToArrays, type ColumnChunk, type SqlColumn } from "./chunker.ts";
import {
  type Boundary,
  BoundaryTracker,
  pickRows,
  readBoundary,
  WATERMARK_PARAM,
  watermarkValue,
  wrapIncremental,
  writeBoundary,
} from "./incremental.ts";
import { bindQuery, type BoundQuery, type ParamValue, type SqlDialect } from "./params.ts";
import type { QueryStream, SqlSource } from "./source.ts";
import { openSqliteSource } from "./sqlite_source.ts";
import { pathExists } from "../core/atomic_file.ts";
import { lockOutFolder } from "../run/out_lock.ts";

/** Output formats of an extraction. */
export type ExtractFormat = "parquet" | "csv" | "jsonl";

/** Options of {@link runExtract}. */
export interface ExtractOptions {
  /** A SQLite file path, or a `postgres://` / `postgresql://` URL (password from `PGPASSWORD`). */
  db: string;
  /** The SQL: one SELECT with named `:name` / `$name` placeholders. */
  query: string;
  /** Values of the placeholders; every placeholder needs one, and every value a placeholder. @default {} */
  params?: Record<string, ParamValue>;
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
  /** Result columns and their types. */
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

/** {@link runExtract} with the out folder locked; `writing()` is called before the first write. */
async function extractLocked(
  options: ExtractOptions,
  run: ExtractRun,
  writing: () => void,
): Promise<ExtractResult> {
  const { started, asset, format, chunkRows, runId } = run;
  const partitionColumns = parsePartitionSpecs(options.partitionBy ?? [])
    .flatMap((spec) => spec.column ? [spec.column] : []);
  const assetDir = join(options.out, format, safePathSegment(asset));
  const statePath = join(options.out, "state.sqlite");
  const dialect: SqlDialect = /^postgres(ql)?:\/\//i.test(options.db) ? "postgres" : "sqlite";

  // What earlier runs left: the watermark, and the runs that never finished (their parts are
  // orphans, removed below). Read without creating anything.
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
          `use --incremental-column ${previous.column}, or reset it with 'tidemark state reset ${asset}'`,
      );
    }
  }
  const userParams = options.params ?? {};
  const bound = bindUserQuery(options.query, userParams, dialect, incremental, previous);
  const mode = options.mode ?? (incremental ? "append" : "replace");
  if (mode !== "append" && mode !== "replace") {
    throw new UsageError(
      `output mode "${mode}" is not supported by extract; use append (with an incremental ` +
        "column and key to add only new rows) or replace",
    );
  }
  if (!incremental && mode === "append") await refuseSecondRun(assetDir, asset, unfinished);

  const source = await openSqlSource(options.db, { worker: options.worker });
  let stream: QueryStream;
  try {
    stream = await source.query(bound, { chunkRows });
    checkColumns(stream.columns, asset, incremental, options.keys, partitionColumns);
  } catch (error) {
    await source.close();
    throw error;
  }

  // From here on, files are written (the out folder exists: the lock made it).
  writing();
  const state = openSqliteState(statePath);
  const env = { ...envStamp() };
  const report = new RunReportBuilder(runId, { env });
  const secrets = passwordsOf(options.db);
  const config = {
    command: "extract",
    asset,
    db: source.description,
    query: options.query,
    params: userParams,
    format,
    partition_by: options.partitionBy ?? [],
    chunk_rows: chunkRows,
    incremental_column: incremental ?? null,
    keys: options.keys ?? null,
  };
  const configHash = configSha256(config);
  const startedAt = new Date().toISOString();
  let sink: Sink | undefined;
  let target = assetDir;
  try {
    await removeOrphans(assetDir, unfinished);
    // Append writes into the asset folder; replace into a staging folder swapped in at the end.
    target = await beginWrite(assetDir, { mode, runId });
    await state.startRun({
      runId,
      startedAt,
      configSha256: configHash,
      command: "extract",
      assets: [asset],
    });
    report.startAsset(
      asset,
      incremental
        ? previous
          ? {
            source: "state",
            value: previous.value,
            reason: `watermark ${incremental} >= ${previous.value} in state`,
          }
          : { source: "none", value: null, reason: "no watermark yet: every row" }
        : undefined,
    );
    const keys = options.keys ?? stream.columns.map((c) => c.name);
    let tracker: BoundaryTracker | undefined;
    let rows = 0;
    let chunkNo = 0;
    const written: { part: WrittenPart; at: string; ms: number }[] = [];
    let pending: Promise<void> = Promise.resolve();
    for await (const chunk of stream.chunks) {
      chunkNo += 1;
      if (sink === undefined) {
        // Opened at the first chunk: its column types are the declared schema of every part.
        sink = await openSink(target, {
          format,
          runId,
          partitionBy: options.partitionBy,
          columns: schemaOf(chunk),
          compression: options.compression,
          rowGroupRows: chunkRows,
        });
        if (incremental) {
          const type = chunk.columns.find((c) => c.name === incremental)!.type;
          tracker = new BoundaryTracker(incremental, type, keys, { previous });
        }
      }
      let columns = chunkToArrays(chunk);
      let length = chunk.length;
      const keep = tracker?.visit(columns, length);
      if (keep) {
        columns = pickRows(columns, keep);
        length = keep.length;
      }
      // One write in flight: the next chunk is read and converted while this one is encoded.
      await pending;
      const t0 = performance.now();
      rows += length;
      pending = sink.writeColumns(columns, length, { key: String(chunkNo).padStart(5, "0") })
        .then((parts) => {
          collectGarbage();
          const at = new Date().toISOString();
          for (const part of parts) written.push({ part, at, ms: performance.now() - t0 });
          options.onProgress?.({ rows, parts: written.length });
        });
      // Handled here so a failure surfaces at the next await, not as an unhandled rejection.
      pending.catch(() => {});
    }
    await pending;
    const closing = performance.now();
    await sink?.close();
    // Streamed formats (CSV, JSONL) complete their files on close.
    const runParts = sink ? sink.parts : [];
    if (mode === "replace") await commitReplace(assetDir, { runId });
    // Parts as they are now: under the asset folder (replace moved them out of staging).
    const parts = runParts.map((p) => ({ ...p, path: join(assetDir, relative(target, p.path)) }));
    const byPath = new Map(written.map((w) => [join(assetDir, relative(target, w.part.path)), w]));
    const manifest = new ManifestWriter(options.out, { secrets, checkSnapshot: false });
    const watermarkIn = previous?.value ?? null;
    const querySha256 = sha256Hex(bound.text);
    const records = [];
    for (const [i, part] of parts.entries()) {
      const seen = byPath.get(part.path);
      const record: ManifestRecordInput = {
        kind: "sql",
        run_id: runId,
        asset,
        page: i + 1,
        timestamp: seen?.at ?? new Date().toISOString(),
        method: "SQL",
        source: source.description,
        params: jsonParams(bound.params),
        status: null,
        elapsed_ms: Math.round(seen?.ms ?? performance.now() - closing),
        sha256: null,
        bytes: part.bytes,
        rows: part.rows,
        watermark_in: watermarkIn,
        snapshot: null,
        output: toOutPath(options.out, part.path),
        config_sha256: configHash,
        env,
        partition: Object.entries(part.partition).map(([k, v]) => `${k}=${v}`).join("/") || null,
        query_sha256: querySha256,
        part_sha256: part.sha256,
      };
      const appended = await manifest.append(record);
      records.push(appended);
      report.request(appended);
    }
    const boundary = tracker?.boundary();
    if (incremental && boundary) await writeBoundary(state, asset, boundary);
    const bytes = parts.reduce((n, p) => n + p.bytes, 0);
    await state.finishRun(runId, {
      status: "succeeded",
      finishedAt: new Date().toISOString(),
      counts: { rows, parts: parts.length, bytes, duplicates: tracker?.dropped ?? 0 },
    });
    if (tracker && tracker.dropped > 0) {
      report.note(asset, `${tracker.dropped} rows re-read at the watermark were dropped`);
    }
    report.finishAsset(asset, parts.length === 0 ? "unchanged" : "ok");
    const built = report.build();
    const reportPaths = await writeRunReport(options.out, built, {
      secrets,
      html: options.htmlReport,
    });
    return {
      runId,
      asset,
      rows,
      duplicatesDropped: tracker?.dropped ?? 0,
      parts: parts.map((p) => ({ ...p, path: toOutPath(options.out, p.path) })),
      bytes,
      seconds: (performance.now() - started) / 1000,
      source: source.description,
      querySha256,
      watermark: incremental
        ? { column: incremental, before: watermarkIn, after: boundary?.value ?? null }
        : null,
      schema: sink ? sink.schema : Object.fromEntries(stream.columns.map((c) => [c.name, c.hint])),
      report: built,
      reportPaths,
    };
  } catch (error) {
    await stream.cancel();
    await sink?.abort().catch(() => {});
    await removeRunParts(assetDir, runId);
    if (target !== assetDir) await Deno.remove(target, { recursive: true }).catch(() => {});
    await state.finishRun(runId, {
      status: "failed",
      finishedAt: new Date().toISOString(),
      counts: {},
    }).catch(() => {});
    report.error(asset, (error as Error).message);
    report.finishAsset(asset, "failed");
    await writeRunReport(options.out, report.build("failed"), {
      secrets,
      html: options.htmlReport,
    }).catch(() => {});
    throw error;
  } finally {
    await source.close();
    await state.close();
  }
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
  return bindQuery(wrapped, { ...params, [WATERMARK_PARAM]: watermarkValue(previous) }, {
    dialect,
  });
}

function checkColumns(
  columns: SqlColumn[],
  asset: string,
  incremental: string | undefined,
  keys: string[] | undefined,
  partitionColumns: string[],
): void {
  const names = new Set(columns.map((c) => c.name));
  const list = columns.map((c) => c.name).join(", ");
  const missing = (what: string, name: string) =>
    new SqlError(
      `${what} ${name} is not a column of the query for asset "${asset}" (columns: ${list})`,
    );
  if (incremental && !names.has(incremental)) throw missing("--incremental-column", incremental);
  for (const key of keys ?? []) if (!names.has(key)) throw missing("--key", key);
  for (const column of partitionColumns) {
    if (!names.has(column)) throw missing("--partition-by column", column);
  }
}

function schemaOf(chunk: ColumnChunk): Record<string, ColumnType> {
  return Object.fromEntries(chunk.columns.map((c) => [c.name, c.type]));
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
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
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

/**
 * Polars frames hold their memory in Rust, which V8 does not see: without a collection it lets
 * dead frames pile up for hundreds of MB. When the process runs with `--v8-flags=--expose-gc`
 * (the `extract` task does), one collection per written chunk keeps memory flat.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
