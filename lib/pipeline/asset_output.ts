/**
 * Where an asset's rows land: `<out>/<format>/<asset>/[<col>=<value>/]part-<run>-<key>.<ext>`
 * (`parquet/` for the raw-load format too, since `raw/` holds the snapshots). Every page is
 * written as its own complete part(s), renamed into place before the page is committed, so a
 * committed page never points at a file still being written — also for CSV and JSONL, whose
 * streamed writers would otherwise keep one file open for the whole run. Column types are fixed
 * once per asset and run (declared contract types first) and carried from page to page.
 *
 * For `mode: replace` and `mode: merge` the parts go to the staging folder of the run that
 * planned the asset, and {@link AssetOutput.finish} swaps or merges them in at the end.
 * @module
 */
import { yieldTurns } from "../core/event_loop.ts";
import { join, relative } from "node:path";
import type { OutputConfig, WriteModeName } from "../config/schema.ts";
import { safePathSegment } from "../provenance/snapshot.ts";
import {
  type ColumnType,
  openSink,
  rowsToColumns,
  type Sink,
  type SinkOptions,
  type WrittenPart,
} from "../sinks/mod.ts";
import { castColumn, extendSchema, inferColumnType } from "../sinks/column_types.ts";
import { parsePartitionSpecs } from "../sinks/partition.ts";
import {
  concatVectors,
  fromTypedColumn,
  sliceVector,
  type VectorColumn,
} from "../sinks/vectors.ts";
import type { PreparedRows } from "./record_shape.ts";
import {
  assetLayout,
  beginWrite,
  commitReplace,
  mergeByKey,
  recoverAsset,
} from "../sinks/write_mode.ts";
import {
  describeFiles,
  type FileFacts,
  filesUnder,
  objectKeyOf,
  type UploadFile,
} from "./output_files.ts";

/** Options of {@link openAssetOutput}. */
export interface AssetOutputOptions {
  /** The asset's `output:`, its write mode resolved (`writeModeOf`). */
  output: OutputConfig & { mode: WriteModeName };
  /** This run's id (part names). */
  runId: string;
  /** The run that planned the asset (staging folder of replace/merge). @default runId */
  planRunId?: string;
  /**
   * Declared column types (contract, `columns:`, types recorded by earlier runs), or a function
   * read at each write: an asset's types are decided with its first page, after the output
   * opens. @default {}
   */
  columns?: Record<string, ColumnType> | (() => Record<string, ColumnType>);
  /** Rows per part at most (the asset's `batch_size`). @default 10000 */
  batchRows?: number;
  /** Time of `load_date` / `load_time` partitions. @default now */
  loadTime?: Date;
  /** Key columns (merge). @default [] */
  primaryKey?: string[];
  /** Column deciding the newest row of a key (merge). */
  orderBy?: string;
  /** Uploads each finished part of an `append` asset to `output.destination`. @default none */
  upload?: UploadFile;
}

/** The folder of an asset's output, relative to the out folder. */
export function assetFolder(asset: string, output: OutputConfig): string {
  const format = output.format === "raw" ? "parquet" : output.format;
  return `${format}/${safePathSegment(asset)}`;
}

/**
 * Opens the output of one asset for a run (recovering an interrupted replace/merge switch).
 *
 * @example
 * ```ts
 * import { openAssetOutput } from "./asset_output.ts";
 * const output = await openAssetOutput("out", "Orders", {
 *   output: { format: "parquet", partition_by: ["ShipCountry"], mode: "append", compression: "zstd", row_group_rows: 100000 },
 *   runId: "20261123T101500Z-3fa9c1",
 * });
 * const paths = await output.write([{ OrderID: 10248, ShipCountry: "France" }], "00001");
 * // ["parquet/Orders/ShipCountry=France/part-20261123T101500Z-3fa9c1-00001.parquet"]
 * ```
 */
export async function openAssetOutput(
  out: string,
  asset: string,
  options: AssetOutputOptions,
): Promise<AssetOutput> {
  const folder = assetFolder(asset, options.output);
  const assetDir = join(out, folder);
  const mode = options.output.mode;
  let relDir = folder;
  if (mode === "append") {
    await recoverAsset(assetDir);
    await Deno.mkdir(assetDir, { recursive: true });
  } else {
    const planRunId = options.planRunId ?? options.runId;
    await beginWrite(assetDir, { mode, runId: planRunId });
    relDir = `${assetLayout(folder).staging}/${planRunId}`;
  }
  return new AssetOutput(out, assetDir, relDir, options);
}

