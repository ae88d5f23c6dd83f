/**
 * The assets of one run, in the order their dependencies need: an asset with `for_each: <parent>`
 * starts once its parent (when it runs too) has ended, and not at all when the parent failed;
 * with change detection on (scheduled runs, `--if-changed`) each asset first asks whether
 * anything changed and ends at once when nothing did. After every asset ended, the validators of
 * each complete walk are kept for the next run's check.
 * @module
 */
import type { AssetConfig } from "../config/schema.ts";
import type { AssetResult, RunContext } from "./asset_run.ts";
import {
  detectChange,
  type EtagRecorder,
  finishUnchanged,
  saveWalkRecords,
} from "./change_detection.ts";
import { forEachPlan } from "./for_each.ts";
import type { AssetStart } from "./plan.ts";
import { readPlan } from "./asset_plan.ts";

/** Runs one asset (the engine's `runAsset`). */
export type AssetRunner = (
  ctx: RunContext,
  asset: AssetConfig,
  start: AssetStart | Error,
) => Promise<AssetResult>;

/** Options of {@link runAssets}. */
export interface RunAssetsOptions {
  /** Check each asset for changes first and skip the unchanged. @default false */
  detectChanges?: boolean;
  /** Assets a rate limit skipped last time (never skipped as unchanged). @default [] */
  skipped?: readonly string[];
  /** The validators the run's client recorded (kept for the next check). */
  recorder?: EtagRecorder;
  /** Manifest size before the run (the walk records read only the run's lines). @default 0 */
  manifestStart?: number;
}

/**
 * Runs every asset with `run`, parents before their `for_each` children, and returns their
 * results in the order of `assets`.
 *
 * @example
 * ```ts
 * import { runAssets } from "./run_assets.ts";
 * import { runAsset } from "./asset_run.ts";
 * const results = await runAssets(ctx, assets, starts, runAsset, { detectChanges: true });
 * ```
 */
export async function runAssets(
  ctx: RunContext,
  assets: readonly AssetConfig[],
  starts: ReadonlyMap<string, AssetStart | Error>,
  run: AssetRunner,
  options: RunAssetsOptions = {},
): Promise<AssetResult[]> {
  const running = new Map<string, Promise<AssetResult>>();
  const one = async (asset: AssetConfig): Promise<AssetResult> => {
    // Let every asset be registered first: a child may come before its parent in the order.
    await Promise.resolve();
    const start = starts.get(asset.name)!;
    const parent = asset.for_each === undefined ? undefined : running.get(asset.for_each);
    if (parent) {
      const ended = await parent;
      if (ended.status === "failed" || ended.status === "skipped") {
        return await run(
          ctx,
          asset,
          new Error(
            `not run: it takes its parameters from "${ended.asset}" (for_each), which ${
              ended.status === "failed" ? "failed" : "was skipped"
            } in this run`,
          ),
        );
      }
    }
    if (start instanceof Error) return await run(ctx, asset, start);
    if (asset.for_each !== undefined) {
      const active = (await readPlan(ctx.state, asset.name).catch(() => undefined))?.status ===
        "active";
      if (!active) {
        let plan;
        try {
          plan = await forEachPlan(ctx, asset);
        } catch (error) {
          return await run(ctx, asset, error as Error);
        }
        if (plan.partitions.length === 0) {
          return await finishUnchanged(ctx, asset, start, {
            changed: false,
            reason: `the latest harvest of "${asset.for_each}" has no record to run for`,
            requests: 0,
            lines: [],
          });
        }
      }
    }
    if (options.detectChanges) {
      // Timed from here: the check is part of the asset's time.
      ctx.report.startAsset(asset.name, start.decision);
      const check = await detectChange(ctx, asset, start, { skipped: options.skipped });
      if (!check.changed) return await finishUnchanged(ctx, asset, start, check);
      ctx.log.info("asset.changed", {
        asset: asset.name,
        msg: `change detection: ${check.reason}`,
      });
      ctx.report.note(asset.name, `change detection: ${check.reason}`);
    }
    return await run(ctx, asset, start);
  };
  for (const asset of assets) running.set(asset.name, one(asset));
  const results = await Promise.all(assets.map((asset) => running.get(asset.name)!));
  if (options.recorder) {
    await saveWalkRecords(ctx, assets, results, options.recorder, {
      manifestStart: options.manifestStart,
    });
  }
  return results;
}
