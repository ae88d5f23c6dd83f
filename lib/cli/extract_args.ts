/**
 * The `extract` command line's flags, apart from the command so that the task launcher
 * (`extract_task.ts`) reads a command line without loading the SQL engine and its Parquet addon.
 * @module
 */
import type { CommandSpec } from "./args.ts";

/** The flags of `tidemark extract` (read by the task launcher too). */
export const spec: CommandSpec = {
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
      description:
        "value of the :NAME / $NAME placeholder, or N=VALUE for the positional ?N / $N (repeatable); bound, never spliced",
    },
    column: {
      type: "string",
      multiple: true,
      value: "NAME=TYPE[:FORMAT]",
      description:
        "declare a result column's type: string, int, float, decimal(p,s), bool, date, timestamp, timestamp_tz, json; FORMAT for text dates, e.g. 'day=date:%d/%m/%Y' (repeatable; rename and nullable in a config's columns:)",
    },
    select: {
      type: "string",
      multiple: true,
      value: "COL",
      description: "keep only these result columns, in this order (repeatable)",
    },
    "max-reject-ratio": {
      type: "string",
      value: "R",
      description: "share of rows whose values do not fit their types that may go to rejects",
      default: "0.01",
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
    "  tidemark extract --db legacy.db --out out --query 'SELECT * FROM sales WHERE day >= ?' \\",
    "    --param 1=2024-01-01 --column 'day=date:%d/%m/%Y' --column amount='decimal(10,2)'",
  ].join("\n"),
};
