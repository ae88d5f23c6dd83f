/**
 * The `extract:` step of a config file (schema in `lib/config/schema.ts`): one SQL extraction
 * run with the config's out folder, so a job can mix API assets and SQL steps. Parameter values
 * may use the config templates (`{today}`, `{now:date}`, `{run_id}`); the SQL itself is never
 * templated — values are bound.
 * @module
 */
import { isAbsolute, join } from "node:path";
import { ConfigError } from "../core/errors.ts";
import type { ExtractStepConfig } from "../config/schema.ts";
import { renderParams } from "../config/templating.ts";
import { newRunId } from "../core/stamps.ts";
import { type ExtractResult, runExtract } from "./extract.ts";

/** Options of {@link runExtractStep}. */
export interface ExtractStepOptions {
  /** The out folder of the config's run (parts, manifest, state, reports). */
  out: string;
  /** Folder the config file is in: relative `db` and `query_file` paths resolve from it. @default the working directory */
  baseDir?: string;
  /** Run id shared with the rest of the config's run. @default newRunId() */
  runId?: string;
  /** Clock for `{today}` / `{now}` in params. @default new Date() */
  now?: Date;
}

/**
 * Runs one `extract:` step.
 *
 * @example
 * ```ts
 * import { runExtractStep } from "./extract_step.ts";
 * import { extractStepSchema } from "../config/schema.ts";
 * const step = extractStepSchema.parse({
 *   name: "line_items",
 *   db: "northwind.db",
 *   query: "SELECT * FROM Orders WHERE OrderDate >= :start",
 *   params: { start: "1997-01-01" },
 *   incremental_column: "OrderDate",
 *   primary_key: ["OrderID"],
 *   output: { partition_by: ["year(OrderDate)"] },
 * });
 * const result = await runExtractStep(step, { out: "out" });
 * ```
 */
export async function runExtractStep(
  step: ExtractStepConfig,
  options: ExtractStepOptions,
): Promise<ExtractResult> {
  const base = options.baseDir ?? Deno.cwd();
  const resolve = (path: string) => isAbsolute(path) ? path : join(base, path);
  const runId = options.runId ?? newRunId();
  const output = step.output;
  if (output?.format === "raw") {
    throw new ConfigError("bad extract step", [{
      path: `extract.${step.name}.output.format`,
      message: "raw is for API payloads; use parquet, csv or jsonl",
    }]);
  }
  if (output?.mode === "merge") {
    throw new ConfigError("bad extract step", [{
      path: `extract.${step.name}.output.mode`,
      message: "merge is not supported for SQL; use incremental_column with primary_key " +
        "(adds only new rows) or mode replace",
    }]);
  }
  if (output?.destination) {
    throw new ConfigError("bad extract step", [{
      path: `extract.${step.name}.output.destination`,
      message: "extract steps write to the out folder only; drop destination",
    }]);
  }
  const query = step.query ?? await Deno.readTextFile(resolve(step.query_file!)).catch(
    (error) => {
      throw new ConfigError("bad extract step", [{
        path: `extract.${step.name}.query_file`,
        message: `cannot read ${step.query_file}: ${(error as Error).message}`,
      }]);
    },
  );
  const params = renderParams(step.params ?? {}, { runId, now: options.now ?? new Date() }, {
    keepEmpty: true,
  });
  const db = /^[a-z][a-z0-9+.-]*:\/\//i.test(step.db) ? step.db : resolve(step.db);
  return await runExtract({
    db,
    query,
    params,
    out: options.out,
    asset: step.name,
    partitionBy: output?.partition_by,
    chunkRows: step.chunk_rows,
    format: output?.format as "parquet" | "csv" | "jsonl" | undefined,
    incrementalColumn: step.incremental_column,
    keys: step.primary_key,
    columns: step.columns,
    select: step.select,
    maxRejectRatio: step.max_reject_ratio,
    mode: output?.mode as "append" | "replace" | undefined,
    compression: output?.compression,
    runId,
  });
}