/** An asset's output for one run. */
export class AssetOutput {
  /** The asset folder readers use (`<out>/parquet/Orders`). */
  readonly assetDir: string;
  /** Where this run's parts go, relative to the out folder. */
  readonly relDir: string;
  readonly #out: string;
  readonly #options: AssetOutputOptions;
  readonly #declared: () => Record<string, ColumnType>;
  readonly #loadTime: Date;
  #schema: Record<string, ColumnType> = {};
  /** Whether pages are prepared (decided by the first one, for the whole asset). */
  #prepares: boolean | undefined;
  readonly #urls = new Map<string, string>();
  /** The complete parts this process wrote (replace mode), by path relative to `relDir`. */
  readonly #written = new Map<string, Omit<FileFacts, "path">>();

  /** Use {@link openAssetOutput}. */
  constructor(out: string, assetDir: string, relDir: string, options: AssetOutputOptions) {
    this.#out = out;
    this.assetDir = assetDir;
    this.relDir = relDir;
    this.#options = options;
    const columns = options.columns ?? {};
    this.#declared = typeof columns === "function" ? columns : () => columns;
    this.#loadTime = options.loadTime ?? new Date();
  }

  /** Column types fixed so far. */
  get schema(): Record<string, ColumnType> {
    return { ...this.#schema };
  }

  /**
   * Writes one page's rows as complete part(s) named by `key` (at most `batchRows` rows a part)
   * and resolves to their paths relative to the out folder.
   */
  write(rows: readonly Record<string, unknown>[], key: string): Promise<string[]> {
    return this.#writeInParts(rows.length, key, (start, end, partKey) =>
      this.#writeBatch(
        start === 0 && end === rows.length ? rows : rows.slice(start, end),
        partKey,
      ));
  }

  /**
   * Writes `length` rows as parts of at most `batchRows` rows, `write(start, end, partKey)` one
   * part's rows (`key`, or `key-b001`, `key-b002`… when there are several), and resolves to their
   * paths relative to the out folder, uploaded where the output says.
   */
  async #writeInParts(
    length: number,
    key: string,
    write: (start: number, end: number, partKey: string) => Promise<WrittenPart[]>,
  ): Promise<string[]> {
    const batch = this.#options.batchRows ?? 10_000;
    const paths: string[] = [];
    for (let start = 0, n = 1; start < length; start += batch, n++) {
      const partKey = length <= batch ? key : `${key}-b${String(n).padStart(3, "0")}`;
      for (const part of await write(start, Math.min(length, start + batch), partKey)) {
        paths.push(`${this.relDir}/${part.relativePath}`);
      }
    }
    await this.#upload(paths);
    return paths;
  }

  /**
   * Casts one page's rows to column vectors when it is staged, for {@link AssetOutput.writePrepared}:
   * the types are fixed from the page as `write` fixes them from a batch (declared ones first,
   * then inferred; a column with only nulls so far waits for a page with values). Parquet only,
   * and decided once for the asset by its first page: `partition_by` entries must read the same
   * folders from the vectors as from the rows as they came (a text column, a date part of a
   * date or timestamp column, the load time). `undefined` otherwise, and the rows go to
   * `write`. Throws, as `write` would, when a value does not fit its column's type.
   */
  prepare(rows: readonly Record<string, unknown>[]): PreparedRows | undefined {
    const output = this.#options.output;
    if (this.#prepares === false || output.format !== "parquet") return undefined;
    const { columns, length } = rowsToColumns(rows);
    const declared = this.#declared();
    // A column with only nulls so far waits for a page with values to type it, as a batch
    // cast whole would have typed it from its other pages.
    const known: Record<string, readonly unknown[]> = {};
    const untyped: string[] = [];
    for (const [name, values] of Object.entries(columns)) {
      if (name in this.#schema || name in declared || inferColumnType(values) !== undefined) {
        known[name] = values;
      } else untyped.push(name);
    }
    // Fixed before the cast, synchronously: pages staged at the same time agree on types.
    const schema = extendSchema(this.#schema, known, declared);
    this.#prepares ??= partitionsReadFromVectors(output.partition_by ?? [], schema);
    if (!this.#prepares) return undefined;
    const vectors: VectorColumn[] = [];
    for (const [name, type] of Object.entries(schema)) {
      const values = columns[name];
      if (values === undefined) continue;
      const vector = fromTypedColumn(castColumn(name, values, type), length);
      // castColumn leaves only cells of the type's kind, which fromTypedColumn always takes.
      if (vector === undefined) throw new Error(`column ${name}: cast cells do not fit ${type}`);
      vectors.push(vector);
    }
    this.#schema = schema;
    const page: PreparedPage = { length, columns: vectors, untyped };
    return page;
  }

  /**
   * Writes a batch of pages {@link AssetOutput.prepare} readied, as `write` writes their rows:
   * the same parts, names and types.
   */
  async writePrepared(pages: readonly PreparedRows[], key: string): Promise<string[]> {
    const prepared = pages as readonly PreparedPage[];
    const lengths = prepared.map((p) => p.length);
    const length = lengths.reduce((n, l) => n + l, 0);
    if (length === 0) return [];
    // Columns no page of the batch gave a value: `string`, as extendSchema fixes them.
    for (const page of prepared) for (const name of page.untyped) this.#schema[name] ??= "string";
    const columns = Object.entries(this.#schema).map(([name, type]) =>
      concatVectors(
        name,
        type,
        prepared.map((p) => p.columns.find((c) => c.name === name)),
        lengths,
      )
    );
    return await this.#writeInParts(length, key, (start, end, partKey) => {
      const slice = start === 0 && end === length
        ? columns
        : columns.map((c) => sliceVector(c, start, end));
      return this.#writeParts(
        this.#sinkOptions(this.#schema),
        (sink) => sink.writeVectors({ length: end - start, columns: slice }, { key: partKey }),
      );
    });
  }

  /** Uploads an append asset's new parts (replace/merge parts are staged: the files the asset
   * holds are uploaded once it completes). */
  async #upload(paths: readonly string[]): Promise<void> {
    if (!this.#options.upload || this.#options.output.mode !== "append") return;
    for (const path of paths) {
      const object = await this.#options.upload(join(this.#out, path), objectKeyOf(path));
      this.#urls.set(path, object.url);
    }
  }

  /** Object URLs of uploaded parts (shaped like the manifest's `output`), or undefined. */
  objectUrls(paths: readonly string[]): string | string[] | undefined {
    const urls = paths.map((p) => this.#urls.get(p)).filter((u) => u !== undefined);
    if (urls.length === 0) return undefined;
    return urls.length === 1 ? urls[0] : urls;
  }

  async #writeBatch(rows: readonly Record<string, unknown>[], key: string): Promise<WrittenPart[]> {
    const output = this.#options.output;
    const { columns, length } = rowsToColumns(rows);
    const raw = output.format === "raw";
    // Fixed before the write, synchronously: pages written at the same time agree on types.
    const declared = this.#declared();
    if (!raw) this.#schema = extendSchema(this.#schema, columns, declared);
    const options: SinkOptions = {
      ...this.#sinkOptions(raw ? declared : this.#schema),
      // The raw-load `id` is the record's key when it has a single-column one.
      ...(raw && this.#options.primaryKey?.length === 1
        ? { idField: this.#options.primaryKey[0] }
        : {}),
    };
    return await this.#writeParts(options, (sink) => sink.writeColumns(columns, length, { key }));
  }

  /** Opens a batch's sink, writes with `write` and closes it: its parts, or none if it fails. */
  async #writeParts(
    options: SinkOptions,
    write: (sink: Sink) => Promise<unknown>,
  ): Promise<WrittenPart[]> {
    const sink = await openSink(join(this.#out, this.relDir), options);
    try {
      await write(sink);
      await sink.close();
    } catch (error) {
      await sink.abort().catch(() => {});
      throw error;
    }
    // Only a replace asset describes its parts from these (see `describe`).
    if (this.#options.output.mode !== "replace") return sink.parts;
    for (const part of sink.parts) {
      if (!part.complete || part.sha256 === "") continue;
      this.#written.set(part.relativePath, {
        sha256: part.sha256,
        bytes: part.bytes,
        rows: part.rows,
      });
    }
    return sink.parts;
  }

  /** The options of a batch's sink, its columns typed as `columns` says. */
  #sinkOptions(columns: Record<string, ColumnType>): SinkOptions {
    const output = this.#options.output;
    return {
      format: output.format,
      runId: this.#options.runId,
      partitionBy: output.partition_by,
      columns,
      compression: output.compression,
      rowGroupRows: output.row_group_rows,
      loadTime: this.#loadTime,
      // Parquet parts go through the TypeScript encoder on this thread (no polars, no Parquet
      // thread: ~50 MB less peak memory). Only what it cannot write (Snappy) goes to polars,
      // and then on the shared Parquet thread, so this thread keeps fetching and parsing.
      thread: "worker",
      // A batch takes tens of milliseconds to cast and encode: between its columns this thread's
      // event loop runs (three turns: a response's headers, its body, then the next request), so
      // the next page's request goes out and its response is read meanwhile.
      pause: pauseForResponses,
    };
  }

  /**
   * Ends the asset: swaps in (replace) or merges (merge) the staged parts and resolves to the
   * files the asset now holds (relative to the out folder); nothing and null for append.
   */
  async finish(): Promise<string[] | null> {
    const mode = this.#options.output.mode;
    if (mode === "append") return null;
    const runId = this.#options.planRunId ?? this.#options.runId;
    const staging = join(assetLayout(this.assetDir).staging, runId);
    const folder = this.#folder();
    const held = async () => (await filesUnder(this.assetDir)).map((f) => `${folder}/${f}`);
    // A crash after the switch already removed the staging folder: the asset is done.
    if (!(await Deno.stat(staging).catch(() => null))) return await held();
    if (mode === "replace") {
      await commitReplace(this.assetDir, { runId });
      return await held();
    }
    await mergeByKey(this.assetDir, {
      runId,
      primaryKey: this.#options.primaryKey ?? [],
      orderBy: this.#options.orderBy,
      partitionBy: this.#options.output.partition_by,
      compression: this.#options.output.compression,
      rowGroupRows: this.#options.output.row_group_rows,
    });
    return await held();
  }

  /** The asset folder relative to the out folder, `/`-separated. */
  #folder(): string {
    return relative(this.#out, this.assetDir).replaceAll("\\", "/");
  }

  /**
   * The sha256, size and rows of `files`, as {@link AssetOutput.finish} lists them. In replace
   * mode a part this process wrote is described as its writer hashed and counted it while
   * writing it (the switch moved its folder whole, names unchanged); any other file (a part an
   * interrupted run wrote, a merged one) is read again.
   */
  async describe(files: readonly string[]): Promise<FileFacts[]> {
    const known = new Map<string, FileFacts>();
    if (this.#options.output.mode === "replace") {
      const folder = this.#folder();
      for (const [rel, facts] of this.#written) {
        known.set(`${folder}/${rel}`, { path: `${folder}/${rel}`, ...facts });
      }
    }
    return await describeFiles(this.#out, files, known);
  }
}

