/**
 * Harvests spread over many processes on a PostgreSQL job queue (pg-boss): `tidemark worker`
 * takes units (one asset of one run, or one key range of it), `tidemark harvest --queue` enqueues and follows a run,
 * `tidemark status --queue` shows its units.
 *
 * @example
 * ```ts
 * import { enqueueHarvest, followRun, Queue } from "./mod.ts";
 * import { loadConfig } from "../config/load.ts";
 * const queue = await Queue.open("postgres://etl@db/ops");
 * const spec = await enqueueHarvest(queue, await loadConfig("jobs/northwind.yaml"), { out: "/shared/out" });
 * console.log((await followRun(queue, spec.runId)).status);
 * await queue.close();
 * ```
 * @module
 */
export {
  FINAL_STATUSES,
  Queue,
  QueueUnavailableError,
  type RunSpec,
  type UnitRow,
  unitsOf,
  type UnitStatus,
} from "./store.ts";
export {
  sharedLimiterFactory,
  SharedRateLimiter,
  type SharedRateLimiterOptions,
} from "./shared_limiter.ts";
export {
  planUnits,
  type PlanUnitsOptions,
  splitPartition,
  unitAsset,
  type UnitSpec,
} from "./split.ts";
export {
  type AssetProgress,
  assetProgress,
  endOf,
  enqueueHarvest,
  type EnqueueOptions,
  type FollowOptions,
  followRun,
  renderAssets,
  renderUnits,
  type RunEnd,
} from "./run.ts";
export {
  startWorker,
  unitFolder,
  unitStateSchema,
  type WorkerHandle,
  type WorkerOptions,
} from "./worker.ts";
