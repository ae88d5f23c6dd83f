/**
 * The rows of the SQL state stores (SQLite and PostgreSQL share one table layout) and their
 * mapping to the store's types: one place, so the two stores cannot drift apart.
 * @module
 */
import type { PageRow, RunRow, SkipRow, Watermark } from "./mod.ts";

/** A row of `pages`. SQLite returns booleans as 0/1, PostgreSQL as booleans. */
export interface PageDbRow {
  run_id: string;
  asset_id: string;
  partition: string;
  page: number;
  cursor_in: string | null;
  cursor_out: string | null;
  rows: number;
  snapshot: string;
  outputs: string;
  sha256: string;
  done: number | boolean;
  committed_at: string;
  completed: number | boolean;
}

/** The columns of `pages` in {@link PageDbRow}'s shape (`partition` is a keyword in PostgreSQL). */
export const PAGE_COLUMNS =
  `run_id, asset_id, "partition" AS partition, page, cursor_in, cursor_out, rows, snapshot,
   outputs, sha256, done, committed_at, completed`;

/** A row of `ingestion_state`. */
export interface WatermarkDbRow {
  asset_id: string;
  data_type: string;
  last_id: string | null;
  last_timestamp: string | null;
  updated_at: string;
}

/** A row of `runs` (`assets` and `counts` as JSON text). */
export interface RunDbRow {
  run_id: string;
  started_at: string;
  finished_at: string | null;
  status: string;
  config_sha256: string;
  command: string;
  assets: string;
  counts: string;
}

/** A row of `skips`. */
export interface SkipDbRow {
  asset_id: string;
  run_id: string;
  reason: string;
  retry_at: string | null;
  recorded_at: string;
}

/** A watermark row as the store returns it. */
export function toWatermark(r: WatermarkDbRow): Watermark {
  return {
    assetId: r.asset_id,
    dataType: r.data_type,
    lastId: r.last_id,
    lastTimestamp: r.last_timestamp,
    updatedAt: r.updated_at,
  };
}

/** A page row as the store returns it. */
export function toPage(r: PageDbRow): PageRow {
  return {
    runId: r.run_id,
    assetId: r.asset_id,
    partition: r.partition,
    page: r.page,
    cursorIn: r.cursor_in,
    cursorOut: r.cursor_out,
    rows: r.rows,
    snapshot: r.snapshot,
    outputs: JSON.parse(r.outputs),
    sha256: r.sha256,
    done: r.done === true || r.done === 1,
    committedAt: r.committed_at,
    completed: r.completed === true || r.completed === 1,
  };
}

/** A run row as the store returns it. */
export function toRun(r: RunDbRow): RunRow {
  return {
    runId: r.run_id,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status as RunRow["status"],
    configSha256: r.config_sha256,
    command: r.command,
    assets: JSON.parse(r.assets),
    counts: JSON.parse(r.counts),
  };
}

/** A skip row as the store returns it. */
export function toSkip(r: SkipDbRow): SkipRow {
  return {
    assetId: r.asset_id,
    runId: r.run_id,
    reason: r.reason,
    retryAt: r.retry_at,
    recordedAt: r.recorded_at,
  };
}
