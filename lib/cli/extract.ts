/**
 * `tidemark extract --db FILE|postgres://URL --query SQL | --query-file FILE [--param name=value]…
 * --out DIR [--asset NAME] [--partition-by 'year(OrderDate)'] [--chunk-rows 100000]
 * [--format parquet|csv|jsonl] [--incremental-column COL] [--key COL]… [--replace]
 * [--column NAME=TYPE[:FORMAT]]… [--select COL]… [--max-reject-ratio R]`: runs one
 * parameterized query and writes its rows, typed, as partitioned parts with manifest, state,
 * rejects and report.
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
import { bindQuery, type ParamValue, parseParamFlags } from "../sql/params.ts";
import type { ExtractFormat, ExtractResult } from "../sql/extract.ts";
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
    const maxRejectRatio = Number(stringFlag(flags, "max-reject-ratio") ?? "0.01");
    if (!(maxRejectRatio >= 0 && maxRejectRatio <= 1)) {
      throw new UsageError(
        `--max-reject-ratio must be a number from 0 to 1, got ${
          stringFlag(flags, "max-reject-ratio")
        }`,
      );
    }
    const select = listFlag(flags, "select");
    const params = parseParamFlags(listFlag(flags, "param"));
    // A full extraction's query is known now: start it on the reader thread while the
    // extractor loads (an incremental one needs the watermark from the state first).
    const stop = stringFlag(flags, "incremental-column") === undefined
      ? await startEarly(db, query, params)
      : undefined;
    try {
      // Not a literal specifier: Deno reads the graph behind a literal import() when the
      // process starts, and the reader thread starts sooner without that wait.
      const { runExtract }: typeof import("../sql/extract.ts") = await import(
        new URL("../sql/extract.ts", import.meta.url).href
      );
      const result = await runExtract({
        db,
        query,
        params,
        columns: parseColumnFlags(listFlag(flags, "column")),
        select: select.length > 0 ? select : undefined,
        maxRejectRatio,
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
    } finally {
      await stop?.();
    }
  },
};

/**
 * Starts a SQLite query on its reader thread before the extractor is loaded (see
 * `startSqliteQuery`); undefined for PostgreSQL, or when the query does not bind (the
 * extraction then reports why).
 */
async function startEarly(
  db: string,
  query: string,
  params: Record<string, ParamValue>,
): Promise<(() => Promise<void>) | undefined> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) return undefined;
  let bound;
  try {
    bound = bindQuery(query, params, { dialect: "sqlite" });
  } catch {
    return undefined;
  }
  const { startSqliteQuery }: typeof import("../sql/sqlite_start.ts") = await import(
    new URL("../sql/sqlite_start.ts", import.meta.url).href
  );
  return startSqliteQuery(db, bound);
}

/**
 * Parses `--column NAME=TYPE[:FORMAT]` flags into declarations (`day=date:%d/%m/%Y`); a type
 * never holds a colon, so the first one after the type starts the format.
 *
 * @example
 * ```ts
 * import { parseColumnFlags } from "./extract.ts";
 * parseColumnFlags(["day=date:%d/%m/%Y", "amount=decimal(10,2)"]);
 * // { day: { type: "date", format: "%d/%m/%Y" }, amount: { type: "decimal(10,2)" } }
 * ```
 */
export function parseColumnFlags(
  flags: string[],
): Record<string, { type: string; format?: string }> | undefined {
  if (flags.length === 0) return undefined;
  const out: Record<string, { type: string; format?: string }> = {};
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    const name = flag.slice(0, Math.max(eq, 0));
    const rest = flag.slice(eq + 1);
    if (eq <= 0 || rest === "") {
      throw new UsageError(
        `--column "${flag}" must look like NAME=TYPE or NAME=TYPE:FORMAT, e.g. ` +
          "--column 'day=date:%d/%m/%Y'",
      );
    }
    if (Object.hasOwn(out, name)) {
      throw new UsageError(`--column ${name} is given twice; declare each column once`);
    }
    const colon = rest.indexOf(":");
    out[name] = colon < 0
      ? { type: rest }
      : { type: rest.slice(0, colon), format: rest.slice(colon + 1) };
  }
  return out;
}

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
  if (result.rejected > 0) {
    lines.push(
      `${result.rejected} rows did not fit their columns' types: ${result.rejectsPath}`,
    );
  }
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
