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
  type CommandSpec,
  intFlag,
  listFlag,
  parseFlags,
  stringFlag,
} from "./args.ts";
import { UsageError } from "../errors.ts";
import { parseParamFlags } from "../sql/params.ts";
import { type ExtractFormat, type ExtractResult, runExtract } from "../sql/extract.ts";

const spec: CommandSpec = {
  name: "extract",
  summary: "extract a SQL query (SQLite or PostgreSQL) to partitioned Parquet",
  usage: "extract --db FILE|postgres://URL (--query SQL | --query-file FILE) --out DIR [options]",
  flags: {
    db: {
      type: "string",
      value: "FILE|URL",
      description: "SQLite file, or postgres://user@host:port/db (password from PGPASSWORD)",
    },
    query: { type: "string", value: "SQL", description: "the SELECT to run" },
    "query-file": { type: "string", value: "FILE", description: "read the SELECT from a file" },
    param: {
      type: "string",
      multiple: true,
      value: "NAME=VALUE",
      description: "value of the :NAME / $NAME placeholder (repeatable); bound, never spliced",
    },
    out: { type: "string", value: "DIR", description: "out folder (parts, manifest, state)" },
    asset: {
      type: "string",
      value: "NAME",
      description: "asset name: folder of the parts",
      default: "the query file's name, else extract",
    },
    "partition-by": {
      type: "string",
      multiple: true,
      value: "COL",
      description: "hive partition: a column, year(col), month(col) or day(col) (repeatable)",
    },
    "chunk-rows": {
      type: "string",
      value: "N",
      description: "rows per chunk and per part",
      default: "100000",
    },
    format: {
      type: "string",
      value: "FORMAT",
      description: "parquet, csv or jsonl",
      default: "parquet",
    },
    "incremental-column": {
      type: "string",
      value: "COL",
      description: "only rows with COL >= the stored watermark; the watermark then advances",
    },
    key: {
      type: "string",
      multiple: true,
      value: "COL",
      description: "key column dropping rows re-read at the watermark (default: all columns)",
    },
    replace: {
      type: "boolean",
      description:
        "swap the asset's parts for this run's, atomically, at the end of the run (the default without --incremental-column)",
    },
  },
  details: [
    "Examples:",
    "  tidemark extract --db northwind.db --out out --asset line_items \\",
    '    --query \'SELECT * FROM Orders o JOIN "Order Details" d USING (OrderID)',
    "             WHERE o.OrderDate >= :start' --param start=1997-01-01 \\",
    "    --partition-by 'year(OrderDate)'",
    "  PGPASSWORD=… tidemark extract --db postgres://etl@127.0.0.1:5432/northwind \\",
    "    --query-file q.sql --out out --incremental-column OrderDate --key OrderID",
  ].join("\n"),
};

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
