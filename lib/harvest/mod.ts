/**
 * The harvest engine (docs/design.md §2–§4): plan assets × partitions, walk them on bounded workers
 * sharing one HTTP session, persist and commit page by page (snapshot → rows → part → manifest
 * line → state), resume after a crash, and advance each watermark once its asset is complete.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config/load.ts";
 * import { harvest } from "./mod.ts";
 * const result = await harvest(await loadConfig("jobs/northwind.yaml"), { out: "out" });
 * console.log(result.status);
 * ```
 * @module
 */
export { harvest, type HarvestOptions, type HarvestResult } from "./run.ts";
export type { AssetResult } from "./asset_run.ts";
export {
  type AssetStart,
  decideStart,
  type DecideStartOptions,
  type Direction,
  selectAssets,
  type SelectAssetsOptions,
  type StoredWatermarks,
  WATERMARK_TYPES,
} from "./plan.ts";
export {
  type AssetPlan,
  assetPlanSchema,
  BOUNDARY_DATA_TYPE,
  PLAN_DATA_TYPE,
  readBoundary,
  readPlan,
} from "./asset_plan.ts";
export { assetFolder } from "../pipeline/asset_output.ts";
export { type KeyRange, probeKeyRange, splitKeyRange } from "./key_ranges.ts";
export { boundedPages, type PageGroup, pageGroups } from "./page_parallel.ts";
export {
  decodeBody,
  type PageRows,
  type PageRowsOptions,
  rowsFromBytes,
  type RowsFromBytesOptions,
  selectRecords,
  validateRows,
} from "../pipeline/page_rows.ts";
export { manifestParams, pagesOfPart, partKey } from "./page_step.ts";
export { type Boundary, boundarySchema, WatermarkTracker } from "../pipeline/watermark_tracker.ts";
export { WorkerPool, type WorkerPoolOptions } from "./worker_pool.ts";
