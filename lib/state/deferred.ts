/**
 * A state store whose writes wait for a first step: a run records itself (its run row, its
 * config stamp) only when it is about to change something. A run that fails before its first
 * write — a bad response on the first page, a refused token — leaves state as it found it.
 * @module
 */
import type { StateStore } from "./mod.ts";

/** The methods of {@link StateStore} that change it (run rows are the caller's). */
const WRITES = [
  "setWatermark",
  "commitPage",
  "commitPages",
  "completeAsset",
  "recordSkip",
  "clearSkip",
  "resetAsset",
] as const satisfies readonly (keyof StateStore)[];

/** Options of {@link deferWrites}. */
export interface DeferWritesOptions {
  /** `startRun` and `finishRun` wait for `before()` too. @default false (they go straight through) */
  runRows?: boolean;
  /** What `close()` does instead of closing `store` (whose owner then closes it). */
  close?: () => Promise<void>;
}

/**
 * Wraps `store` so that each write first awaits `before()` (which the caller makes idempotent,
 * e.g. a memoized promise that starts the run, or serializes, e.g. a flush of the Deploy
 * mirror). Reads go straight through; so do `startRun`, `finishRun` and `close` unless
 * `options` says otherwise.
 *
 * @example
 * ```ts
 * import { deferWrites } from "./deferred.ts";
 * import { openSqliteState } from "./sqlite.ts";
 * const store = openSqliteState(":memory:");
 * let started: Promise<void> | undefined;
 * const run = deferWrites(store, () => started ??= store.startRun({
 *   runId: "r1", startedAt: new Date().toISOString(), configSha256: "", command: "harvest",
 *   assets: ["Orders"],
 * }));
 * await run.setWatermark({ assetId: "Orders", lastId: "5" }); // the run row is written first
 * ```
 */
export function deferWrites(
  store: StateStore,
  before: () => Promise<void>,
  options: DeferWritesOptions = {},
): StateStore {
  const wrapped: StateStore = {
    getWatermark: (assetId, dataType) => store.getWatermark(assetId, dataType),
    listWatermarks: () => store.listWatermarks(),
    startRun: (run) => store.startRun(run),
    finishRun: (runId, result) => store.finishRun(runId, result),
    listRuns: (limit) => store.listRuns(limit),
    resumePoint: (assetId, partition) => store.resumePoint(assetId, partition),
    pendingPages: (assetId) => store.pendingPages(assetId),
    committedOutputs: (assetId) => store.committedOutputs(assetId),
    listSkips: () => store.listSkips(),
    close: options.close ?? (() => store.close()),
  } as StateStore;
  const writes = options.runRows ? [...WRITES, "startRun", "finishRun"] as const : WRITES;
  for (const name of writes) {
    // deno-lint-ignore no-explicit-any
    const write = (store[name] as (...args: any[]) => Promise<void>).bind(store);
    // deno-lint-ignore no-explicit-any
    (wrapped as any)[name] = async (...args: any[]) => {
      await before();
      return await write(...args);
    };
  }
  return wrapped;
}
