/**
 * The plan of a run, before any request: which assets run and in what order (assets skipped for
 * a rate limit last time go first), and where each incremental asset starts, by
 * precedence `--full-refresh` > `--since` > the watermark in state > the newest `load_date=`
 * partition found in the output > the configured `initial`,
 * with the reason recorded for the report. Lookback and the future-watermark clamp are applied
 * here. Pure: state values and the clock come in as arguments.
 * @module
 */
import type { AssetConfig } from "../config/schema.ts";
import { ConfigError, StateError, UsageError } from "../core/errors.ts";
import type { StartDecision } from "../report/report_model.ts";
import {
  applyLookback,
  clampFuture,
  normalizeWatermark,
  type WatermarkKind,
} from "../state/watermark.ts";
import type { WireSample, WireSamples } from "./watermark_wire.ts";
import { watermarkKind } from "../pipeline/watermark_tracker.ts";

/** Which way a run walks a timeline: newer than `X` (forward) or older than `X_oldest` (backfill). */
export type Direction = "forward" | "backfill";

/** The `data_type` of the watermark rows of an asset. */
export const WATERMARK_TYPES = {
  /** Plain incremental assets. */
  default: "default",
  /** Timelines: the newest id seen. */
  newest: "X",
  /** Timelines: the oldest id seen (the backfill frontier). */
  oldest: "X_oldest",
} as const;

/** What state holds for an asset, as {@link decideStart} needs it. */
export interface StoredWatermarks {
  /** The watermark (`default`, or `X` for timelines): a normalized timestamp or an id. */
  newest: string | null;
  /** Timelines: `X_oldest`. */
  oldest: string | null;
  /** The newest value of the last complete run as the source wrote it (from its boundary). */
  sample?: WireSample | null;
}

/** Options of {@link decideStart}. */
export interface DecideStartOptions {
  /** `--full-refresh`: ignore the stored watermark. @default false */
  fullRefresh?: boolean;
  /** `--since VALUE`: start from this value. */
  since?: string;
  /** `--direction`. @default "forward" */
  direction?: Direction;
  /** The run's clock reading (future watermarks are clamped to it). @default new Date() */
  now?: Date;
  /** The newest `load_date=` partition found in the output (lib/harvest/output_start.ts), used when state has no watermark. @default null */
  output?: { date: string; where: string } | null;
}

/** Where an asset starts. */
export interface AssetStart {
  /** The decision, for the report. */
  decision: StartDecision;
  /** The lower bound sent (`>=`), normalized, after lookback and clamp; null for everything. */
  watermark: string | null;
  /** Timelines: fetch newer than this id. */
  sinceId: string | null;
  /** Timelines: fetch older than this id (backfill). */
  untilId: string | null;
  /** Drop the rows the previous run wrote at its boundary (false on a full refresh). */
  dedupe: boolean;
  /** Things to warn about (a clamped watermark). */
  warnings: string[];
  /** What the watermark's wire form is learned from (`param_format: auto`). */
  samples?: WireSamples;
}

/** True for a timeline asset (its watermarks are `X` / `X_oldest`). */
export function isTimeline(asset: AssetConfig): boolean {
  return asset.pagination.type === "timeline";
}

/**
 * Decides where one asset starts.
 *
 * @example
 * ```ts
 * import { decideStart } from "./plan.ts";
 * decideStart(asset, { newest: "1998-05-06T00:00:00.000Z", oldest: null }, {}).decision;
 * // { source: "state", value: "1998-05-06T00:00:00.000Z", reason: "watermark ... in state" }
 * ```
 */
export function decideStart(
  asset: AssetConfig,
  stored: StoredWatermarks,
  options: DecideStartOptions = {},
): AssetStart {
  const inc = asset.incremental;
  const direction = options.direction ?? "forward";
  const none: AssetStart = {
    decision: { source: "none", value: null, reason: "not incremental: every page" },
    watermark: null,
    sinceId: null,
    untilId: null,
    dedupe: false,
    warnings: [],
  };
  if (!inc) {
    if (direction === "backfill") throw backfillNeedsTimeline(asset);
    return none;
  }
  const kind = watermarkKind(asset);
  const lookback = inc.lookback;
  const withLookback = (value: string) =>
    lookback ? applyLookback(value, lookback, { kind }) : value;
  const lookbackNote = lookback ? ` (lookback ${lookback})` : "";

  if (isTimeline(asset)) {
    if (direction === "backfill") {
      if (options.fullRefresh || options.since !== undefined) {
        throw new UsageError(
          `--direction backfill continues below X_oldest; it takes neither --full-refresh nor --since (asset "${asset.name}")`,
        );
      }
      if (stored.oldest === null) {
        throw new StateError(
          `cannot backfill "${asset.name}": there is no X_oldest watermark in state yet; run a forward harvest first (--direction forward)`,
        );
      }
      return {
        ...none,
        decision: {
          source: "state",
          value: stored.oldest,
          reason: `backfill: older than X_oldest ${stored.oldest}`,
        },
        untilId: stored.oldest,
        dedupe: true,
      };
    }
    const pick = pickStart(asset, stored.newest, options, kind);
    if (pick === null) return { ...none, decision: noStart(asset) };
    const since = withLookback(pick.value);
    return {
      ...none,
      decision: {
        source: pick.source,
        value: pick.value,
        reason: `${pick.reason}: newer than id ${since}${lookbackNote}`,
      },
      sinceId: since,
      dedupe: pick.source !== "full_refresh",
    };
  }

  if (direction === "backfill") throw backfillNeedsTimeline(asset);
  const pick = pickStart(asset, stored.newest, options, kind);
  if (pick === null) {
    return { ...none, decision: noStart(asset), dedupe: !options.fullRefresh };
  }
  const warnings: string[] = [];
  let value = pick.value;
  if (kind === "timestamp" && (pick.source === "state" || pick.source === "since")) {
    const clamped = clampFuture(value, options.now ?? new Date(), { assetId: asset.name });
    if (clamped.warning) warnings.push(clamped.warning);
    value = clamped.value;
  }
  const watermark = withLookback(value);
  const userText = pick.source === "since"
    ? options.since
    : pick.source === "initial" || pick.source === "full_refresh"
    ? inc.initial
    : undefined;
  return {
    samples: {
      source: stored.sample ?? null,
      user: userText === undefined ? null : { value: pick.value, raw: userText },
    },
    decision: {
      source: pick.source,
      value: pick.value,
      reason: `${pick.reason}: ${inc.cursor_field} >= ${watermark}${lookbackNote}`,
    },
    watermark,
    sinceId: null,
    untilId: null,
    dedupe: pick.source !== "full_refresh",
    warnings,
  };
}

