/**
 * What a harvest of one asset promised itself, kept in state until the asset completes: the
 * starting point, the query parameters as rendered (so `{today}` or a new watermark cannot change
 * the walk under a resume), and the partitions (key ranges, page groups) with their filters. A
 * run killed at any moment resumes its unfinished assets with exactly this plan, so every
 * committed cursor stays valid. Also stores the boundary a completed asset leaves for the next
 * run. Both live in `ingestion_state` rows of their own `data_type`, so every `StateStore`
 * implementation keeps them.
 * @module
 */
import { z } from "zod";
import { startDecisionSchema } from "../report/report_model.ts";
import type { StateStore } from "../state/mod.ts";
import { readStoredJson } from "../state/stored_json.ts";
import { type Boundary, boundarySchema } from "../pipeline/watermark_tracker.ts";
import { PARSE_ONCE } from "../core/parse_once.ts";

/** `data_type` of the plan row. */
export const PLAN_DATA_TYPE = "harvest_plan";
/** `data_type` of the boundary row. */
export const BOUNDARY_DATA_TYPE = "harvest_boundary";

/** One partition of a planned asset. */
export const plannedPartitionSchema = z.strictObject({
  /** 0-based position (names its parts: `part-<run>-p<index>-<page>`). */
  index: z.int().min(0),
  /** Partition key in state and manifest (`""` when the asset is not partitioned). */
  key: z.string(),
  /** Query parameters selecting it (key-range filters). */
  params: z.record(z.string(), z.string()),
  /** Page groups: first page number. */
  first: z.int().nullable(),
  /** Page groups: last page number (null: until the walk ends). */
  last: z.int().nullable(),
});
/** One planned partition. */
export type PlannedPartition = z.infer<typeof plannedPartitionSchema>;

/** The plan of one asset's harvest. */
export const assetPlanSchema = z.strictObject({
  version: z.literal(1),
  /** The run that made the plan (names the staging folder of replace/merge output). */
  run_id: z.string(),
  /** `active` until the asset completed. */
  status: z.enum(["active", "complete"]),
  /** The config the plan was made from. */
  config_sha256: z.string(),
  /** The starting point, for the report. */
  start: startDecisionSchema,
  /** The `>=` lower bound sent, if any. */
  watermark_in: z.string().nullable(),
  /** Drop rows the previous run wrote at its boundary. */
  dedupe: z.boolean(),
  /** Timelines: newer than this id. */
  since_id: z.string().nullable(),
  /** Timelines: older than this id. */
  until_id: z.string().nullable(),
  /** Query parameters as rendered; null marks a value holding a secret, re-read from the config. */
  params: z.record(z.string(), z.string().nullable()),
  /** The partitions. */
  partitions: z.array(plannedPartitionSchema).min(1),
});
/** The plan of one asset's harvest. */
export type AssetPlan = z.infer<typeof assetPlanSchema>;

/** Reads an asset's plan; undefined when there is none. */
export async function readPlan(state: StateStore, asset: string): Promise<AssetPlan | undefined> {
  return await readStoredJson(state, {
    asset,
    dataType: PLAN_DATA_TYPE,
    schema: assetPlanSchema,
    what: "harvest plan",
  });
}

/** Stores an asset's plan (replacing any). */
export async function savePlan(state: StateStore, asset: string, plan: AssetPlan): Promise<void> {
  await state.setWatermark({
    assetId: asset,
    dataType: PLAN_DATA_TYPE,
    lastId: JSON.stringify(assetPlanSchema.parse(plan, PARSE_ONCE)),
  });
}

/** Reads the boundary the last completed harvest of an asset left; undefined when none. */
export async function readBoundary(
  state: StateStore,
  asset: string,
): Promise<Boundary | undefined> {
  return await readStoredJson(state, {
    asset,
    dataType: BOUNDARY_DATA_TYPE,
    schema: boundarySchema,
    what: "watermark boundary",
  });
}

/** Stores the boundary of a completed harvest. */
export async function saveBoundary(
  state: StateStore,
  asset: string,
  boundary: Boundary,
): Promise<void> {
  await state.setWatermark({
    assetId: asset,
    dataType: BOUNDARY_DATA_TYPE,
    lastId: JSON.stringify(boundary),
  });
}
