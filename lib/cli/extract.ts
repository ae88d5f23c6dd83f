/**
 * `tidemark extract --db FILE|postgres://URL --query SQL | --query-file FILE [--param name=value]…
 * --out DIR [--asset NAME] [--partition-by 'year(OrderDate)'] [--chunk-rows 100000]
 * [--format parquet|csv|jsonl] [--incremental-column COL] [--key COL]… [--replace]`: runs one
 * parameterized query and writes its rows as partitioned parts with manifest, state and report.
 * @module
 */
import {
  booleanFlag,
  choiceValue,
  type Command,
  intFlag,
  listFlag,
  parseFlags,
  stringFlag,
} from "./args.ts";
import { UsageError } from "../core/errors.ts";
import { parseParamFlags } from "../sql/params.ts";
import { type ExtractFormat, type ExtractResult, runExtract } from "../sql/extract.ts";
import { spec } from "./extract_args.ts";

/** The `extract` command. */
export const command: Command = {
  spec,
  async run(args: string[]): Promise<number> {
    const flags = parseFlags(spec, args);
    if (flags.positionals.length > 0) {
      throw new UsageError(
        `unexpected argument "${flags.positionals[0]}"; quote the SQL and pass it with --query`,
      );
    }
    const db = stringFlag(flags, "db");
    const out = stringFlag(flags, "out");
    if (!db) throw new UsageError("--db is required: a SQLite file or a postgres:// URL");
    if (!out) throw new UsageError("--out is required: the folder to write into");
    const inline = stringFlag(flags, "query");
    const file = stringFlag(flags, "query-file");
    if ((inline === undefined) === (file === undefined)) {
      throw new UsageError("give the SQL with exactly one of --query SQL or --query-file FILE");
    }
    const query = inline ?? await readQueryFile(file!);
    const format = choiceValue(
      stringFlag(flags, "format") ?? "parquet",
      "--format",
      ["parquet", "csv", "jsonl"] as const,
    ) as ExtractFormat;
    const result = await runExtract({
      db,
      query,
      params: parseParamFlags(listFlag(flags, "param")),
      out,
      asset: stringFlag(flags, "asset") ?? (file ? assetFromFile(file) : "extract"),
      partitionBy: listFlag(flags, "partition-by"),
      chunkRows: intFlag(flags, "chunk-rows", { min: 1 }) ?? 100_000,
      format,
      incrementalColumn: stringFlag(flags, "incremental-column"),
      keys: listFlag(flags, "key").length > 0 ? listFlag(flags, "key") : undefined,
      // Unset, the mode follows from the run: a full extraction replaces, an incremental one appends.
      mode: booleanFlag(flags, "replace") ? "replace" : undefined,
    });
    console.log(formatResult(result));
    return 0;
  },
};

async function readQueryFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`--query-file ${path} does not exist`);
    }
    throw error;
  }
}

function assetFromFile(path: string): string {
  const name = path.split(/[\\/]/).pop() ?? "extract";
  return name.replace(/\.sql$/i, "") || "extract";
}

/** One paragraph for the terminal: what was written, where, and how fast. */
export function formatResult(result: ExtractResult): string {
  const rate = result.seconds > 0 ? Math.round(result.rows / result.seconds) : result.rows;
  const lines = [
    `extracted ${result.rows} rows of "${result.asset}" from ${result.source} ` +
    `into ${result.parts.length} parts (${formatBytes(result.bytes)}) in ` +
    `${result.seconds.toFixed(1)} s (${rate} rows/s), run ${result.runId}`,
  ];
  if (result.watermark) {
    lines.push(
      `watermark ${result.watermark.column}: ${result.watermark.before ?? "(none)"} → ` +
        `${result.watermark.after ?? "(none)"}` +
        (result.duplicatesDropped > 0
          ? `; ${result.duplicatesDropped} rows re-read at the watermark dropped`
          : ""),
    );
  }
  const folders = [...new Set(result.parts.map((p) => p.path.split("/").slice(0, -1).join("/")))];
  if (folders.length > 0) {
    lines.push(`parts: ${folders.slice(0, 6).join(", ")}${folders.length > 6 ? ", …" : ""}`);
  }
  lines.push(`report: ${result.reportPaths.json}`);
  return lines.join("\n");
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
