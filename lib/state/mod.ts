/**
 * The state store: watermarks, runs, committed pages and rate-limit skips, behind one async
 * interface, implemented by SQLite, Deno KV and PostgreSQL (`./postgres.ts`, loaded only when a
 * state names a `postgres://` URL, so the driver stays out of other runs); one contract suite
 * (tests/state/store_suite.ts) holds every implementation to the same semantics
 * (docs/design.md §2 and §4).
 * @module
 */

/** One row of `ingestion_state`: a watermark of one kind for one asset. */
export interface Watermark {
  /** The entity fetched: an asset name, or e.g. a user id of a timelines asset. */
  assetId: string;
  /** The watermark kind: `default`, or `X` / `X_oldest` for bidirectional fetching. */
  dataType: string;
  /** Id watermark (text: snowflakes exceed 2^53). */
  lastId: string | null;
  /** Timestamp watermark, UTC ISO-8601. */
  lastTimestamp: string | null;
  /** When it was last written, UTC ISO-8601. */
  updatedAt: string;
}

/** What {@link StateStore.setWatermark} writes; a missing or null field keeps the stored value. */
export interface WatermarkUpdate {
  /** The entity. */
  assetId: string;
  /** The watermark kind. @default "default" */
  dataType?: string;
  /** New id watermark; null/undefined keeps the stored one. */
  lastId?: string | null;
  /** New timestamp watermark (normalized to UTC before storing); null/undefined keeps the stored one. */
  lastTimestamp?: string | null;
}

/** Status of a run. */
export type RunStatus = "running" | "succeeded" | "failed" | "partial";

/** What {@link StateStore.startRun} records. */
export interface RunStart {
  /** Sortable run id (`newRunId`). */
  runId: string;
  /** UTC ISO-8601. */
  startedAt: string;
  /** sha256 of the config. */
  configSha256: string;
  /** The command that ran (`harvest`, `extract`, …). */
  command: string;
  /** Assets the run covers. */
  assets: string[];
}

/** What {@link StateStore.finishRun} records. */
export interface RunFinish {
  /** How the run ended. */
  status: "succeeded" | "failed" | "partial";
  /** UTC ISO-8601. */
  finishedAt: string;
  /** Totals (pages, records, retries, …). */
  counts: Record<string, number>;
}

/** One row of `runs`. */
export interface RunRow extends RunStart {
  /** `running` until finished. */
  status: RunStatus;
  /** Set by finishRun. */
  finishedAt: string | null;
  /** Set by finishRun. */
  counts: Record<string, number>;
}

/** One committed page: the cursor after it, the rows, and the files it produced. */
export interface PageCommit {
  /** The run that fetched it. */
  runId: string;
  /** The asset. */
  assetId: string;
  /** Partition key (`""` or e.g. `OrderID:10248-10455`). */
  partition: string;
  /** Page number within the walk of this asset/partition (continues across a resume). */
  page: number;
  /** The cursor the request was made with (null for the first page). */
  cursorIn: string | null;
  /** The cursor of the next page (null when done). */
  cursorOut: string | null;
  /** Records in the page. */
  rows: number;
  /** Snapshot path, relative to the output folder. */
  snapshot: string;
  /** Output parts this page's rows went to (relative paths). */
  outputs: string[];
  /** sha256 of the snapshot. */
  sha256: string;
  /** True when this was the last page of the walk. */
  done: boolean;
}

/** One row of `pages`. */
export interface PageRow extends PageCommit {
  /** When it was committed, UTC ISO-8601. */
  committedAt: string;
  /** True once the asset completed (its watermark advanced); such pages are not resume points. */
  completed: boolean;
}

/** What {@link StateStore.recordSkip} records. */
export interface SkipRecord {
  /** The run that skipped it. */
  runId: string;
  /** The skipped asset. */
  assetId: string;
  /** Why (`rate limit: wait 900s above max_wait_s 120`). */
  reason: string;
  /** When the server said it could be retried, UTC ISO-8601, if known. */
  retryAt: string | null;
}

/** One row of `skips`. */
export interface SkipRow extends SkipRecord {
  /** When it was recorded, UTC ISO-8601. */
  recordedAt: string;
}

/** The state of harvests and extracts; every method is async so a Deno KV store can implement it. */
export interface StateStore {
  /** The watermark of an asset and kind, or undefined. `dataType` defaults to `"default"`. */
  getWatermark(assetId: string, dataType?: string): Promise<Watermark | undefined>;
  /** Upsert; a null/undefined field never overwrites a stored value. */
  setWatermark(update: WatermarkUpdate): Promise<void>;
  /** Every watermark (for `tidemark state`). */
  listWatermarks(): Promise<Watermark[]>;
  /** Records the start of a run. */
  startRun(run: RunStart): Promise<void>;
  /** Records the end of a run. */
  finishRun(runId: string, result: RunFinish): Promise<void>;
  /** Runs, newest first. `limit` defaults to 20. */
  listRuns(limit?: number): Promise<RunRow[]>;
  /** Commits one page (cursor, rows, files) in ONE transaction. */
  commitPage(page: PageCommit): Promise<void>;
  /**
   * Commits consecutive pages of one walk, in order: SQLite in one transaction (one sync for the
   * batch, all or none), Deno KV page by page.
   */
  commitPages(pages: readonly PageCommit[]): Promise<void>;
  /** The last committed page of an asset/partition not yet completed (for resume), or undefined. */
  resumePoint(assetId: string, partition: string): Promise<PageRow | undefined>;
  /** Pages of an asset not yet completed, in commit order (every partition). */
  pendingPages(assetId: string): Promise<PageRow[]>;
  /** Every output path committed for an asset (a resumed run deletes parts not in this set). */
  committedOutputs(assetId: string): Promise<Set<string>>;
  /** Marks an asset's pages complete (after its watermark advanced); the next run starts fresh. */
  completeAsset(assetId: string, runId: string): Promise<void>;
  /** Records (or replaces) an asset's rate-limit skip. */
  recordSkip(skip: SkipRecord): Promise<void>;
  /** Skipped assets, oldest first (the next run takes them first). */
  listSkips(): Promise<SkipRow[]>;
  /** Forgets an asset's skip (after it ran). */
  clearSkip(assetId: string): Promise<void>;
  /** Forgets everything about an asset: watermarks, pages, skips. */
  resetAsset(assetId: string): Promise<void>;
  /** Closes the store. */
  close(): Promise<void>;
}

export { openSqliteState, type SqliteStateOptions, STATE_SCHEMA_VERSION } from "./sqlite.ts";
export { KV_STATE_VERSION, type KvStateOptions, openKvState } from "./kv.ts";
export {
  describeState,
  type OpenStateOptions,
  openStateStore,
  type StateLocation,
  stateLocation,
  type StateSpec,
} from "./open.ts";
export {
  applyLookback,
  clampFuture,
  type ClampOptions,
  type ClampResult,
  compareIds,
  compareWatermarks,
  newerWatermark,
  normalizeTimestamp,
  normalizeWatermark,
  olderWatermark,
  parseLookback,
  type WatermarkCompareOptions,
  type WatermarkKind,
} from "./watermark.ts";
