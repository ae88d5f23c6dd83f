/**
 * Multi-step pipelines: an asset with `for_each: <parent>` is harvested once per
 * record of its parent — or once per batch of `for_each_batch` records, their values
 * comma-joined — with its `{record.Field}` parameters rendered from each. The parent's records
 * are those its latest complete harvest fetched, read back from their snapshots (so they are
 * exactly what was received, whatever the parent's output format), and each distinct set of
 * values becomes one partition of the child's plan: walked on the run's shared workers,
 * committed page by page and resumed after a crash like any other partition.
 * @module
 */
import { type AssetConfig, dataOptional } from "../config/schema.ts";
import { renderTemplate } from "../config/templating.ts";
import { StateError } from "../core/errors.ts";
import { resolveOutPath } from "../provenance/snapshot.ts";
import { type PlannedPartition, readPlan } from "./asset_plan.ts";
import type { RunContext } from "./asset_run.ts";
import { scanManifest } from "./manifest_scan.ts";
import { decodeBody, selectRecords } from "../pipeline/page_rows.ts";

/** What {@link forEachPlan} found: the partitions and how many parent records fed them. */
export interface ForEachPlan {
  /** One partition per distinct value set (or batch of them); empty when the parent had no record. */
  partitions: PlannedPartition[];
  /** Parent records read. */
  parents: number;
  /** Parent records without a value for some `{record.…}` parameter (not harvested for). */
  missing: number;
}

const plans = new WeakMap<RunContext, Map<string, Promise<ForEachPlan>>>();

/** The parameters of an asset that hold `{record.…}` placeholders. */
export function recordParams(asset: AssetConfig): [string, string][] {
  return Object.entries(asset.params).filter(([, value]) => value.includes("{record."));
}

/**
 * The partitions of a `for_each` asset in this run (computed once per run and asset): one per
 * distinct rendering of its `{record.…}` parameters over the parent's records, batched by
 * `for_each_batch`. Throws a {@link StateError} when the parent has no complete harvest yet.
 *
 * @example
 * ```ts
 * import { forEachPlan } from "./for_each.ts";
 * const plan = await forEachPlan(ctx, ordersAsset); // for_each: customers
 * plan.partitions[0].params; // { CustomerID: "ALFKI" }
 * ```
 */
export function forEachPlan(ctx: RunContext, asset: AssetConfig): Promise<ForEachPlan> {
  let byAsset = plans.get(ctx);
  if (!byAsset) plans.set(ctx, byAsset = new Map());
  let plan = byAsset.get(asset.name);
  if (!plan) byAsset.set(asset.name, plan = buildPlan(ctx, asset));
  return plan;
}

/** The planned partitions of a `for_each` asset (see {@link forEachPlan}); at least one. */
export async function forEachPartitions(
  ctx: RunContext,
  asset: AssetConfig,
): Promise<PlannedPartition[]> {
  const plan = await forEachPlan(ctx, asset);
  if (plan.partitions.length === 0) {
    throw new StateError(
      `"${asset.name}" has no parent record to run for: the latest harvest of "${asset.for_each}" fetched none`,
    );
  }
  return plan.partitions;
}

async function buildPlan(ctx: RunContext, asset: AssetConfig): Promise<ForEachPlan> {
  const parentName = asset.for_each!;
  const parent = ctx.loaded.config.assets.find((a) => a.name === parentName);
  if (!parent) {
    throw new StateError(
      `"${asset.name}" takes its parameters from "${parentName}" (for_each), which is not a REST asset of this config; for_each names an asset`,
    );
  }
  const plan = await readPlan(ctx.state, parentName);
  if (!plan || plan.status !== "complete") {
    throw new StateError(
      `"${asset.name}" takes its parameters from "${parentName}" (for_each), which has no complete harvest yet; harvest "${parentName}" first (run the config without --asset, or with --asset "${parentName}")`,
    );
  }
  // The runs that may hold pages of the parent's latest harvest: the one that planned it and
  // every later one (a harvest interrupted and resumed spans several runs).
  const runs = await ctx.state.listRuns(Number.MAX_SAFE_INTEGER);
  const planned = runs.find((r) => r.runId === plan.run_id)?.startedAt;
  const since = new Set(
    runs.filter((r) => r.runId === plan.run_id || (planned !== undefined && r.startedAt >= planned))
      .map((r) => r.runId),
  );
  const templates = recordParams(asset);
  const seen = new Set<string>();
  const combos: string[][] = [];
  const readSnapshots = new Set<string>();
  let parents = 0;
  let missing = 0;
  for await (const line of scanManifest(ctx.out)) {
    if (line.asset !== parentName || line.kind !== "http" || line.snapshot === null) continue;
    if (!since.has(line.run_id) || readSnapshots.has(line.snapshot)) continue;
    readSnapshots.add(line.snapshot);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(resolveOutPath(ctx.out, line.snapshot));
    } catch (error) {
      throw new StateError(
        `cannot read snapshot ${line.snapshot} of "${parentName}" for the for_each of "${asset.name}": ${
          (error as Error).message
        }; run 'tidemark verify', or harvest "${parentName}" again with --full-refresh`,
      );
    }
    const records = selectRecords(decodeBody(bytes, parentName), parent.data_path, parentName, {
      optional: dataOptional(parent),
    });
    for (const record of records) {
      parents++;
      const values: string[] = [];
      for (const [, template] of templates) {
        const value = renderTemplate(template, { record, runId: ctx.runId, now: ctx.now() });
        if (value === undefined) break;
        values.push(value);
      }
      if (values.length < templates.length) {
        missing++;
        continue;
      }
      const id = JSON.stringify(values);
      if (seen.has(id)) continue;
      seen.add(id);
      combos.push(values);
    }
  }
  const batch = asset.for_each_batch ?? 1;
  const partitions: PlannedPartition[] = [];
  for (let i = 0; i < combos.length; i += batch) {
    const chunk = combos.slice(i, i + batch);
    const params: Record<string, string> = {};
    templates.forEach(([name], j) => {
      params[name] = chunk.map((values) => values[j]).join(",");
    });
    const index = partitions.length;
    partitions.push({
      index,
      key: partitionKey(templates, chunk, index),
      params,
      first: null,
      last: null,
    });
  }
  return { partitions, parents, missing };
}

/** `CustomerID=ALFKI` for one value set; `CustomerID=ALFKI..BLAUS (10)` for a batch. */
function partitionKey(templates: [string, string][], chunk: string[][], index: number): string {
  const first = templates.map(([name], j) => `${name}=${chunk[0][j]}`).join("&");
  if (chunk.length === 1) return first;
  const last = chunk[chunk.length - 1].join("&");
  return `${first}..${last} (${chunk.length}, batch ${index + 1})`;
}
