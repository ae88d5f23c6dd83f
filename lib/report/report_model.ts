/**
 * The run report's model: what one run did, per asset and in total (pages, records, rejects,
 * retries, 429s, 304s, skips, bytes, seconds, the starting-point decision, errors) and every
 * request it made, for the timeline — each shape as a zod schema (reports are read back from
 * files) and as its written-out type.
 * @module
 */
import { z } from "zod";
import { envStampSchema } from "../provenance/manifest.ts";
import type { EnvStamp } from "../core/stamps.ts";
import type { Assert, SchemaIs } from "../core/schema_type.ts";

/**
 * Where an incremental asset started from, by precedence: `full_refresh` (the flag),
 * `since` (an explicit `--since`), `state` (the watermark), `output` (the newest `load_date=`
 * partition found), `initial` (the configured value), `none` (not incremental).
 */
export const startDecisionSchema = z.strictObject({
  /** Which rule decided. */
  source: z.enum(["full_refresh", "since", "state", "output", "initial", "none"]),
  /** The starting value used (a watermark, a date), if any. */
  value: z.union([z.string(), z.number()]).nullable().default(null),
  /** Why, in words: `watermark 1997-05-06 in state (lookback 1 day)`. */
  reason: z.string(),
});
/** A starting-point decision (see {@link startDecisionSchema}). */
export interface StartDecision {
  /** Which rule decided. */
  source: "full_refresh" | "since" | "state" | "output" | "initial" | "none";
  /** The starting value used (a watermark, a date), if any. */
  value: string | number | null;
  /** Why, in words. */
  reason: string;
}

/** One attempt drawn on the timeline, in milliseconds from the run's start. */
export const timelineTrySchema = z.strictObject({
  attempt: z.int().min(1),
  kind: z.enum(["http", "timeout", "reset", "truncated", "network"]),
  status: z.int().nullable(),
  /** When the attempt was sent, ms after the run started. */
  offset_ms: z.number(),
  elapsed_ms: z.number().min(0),
  /** Held by the client rate limiter before it was sent. */
  queued_ms: z.number().min(0),
  /** Slept after it (backoff or a server-requested wait). */
  slept_ms: z.number().min(0),
});

/** One request of the run (one manifest line), for the timeline. */
export const requestEntrySchema = z.strictObject({
  asset: z.string(),
  partition: z.string().nullable(),
  page: z.int().min(0),
  /** Final status; `null` for SQL parts. */
  status: z.int().nullable(),
  attempts: z.int().min(1),
  /** When the final attempt was sent (manifest `timestamp`). */
  timestamp: z.string(),
  /** Same, in ms after the run started. */
  offset_ms: z.number(),
  elapsed_ms: z.number().min(0),
  slept_ms: z.number().min(0),
  retry_after: z.number().nullable(),
  bytes: z.int().min(0),
  rows: z.int().min(0),
  unchanged: z.boolean(),
  snapshot: z.string().nullable(),
  /** Every attempt (one, synthesized from the line, when the manifest has no history). */
  tries: z.array(timelineTrySchema),
});
/** One attempt on the timeline (see {@link timelineTrySchema}). */
export interface TimelineTry {
  /** 1-based attempt number. */
  attempt: number;
  /** How it ended. */
  kind: "http" | "timeout" | "reset" | "truncated" | "network";
  /** HTTP status, when a response arrived. */
  status: number | null;
  /** When the attempt was sent, ms after the run started. */
  offset_ms: number;
  /** Milliseconds from sending to the end of the body or the failure. */
  elapsed_ms: number;
  /** Held by the client rate limiter before it was sent. */
  queued_ms: number;
  /** Slept after it (backoff or a server-requested wait). */
  slept_ms: number;
}

/** One request of the timeline (see {@link requestEntrySchema}). */
export interface RequestEntry {
  /** The asset. */
  asset: string;
  /** Its partition, if any. */
  partition: string | null;
  /** Page number within the walk. */
  page: number;
  /** Final status; `null` for SQL parts. */
  status: number | null;
  /** Attempts made. */
  attempts: number;
  /** When the final attempt was sent (manifest `timestamp`). */
  timestamp: string;
  /** Same, in ms after the run started. */
  offset_ms: number;
  /** Milliseconds of the final attempt. */
  elapsed_ms: number;
  /** Milliseconds slept before it. */
  slept_ms: number;
  /** A server-requested wait, in seconds. */
  retry_after: number | null;
  /** Body bytes. */
  bytes: number;
  /** Records. */
  rows: number;
  /** Answered 304 / unchanged. */
  unchanged: boolean;
  /** The snapshot file, relative to the out folder. */
  snapshot: string | null;
  /** Every attempt. */
  tries: TimelineTry[];
}

const counters = {
  /** Distinct pages (or SQL parts) committed. */
  pages: z.int().min(0),
  /** Manifest lines (responses received, parts written). */
  requests: z.int().min(0),
  /** Records received. */
  records: z.int().min(0),
  /** Records refused by the contract. */
  rejects: z.int().min(0),
  /** Attempts beyond the first. */
  retries: z.int().min(0),
  /** Responses with status 429. */
  status_429: z.int().min(0),
  /** Responses with status 304 (unchanged). */
  status_304: z.int().min(0),
  /** Times the asset was skipped (rate-limit wait above `max_wait_s`). */
  skips: z.int().min(0),
  /** Bytes received (snapshots) or written (SQL parts). */
  bytes: z.int().min(0),
  /** Wall-clock seconds. */
  seconds: z.number().min(0),
  /** Pages whose request failed for good (absent in reports of older versions). */
  pages_failed: z.int().min(0).default(0),
};