interface Pick {
  source: StartDecision["source"];
  value: string;
  reason: string;
}

function pickStart(
  asset: AssetConfig,
  stored: string | null,
  options: DecideStartOptions,
  kind: WatermarkKind,
): Pick | null {
  const initial = asset.incremental?.initial;
  if (options.fullRefresh) {
    if (initial === undefined) return null;
    return {
      source: "full_refresh",
      value: normalize(initial, kind, `assets "${asset.name}" incremental.initial`),
      reason: "--full-refresh from incremental.initial",
    };
  }
  if (options.since !== undefined) {
    return {
      source: "since",
      value: normalize(options.since, kind, "--since"),
      reason: "--since",
    };
  }
  if (stored !== null) {
    return { source: "state", value: stored, reason: "watermark in state" };
  }
  if (options.output && kind === "timestamp" && !isTimeline(asset)) {
    return {
      source: "output",
      value: normalize(options.output.date, kind, `load_date= partition ${options.output.where}`),
      reason: `no watermark in state; newest partition in the output is ${options.output.where}`,
    };
  }
  if (initial !== undefined) {
    return {
      source: "initial",
      value: normalize(initial, kind, `asset "${asset.name}" incremental.initial`),
      reason: "no state yet: incremental.initial",
    };
  }
  return null;
}

function noStart(asset: AssetConfig): StartDecision {
  return {
    source: "none",
    value: null,
    reason: `no watermark in state and no incremental.initial: every page of "${asset.name}"`,
  };
}

function normalize(value: string, kind: WatermarkKind, what: string): string {
  try {
    return normalizeWatermark(value, kind);
  } catch (error) {
    throw new UsageError(
      `${what} "${value}" is not ${kind === "id" ? "a whole-number id" : "a timestamp"}: ${
        (error as Error).message
      }`,
    );
  }
}

function backfillNeedsTimeline(asset: AssetConfig): ConfigError {
  return new ConfigError("--direction backfill cannot run this asset", [{
    path: `asset "${asset.name}"`,
    message:
      "backfill walks a timeline below its X_oldest watermark; it needs pagination.type timeline and incremental (or pick assets with --asset)",
  }]);
}

/** Options of {@link selectAssets}. */
export interface SelectAssetsOptions {
  /** `--asset` names; all assets when empty. @default [] */
  only?: readonly string[];
  /** Assets skipped by an earlier run, oldest first: they go first. @default [] */
  skipped?: readonly string[];
}

/**
 * The assets a run harvests, skipped ones first, then in config order. Unknown `--asset` names
 * are a {@link ConfigError} listing the known ones.
 *
 * @example
 * ```ts
 * import { selectAssets } from "./plan.ts";
 * selectAssets(config.assets, { skipped: ["Order Details"] }).map((a) => a.name);
 * // ["Order Details", "Orders"]
 * ```
 */
export function selectAssets(
  assets: readonly AssetConfig[],
  options: SelectAssetsOptions = {},
): AssetConfig[] {
  const only = options.only ?? [];
  const unknown = only.filter((name) => !assets.some((a) => a.name === name));
  if (unknown.length > 0) {
    throw new ConfigError(
      "unknown asset",
      unknown.map((name) => ({
        path: "--asset",
        message: `no asset named "${name}" in the config; known: ${
          assets.map((a) => a.name).join(", ")
        }`,
      })),
    );
  }
  const chosen = only.length > 0 ? assets.filter((a) => only.includes(a.name)) : [...assets];
  const skipped = options.skipped ?? [];
  const rank = (a: AssetConfig) => {
    const i = skipped.indexOf(a.name);
    return i < 0 ? skipped.length : i;
  };
  return chosen
    .map((asset, i) => ({ asset, i }))
    .sort((x, y) => rank(x.asset) - rank(y.asset) || x.i - y.i)
    .map((x) => x.asset);
}
