/**
 * A harvest spread over workers: {@link enqueueHarvest} plans the run (the config's assets, one
 * unit each, or one per key range of a split asset) and enqueues it; {@link followRun} waits, woken by the workers' notifications, until
 * every unit ended, and says how the run ended, with the exit code of a local run.
 * @module
 */
import { resolve } from "node:path";
import pg from "pg";
import type { Env, LoadedConfig } from "../config/load.ts";
import { UsageError } from "../core/errors.ts";
import { selectAssets } from "../harvest/plan.ts";
import type { FetchFunction } from "../http/fetch_resilient.ts";
import { newRunId } from "../core/stamps.ts";
import { parseBucketUrl } from "../object_store/bucket.ts";
import { planUnits } from "./split.ts";
import { isBucketOut } from "./unit_out.ts";
import {
  FINAL_STATUSES,
  type Queue,
  type RunSpec,
  UNIT_CHANNEL,
  type UnitRow,
  unitsOf,
} from "./store.ts";

/** Options of {@link enqueueHarvest}. */
export interface EnqueueOptions {
  /** The run's out: a folder shared by every worker, or `s3://BUCKET/PREFIX`. */
  out: string;
  /** Only these assets. @default every asset */
  assets?: string[];
  /** `--full-refresh`. */
  fullRefresh?: boolean;
  /** `--since`. */
  since?: string;
  /** `--direction`. */
  direction?: string;
  /** `--base-url`. */
  baseUrl?: string;
  /** Seconds without a heartbeat before a unit goes to another worker. @default 30 */
  leaseSeconds?: number;
  /** The run id. @default newRunId() */
  runId?: string;
  /** `--split N`: key-range units per splittable asset. @default each asset's `partition.parts` */
  split?: number;
  /** The transport of the key-range probes. @default globalThis.fetch */
  fetch?: FetchFunction;
  /** Environment an `s3://` out is checked against (`AWS_*`). @default Deno.env.toObject() */
  env?: Env;
}

/**
 * The run's out as every worker reads it: an absolute path on the shared folder, or
 * `s3://BUCKET/PREFIX` (checked here, so a missing `AWS_*` variable fails the enqueue, naming
 * it, rather than every unit).
 */
function outOf(out: string, env: Env = Deno.env.toObject()): string {
  if (!isBucketOut(out)) return resolve(out);
  parseBucketUrl(out, env, "--out");
  return out.replace(/\/+$/, "");
}

/**
 * Plans a run of `loaded` (its file must be on the folder the workers share) and enqueues one
 * unit per asset, or per key range of an asset with a key-range `partition:` (or, with `split`,
 * a one-column primary key): the key span is probed here, once; returns the run.
 *
 * @example
 * ```ts
 * const queue = await Queue.open("postgres://etl@db/ops");
 * const spec = await enqueueHarvest(queue, await loadConfig("jobs/northwind.yaml"), { out: "/shared/out" });
 * const end = await followRun(queue, spec.runId);
 * ```
 */
export async function enqueueHarvest(
  queue: Queue,
  loaded: LoadedConfig,
  options: EnqueueOptions,
): Promise<RunSpec> {
  if (loaded.source === "flags") {
    throw new UsageError("--queue needs --config FILE on a folder every worker can read");
  }
  const assets = selectAssets(loaded.config.assets, { only: options.assets });
  const children = assets.filter((a) => a.for_each !== undefined);
  if (children.length > 0) {
    throw new UsageError(
      `--queue runs each asset on its own; ${
        children.map((a) => `"${a.name}"`).join(", ")
      } take their parameters from another asset (for_each): harvest them without --queue`,
    );
  }
  const out = outOf(options.out, options.env);
  const spec: RunSpec = {
    runId: options.runId ?? newRunId(),
    config: resolve(loaded.source),
    out,
    assets: assets.map((a) => a.name),
    units: await planUnits(loaded, assets, {
      split: options.split,
      baseUrl: options.baseUrl,
      fetch: options.fetch,
      previous: (asset) => queue.lastRanges(out, asset),
    }),
    options: {
      fullRefresh: options.fullRefresh,
      since: options.since,
      direction: options.direction,
      baseUrl: options.baseUrl,
    },
  };
  await queue.enqueueRun(spec, { leaseSeconds: options.leaseSeconds ?? 30 });
  return spec;
}