/** A page whose request failed for good: where it was and the last error. */
export const failedPageSchema = z.strictObject({
  /** The partition (key range, page group; "" when the asset is not partitioned). */
  partition: z.string(),
  /** The page number within the partition's walk. */
  page: z.int(),
  /** The cursor it was requested with, if any. */
  cursor: z.string().nullable(),
  /** The last error, secrets masked. */
  error: z.string(),
});
/** A failed page of the report (see {@link failedPageSchema}). */
export interface FailedPage {
  /** The partition ("" when the asset is not partitioned). */
  partition: string;
  /** The page number within the partition's walk. */
  page: number;
  /** The cursor it was requested with, if any. */
  cursor: string | null;
  /** The last error, secrets masked. */
  error: string;
}

/** The counters of an asset's line and of the run's totals. */
export interface ReportCounters {
  /** Distinct pages (or SQL parts) committed. */
  pages: number;
  /** Manifest lines (responses received, parts written). */
  requests: number;
  /** Records received. */
  records: number;
  /** Records refused by the contract. */
  rejects: number;
  /** Attempts beyond the first. */
  retries: number;
  /** Responses with status 429. */
  status_429: number;
  /** Responses with status 304 (unchanged). */
  status_304: number;
  /** Times the asset was skipped (rate-limit wait above `max_wait_s`). */
  skips: number;
  /** Bytes received (snapshots) or written (SQL parts). */
  bytes: number;
  /** Wall-clock seconds. */
  seconds: number;
  /** Pages whose request failed for good. */
  pages_failed: number;
}

/** One asset's line of the report. */
export const assetReportSchema = z.strictObject({
  asset: z.string(),
  kind: z.enum(["http", "sql"]),
  /** `incomplete` when the run ended (or crashed) before the asset was finished. */
  status: z.enum(["ok", "failed", "skipped", "unchanged", "incomplete"]),
  ...counters,
  start: startDecisionSchema.nullable(),
  errors: z.array(z.string()),
  skip_reasons: z.array(z.string()),
  /** Anything else worth saying (change detection, clamped watermark, ...). */
  notes: z.array(z.string()),
  /** Pages whose request failed for good, each with its last error. */
  failed_pages: z.array(failedPageSchema).default([]),
});
/** One asset's report (see {@link assetReportSchema}). */
export interface AssetReport extends ReportCounters {
  /** The asset. */
  asset: string;
  /** A REST asset or a SQL extraction. */
  kind: "http" | "sql";
  /** `incomplete` when the run ended (or crashed) before the asset was finished. */
  status: "ok" | "failed" | "skipped" | "unchanged" | "incomplete";
  /** Where it started from. */
  start: StartDecision | null;
  /** Errors, secrets masked. */
  errors: string[];
  /** Why it was skipped. */
  skip_reasons: string[];
  /** Anything else worth saying. */
  notes: string[];
  /** Pages whose request failed for good. */
  failed_pages: FailedPage[];
}

/** The report of one run; written to `<out>/reports/<run_id>.json`. */
export const runReportSchema = z.strictObject({
  run_id: z.string(),
  /**
   * `partial`: some assets failed or were skipped, others succeeded; `incomplete`: rebuilt from
   * the manifest of a run that did not finish.
   */
  status: z.enum(["succeeded", "partial", "failed", "incomplete"]),
  started_at: z.iso.datetime(),
  finished_at: z.iso.datetime().nullable(),
  seconds: z.number().min(0),
  config_sha256: z.string().nullable(),
  env: envStampSchema.nullable(),
  totals: z.strictObject({ assets: z.int().min(0), ...counters, errors: z.int().min(0) }),
  assets: z.array(assetReportSchema),
  requests: z.array(requestEntrySchema),
});
/** A run report (see {@link runReportSchema}). */
export interface RunReport {
  /** The run. */
  run_id: string;
  /** `partial`: some assets failed or were skipped; `incomplete`: rebuilt from a crashed run. */
  status: "succeeded" | "partial" | "failed" | "incomplete";
  /** UTC ISO-8601. */
  started_at: string;
  /** UTC ISO-8601, or null for an unfinished run. */
  finished_at: string | null;
  /** Wall-clock seconds. */
  seconds: number;
  /** Hash of the config the run used. */
  config_sha256: string | null;
  /** The versions the run used (reports of later versions may hold more fields). */
  env: (EnvStamp & { [field: string]: unknown }) | null;
  /** Sums over the assets. */
  totals: ReportCounters & { assets: number; errors: number };
  /** One line per asset. */
  assets: AssetReport[];
  /** Every request, for the timeline. */
  requests: RequestEntry[];
}

type _RunReport = Assert<SchemaIs<typeof runReportSchema, RunReport, never>>;
