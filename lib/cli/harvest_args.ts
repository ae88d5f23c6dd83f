/**
 * The `harvest` command line: its flags, and {@link parseHarvestArgs}, which checks them and
 * loads the config. Kept apart from the command so that the task launcher
 * (`harvest_task.ts`) reads a command line without loading the engine (and its Parquet addon).
 * @module
 */
import { loadConfig, type LoadedConfig } from "../config/load.ts";
import { configFromFlags } from "../config/flags.ts";
import { UsageError } from "../core/errors.ts";
import { LOG_LEVELS } from "../report/logger.ts";
import type { HarvestOptions } from "../harvest/run.ts";
import {
  booleanFlag,
  choiceValue,
  type CommandSpec,
  intFlag,
  listFlag,
  parseFlags,
  stringFlag,
} from "./args.ts";

/** The flags of `tidemark harvest`. */
export const spec: CommandSpec = {
  name: "harvest",
  summary: "harvest a REST API to Parquet with snapshots, manifest and state",
  usage: "harvest --config FILE [--out DIR] [--asset NAME]… [options]\n" +
    "       tidemark harvest --url URL --data-path PATH [--pagination TYPE ...] --out DIR",
  flags: {
    config: { type: "string", value: "FILE", description: "the harvest config (YAML)" },
    out: {
      type: "string",
      value: "DIR",
      description: "output folder (wins over the config's out)",
    },
    asset: {
      type: "string",
      value: "NAME",
      multiple: true,
      description: "harvest only this asset (repeatable)",
    },
    "full-refresh": { type: "boolean", description: "ignore stored watermarks: start over" },
    since: {
      type: "string",
      value: "VALUE",
      description: "start incremental assets from this timestamp or id",
    },
    direction: {
      type: "string",
      value: "forward|backfill",
      description: "timelines: newer than X, or older than X_oldest",
      default: "forward",
    },
    workers: {
      type: "string",
      value: "N",
      description: "concurrent workers over assets and partitions",
      default: "the config's, 4",
    },
    "base-url": {
      type: "string",
      value: "URL",
      description: "origin of the API (wins over the config's base_url)",
    },
    "log-format": {
      type: "string",
      value: "human|json",
      description: "log lines on stderr",
      default: "human on a terminal, else json",
    },
    quiet: { type: "boolean", description: "only warnings and errors; a one-line summary" },
    "log-level": {
      type: "string",
      value: "debug|info|warn|error",
      description: "the least severe log lines shown (debug adds every page)",
      default: "info (warn with --quiet)",
    },
    "log-file": {
      type: "string",
      value: "FILE",
      description: "also write JSON log lines to FILE, rotated by size",
    },
    "log-max-bytes": {
      type: "string",
      value: "N",
      description: "size at which --log-file rotates",
      default: "10485760",
    },
    "log-keep": {
      type: "string",
      value: "N",
      description: "rotated log files kept (FILE.1 … FILE.N)",
      default: "5",
    },
    "if-changed": {
      type: "boolean",
      description:
        "ask each asset first whether anything changed and end the unchanged at once (the default; kept for older scripts)",
    },
    "no-change-detection": {
      type: "boolean",
      description:
        "skip the change check: walk every asset even when its pages would answer 304 (--full-refresh implies it)",
    },
    "dry-run": {
      type: "boolean",
      description:
        "print what the run would do — each asset's request, pagination, start, write mode — and exit without a request",
    },
    url: { type: "string", value: "URL", description: "one asset without a config: its full URL" },
    "data-path": {
      type: "string",
      value: "PATH",
      description: 'where the records are ("rows", "data", "" for a bare array)',
    },
    pagination: {
      type: "string",
      value: "TYPE",
      description: "cursor, offset, page, link, body_link, timeline or none",
      default: "none",
    },
    "next-path": { type: "string", value: "PATH", description: "where the next cursor/link is" },
    "next-param": {
      type: "string",
      value: "NAME",
      description: "query parameter the cursor is sent in",
    },
    "primary-key": {
      type: "string",
      value: "COL",
      multiple: true,
      description: "key column(s), repeatable or comma-separated",
    },
    "bearer-env": {
      type: "string",
      value: "VAR",
      description: "environment variable holding a bearer token",
    },
    format: {
      type: "string",
      value: "FORMAT",
      description: "parquet, csv, jsonl or raw",
      default: "parquet",
    },
    "partition-by": {
      type: "string",
      value: "COL",
      multiple: true,
      description: "hive partition column(s)",
    },
  },
  details: "Outputs under the out folder: parquet/<asset>/…, raw/<asset>/<run_id>/<page>.json, " +
    "manifest.jsonl, state.sqlite, reports/<run_id>.json|.html. Re-running is always safe: " +
    "an interrupted run is resumed and incremental assets fetch only what is new.",
};