/** When the last pause between a batch's columns ended (`performance.now()`). */
let pausedAt = 0;
const NO_PAUSE = Promise.resolve();

/**
 * The pause between a batch's columns (see `SinkOptions.pause`): only once a millisecond of
 * work has passed since the last one. Most columns take a fraction of that, and each turn of
 * the event loop costs an asynchronous op, where a response waiting a millisecond longer costs
 * nothing the next one does not wait anyway.
 */
function pauseForResponses(): Promise<void> {
  if (performance.now() - pausedAt < 1) return NO_PAUSE;
  return yieldTurns(3).then(() => {
    pausedAt = performance.now();
  });
}

/**
 * Column types whose plain partition folders read the same from a vector as from a row: text
 * (a number or flag cast to text is written as the row's value would be); not numbers, whose
 * cast rewrites a source text such as `003` or `32.380`.
 */
const PLAIN_PARTITION_TYPES: readonly ColumnType[] = ["string"];
/** Column types a date part (`year(…)`, `month(…)`, `day(…)`) is read from in a vector. */
const DATE_PARTITION_TYPES: readonly ColumnType[] = [
  "date",
  "timestamp",
  "timestamp_tz",
  "datetime",
];

/**
 * Whether every `partition_by` entry gives a row the same folder from the cast vectors as
 * from the row as it came: a date or timestamp column's value would be written back in
 * another form than the source text, JSON and decimals too; a column without a type yet is
 * checked by `write` (a misspelt one is reported there).
 */
function partitionsReadFromVectors(
  entries: readonly string[],
  schema: Readonly<Record<string, ColumnType>>,
): boolean {
  return parsePartitionSpecs(entries).every((spec) => {
    if (spec.column === undefined) return true;
    const type = schema[spec.column];
    if (type === undefined) return false;
    return spec.kind === "column"
      ? PLAIN_PARTITION_TYPES.includes(type)
      : DATE_PARTITION_TYPES.includes(type);
  });
}

/** What {@link AssetOutput.prepare} makes of a page: its columns, those it has, as vectors. */
interface PreparedPage extends PreparedRows {
  /** The columns typed by the time it was prepared. */
  columns: VectorColumn[];
  /** Its columns with only nulls and no type yet. */
  untyped: string[];
}
