/**
 * Key-range units: an asset with a `partition:` key-range config (or any asset with a one-column
 * primary key when `--split N` is given) becomes one unit per range, so several workers share one
 * large asset. The span is probed once, when the run is enqueued, and each unit's range (its
 * lower/upper params) travels in the run's spec: every worker harvests exactly the range it was
 * handed, whatever the source looks like by then, and the ranges stay disjoint and cover every
 * key (the first has no lower bound, the last no upper bound).
 * @module
 */
import type { LoadedConfig } from "../config/load.ts";
import type { AssetConfig, PartitionConfig } from "../config/schema.ts";
import { renderParams } from "../config/templating.ts";
import { absoluteUrl } from "../harvest/asset_run.ts";
import { probeKeyRange, splitKeyRange } from "../harvest/key_ranges.ts";
import { HttpClient } from "../http/client.ts";
import type { FetchFunction } from "../http/fetch_resilient.ts";

/** One unit of a run: a whole asset, or one key range of it. */
export interface UnitSpec {
  /** The unit's name in the units table and its job: the asset, or `<asset> [<range>]`. */
  unit: string;
  /** The asset. */
  asset: string;
  /** The key range, or null for the whole asset. */
  range: {
    /** 0-based position among the asset's ranges. */
    index: number;
    /** How many ranges the asset was cut into. */
    count: number;
    /** The range as text (`OrderID>=10455<10662`). */
    key: string;
    /** The query parameters bounding it (added to the asset's own). */
    params: Record<string, string>;
  } | null;
}

/** Options of {@link planUnits}. */
export interface PlanUnitsOptions {
  /** `--split N`: ranges per asset (wins over `partition.parts`). */
  split?: number;
  /** `--base-url`. */
  baseUrl?: string;
  /** The transport of the probes. @default globalThis.fetch */
  fetch?: FetchFunction;
  /**
   * The ranges an earlier run of the same out folder cut an asset into: reused when there are as
   * many as asked for, so each range keeps its state (watermark) and folder from run to run.
   */
  previous?: (asset: string) => Promise<UnitSpec[] | undefined>;
}

/**
 * The key-range partition an asset is split by in a queued run, or undefined for one unit:
 * its own `partition:` (by a key, not by page), or with `split` its one-column primary key.
 */
export function splitPartition(
  asset: AssetConfig,
  split: number | undefined,
): PartitionConfig | undefined {
  const own = asset.partition;
  if (own !== undefined && own.by !== "page") {
    const parts = split ?? own.parts;
    return parts > 1 ? { ...own, parts } : undefined;
  }
  if (split !== undefined && split > 1 && asset.primary_key?.length === 1) {
    return { by: asset.primary_key[0], parts: Math.min(256, split) };
  }
  return undefined;
}

/**
 * The units of a queued run of `assets`: one per asset, or one per key range of an asset that
 * {@link splitPartition} splits (probing its smallest and largest key unless the config names
 * them; an empty asset is one unit). An asset cut the same number of ways by an earlier run of
 * the out folder keeps that run's ranges (`previous`), unprobed.
 *
 * @example
 * ```ts
 * const loaded = await loadConfig("jobs/northwind.yaml");
 * const units = await planUnits(loaded, loaded.config.assets, { split: 4 });
 * console.log(units.map((u) => u.unit)); // ["Orders [OrderID<10456]", …]
 * ```
 */
export async function planUnits(
  loaded: LoadedConfig,
  assets: readonly AssetConfig[],
  options: PlanUnitsOptions = {},
): Promise<UnitSpec[]> {
  const config = loaded.config;
  const baseUrl = options.baseUrl ?? config.base_url;
  let client: HttpClient | undefined;
  const units: UnitSpec[] = [];
  for (const asset of assets) {
    const partition = splitPartition(asset, options.split);
    if (partition === undefined) {
      units.push({ unit: asset.name, asset: asset.name, range: null });
      continue;
    }
    const earlier = await options.previous?.(asset.name);
    if (
      earlier !== undefined && earlier.length > 1 && earlier[0].range?.count === partition.parts
    ) {
      // The first range has no lower bound and the last no upper one: old cuts still cover
      // every key, and a unit's state and folder go on where the last run left them.
      units.push(...earlier);
      continue;
    }
    client ??= new HttpClient({
      retry: config.retry,
      rateLimit: config.rate_limit,
      auth: config.auth.type === "none" || config.auth.type === "custom" ? config.auth : {
        ...config.auth,
        alias: config.auth.alias ?? loaded.authAlias.replace(`${config.auth.type}:`, ""),
      },
      baseUrl,
      fetch: options.fetch,
      etagStore: false,
    });
    // The watermark is left out: the probe asks for the whole key span, a superset of any run's.
    const params = renderParams(asset.params ?? {}, { runId: "probe", now: new Date() });
    const span = await probeKeyRange(
      client,
      {
        url: absoluteUrl(asset.path, baseUrl),
        params,
        method: asset.method,
        headers: asset.headers,
        dataPath: asset.data_path,
      },
      partition,
      { label: asset.name, scope: asset.name },
    );
    const ranges = span === null ? [] : splitKeyRange(
      partition.by,
      span.min,
      span.max,
      partition.parts,
      { lowerParam: partition.lower_param, upperParam: partition.upper_param },
    );
    if (ranges.length <= 1) {
      units.push({ unit: asset.name, asset: asset.name, range: null });
      continue;
    }
    for (const r of ranges) {
      units.push({
        unit: `${asset.name} [${r.key}]`,
        asset: asset.name,
        range: { index: r.index, count: ranges.length, key: r.key, params: r.params },
      });
    }
  }
  return units;
}

/**
 * The asset a unit harvests: bounded to its range (the range's params added, its own
 * `partition:` dropped, since the unit is already one part of it).
 */
export function unitAsset(asset: AssetConfig, unit: UnitSpec): AssetConfig {
  if (unit.range === null) return asset;
  return {
    ...asset,
    params: { ...(asset.params ?? {}), ...unit.range.params },
    partition: undefined,
  };
}