/** How a followed run ended. */
export interface RunEnd {
  /** The run. */
  runId: string;
  /** Its units. */
  units: UnitRow[];
  /** `succeeded`, `partial` (some units failed) or `failed` (all failed). */
  status: "succeeded" | "partial" | "failed";
  /** 0 when no unit failed, 1 otherwise (as a local run). */
  exitCode: number;
}

/** Options of {@link followRun}. */
export interface FollowOptions {
  /** Called whenever a unit changed. */
  onChange?: (units: UnitRow[]) => void;
  /** Re-read this often even without a notification (a killed worker notifies nothing), ms. @default 2000 */
  backstopMs?: number;
  /** Stops following (the run goes on in the workers). */
  signal?: AbortSignal;
}

/** Waits until every unit of `runId` ended. */
export async function followRun(
  queue: Queue,
  runId: string,
  options: FollowOptions = {},
): Promise<RunEnd> {
  const listener = new pg.Client({ connectionString: queue.url });
  listener.on("error", () => {});
  await listener.connect();
  let wake: () => void = () => {};
  listener.on("notification", (message: pg.Notification) => {
    if (message.payload === runId) wake();
  });
  await listener.query(`LISTEN ${UNIT_CHANNEL}`);
  try {
    let last = "";
    while (true) {
      options.signal?.throwIfAborted();
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      await queue.settleDeadUnits(runId);
      const units = await queue.units(runId);
      const seen = JSON.stringify(units);
      if (seen !== last) {
        last = seen;
        options.onChange?.(units);
      }
      if (units.every((u) => FINAL_STATUSES.has(u.status))) return endOf(runId, units);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        woken,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.backstopMs ?? 2000);
        }),
      ]);
      clearTimeout(timer);
    }
  } finally {
    await listener.end().catch(() => {});
  }
}

/** An asset of a run and whether it is complete: every one of its units ended ok or unchanged. */
export interface AssetProgress {
  /** The asset. */
  asset: string;
  /** Its units (one, or one per key range). */
  units: number;
  /** Units that ended ok or unchanged. */
  done: number;
  /** Whether every unit committed. */
  complete: boolean;
}

/** Per asset of `spec`: how many of its units committed (an asset is complete when all did). */
export function assetProgress(spec: RunSpec, units: readonly UnitRow[]): AssetProgress[] {
  const status = new Map(units.map((u) => [u.asset, u.status]));
  const out = new Map<string, AssetProgress>();
  for (const unit of unitsOf(spec)) {
    const p = out.get(unit.asset) ?? { asset: unit.asset, units: 0, done: 0, complete: false };
    p.units += 1;
    const s = status.get(unit.unit);
    if (s === "ok" || s === "unchanged") p.done += 1;
    p.complete = p.done === p.units;
    out.set(unit.asset, p);
  }
  return [...out.values()];
}

/**
 * One line per run: each asset, complete or how many of its units committed; an asset with one
 * unit only when it is not complete (its unit's row says the rest).
 */
export function renderAssets(progress: readonly AssetProgress[]): string {
  return "assets: " +
    progress.map((p) =>
      p.complete
        ? `${p.asset} complete${p.units > 1 ? ` (${p.units} key ranges)` : ""}`
        : `${p.asset} ${p.done}/${p.units} unit(s) committed`
    ).join(", ");
}

/** The status and exit code of a run whose units all ended. */
export function endOf(runId: string, units: UnitRow[]): RunEnd {
  const failed = units.filter((u) => u.status === "failed").length;
  return {
    runId,
    units,
    status: failed === 0 ? "succeeded" : failed === units.length ? "failed" : "partial",
    exitCode: failed === 0 ? 0 : 1,
  };
}

/** The units of a run as a table: unit (asset or key range), status, attempts, pages, rows, worker, output/error. */
export function renderUnits(units: readonly UnitRow[]): string {
  const rows = [["unit", "status", "attempts", "pages", "rows", "worker", "output / error"]];
  for (const u of units) {
    rows.push([
      u.asset,
      u.status,
      String(u.attempts),
      u.pages === null ? "-" : String(u.pages),
      u.rows === null ? "-" : String(u.rows),
      u.worker ?? "-",
      u.error ?? u.output ?? "-",
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}