const ONE_ASSET_FLAGS = [
  "url",
  "data-path",
  "pagination",
  "next-path",
  "next-param",
  "primary-key",
  "bearer-env",
  "format",
  "partition-by",
];

/** A `harvest` command line, read and checked: the config and the options of the run. */
export interface HarvestInvocation {
  /** The config (from `--config FILE`, or built from the one-asset flags). */
  loaded: LoadedConfig;
  /** The config file, when there is one. */
  configPath?: string;
  /** The options of the run. */
  options: HarvestOptions;
  /** `--quiet`: a one-line summary. */
  quiet: boolean;
  /** `--dry-run`: describe the run, send nothing. */
  dryRun: boolean;
}

/**
 * Reads a `harvest` command line: every flag checked and the config loaded and validated, so a
 * bad one fails (exit 2) before anything runs. Shared by the command and by the task launcher
 * that works out the run's permissions (`harvest_task.ts`).
 */
export async function parseHarvestArgs(args: string[]): Promise<HarvestInvocation> {
  const flags = parseFlags(spec, args);
  if (flags.positionals.length > 0) {
    throw new UsageError(
      `unexpected argument "${flags.positionals[0]}"; give the config with --config FILE`,
    );
  }
  const configPath = stringFlag(flags, "config");
  const oneAsset = ONE_ASSET_FLAGS.filter((f) => flags.values[f] !== undefined);
  if (configPath !== undefined && oneAsset.length > 0) {
    throw new UsageError(
      `--config and --${
        oneAsset[0]
      } do not go together: describe the asset in the config, or use the flags without --config`,
    );
  }
  if (configPath === undefined && flags.values.url === undefined) {
    throw new UsageError(
      "give --config FILE, or describe one asset with --url URL --data-path PATH (see --help)",
    );
  }
  const workers = intFlag(flags, "workers", { min: 1, max: 64 });
  const direction = choiceValue(
    stringFlag(flags, "direction") ?? "forward",
    "--direction",
    ["forward", "backfill"] as const,
  );
  const logFormat = flags.values["log-format"] === undefined
    ? "auto"
    : choiceValue(stringFlag(flags, "log-format")!, "--log-format", ["human", "json"] as const);
  const env = Deno.env.toObject();
  const loaded = configPath !== undefined
    ? await loadConfig(configPath, { env })
    : configFromFlags({
      url: stringFlag(flags, "url"),
      dataPath: stringFlag(flags, "data-path"),
      pagination: stringFlag(flags, "pagination"),
      nextPath: stringFlag(flags, "next-path"),
      nextParam: stringFlag(flags, "next-param"),
      primaryKey: listFlag(flags, "primary-key").flatMap((k) => k.split(",")).map((k) => k.trim())
        .filter(Boolean),
      out: stringFlag(flags, "out"),
      bearerEnv: stringFlag(flags, "bearer-env"),
      format: stringFlag(flags, "format"),
      partitionBy: listFlag(flags, "partition-by"),
      workers,
    }, { env });
  const quiet = booleanFlag(flags, "quiet");
  const logLevel = flags.values["log-level"] === undefined
    ? undefined
    : choiceValue(stringFlag(flags, "log-level")!, "--log-level", LOG_LEVELS);
  const logFile = stringFlag(flags, "log-file");
  const logKeep = intFlag(flags, "log-keep", { min: 0, max: 1000 });
  const logMaxBytes = intFlag(flags, "log-max-bytes", { min: 1024 });
  if (logFile === undefined && (logKeep !== undefined || logMaxBytes !== undefined)) {
    throw new UsageError(
      "--log-keep and --log-max-bytes rotate the log file; add --log-file FILE",
    );
  }
  if (booleanFlag(flags, "if-changed") && booleanFlag(flags, "no-change-detection")) {
    throw new UsageError("--if-changed and --no-change-detection contradict each other; keep one");
  }
  const options: HarvestOptions = {
    // A plain re-run asks first (conditional requests, or the configured latest-record check):
    // an unchanged source then costs no body and writes nothing. An unfinished, never-harvested
    // or --since/--full-refresh asset always runs (change detection decides that per asset).
    detectChanges: !booleanFlag(flags, "no-change-detection"),
    logFile: logFile === undefined
      ? undefined
      : { path: logFile, keep: logKeep, maxBytes: logMaxBytes },
    out: stringFlag(flags, "out"),
    assets: listFlag(flags, "asset"),
    fullRefresh: booleanFlag(flags, "full-refresh"),
    since: stringFlag(flags, "since"),
    direction,
    workers,
    baseUrl: stringFlag(flags, "base-url"),
    logFormat,
    logLevel,
    quiet,
  };
  return { loaded, configPath, options, quiet, dryRun: booleanFlag(flags, "dry-run") };
}
