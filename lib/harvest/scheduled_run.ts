/**
 * `runJob(config, options)`: one fire of a scheduled job (`tidemark schedule`, `Deno.cron` on
 * Deno Deploy) — a harvest with change detection on, so a source that did not change costs one
 * cheap request per asset and the run ends at once. Rejects when an asset failed, so the
 * scheduler logs the fire as failed (Deno.cron then applies its backoff).
 * @module
 */
import type { LoadedConfig } from "../config/load.ts";
import { TidemarkError } from "../errors.ts";
import { harvest, type HarvestOptions, type HarvestResult } from "./run.ts";

/** Options of {@link runJob} (what the scheduler passes, plus any harvest option). */
export interface RunJobOptions extends HarvestOptions {
  /** Stops the run at its next safe point (the scheduler is stopping). */
  signal?: AbortSignal;
  /** What fired the run (`schedule`, `deno.cron`), for the log. @default "schedule" */
  trigger?: string;
  /** The instant the schedule named. */
  scheduledAt?: Date;
}

/**
 * Runs one scheduled harvest of `loaded` with change detection; resolves with the result, or
 * rejects with a {@link TidemarkError} naming the run and its failed assets.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config/load.ts";
 * import { runJob } from "./scheduled_run.ts";
 * const result = await runJob(await loadConfig("jobs/wordpress.yaml"), { trigger: "schedule" });
 * console.log(result.assets.map((a) => `${a.asset}: ${a.status}`));
 * ```
 */
export async function runJob(
  loaded: LoadedConfig,
  options: RunJobOptions = {},
): Promise<HarvestResult> {
  const { signal: _signal, trigger: _trigger, scheduledAt: _scheduledAt, ...rest } = options;
  const result = await harvest(loaded, { detectChanges: true, ...rest });
  if (result.exitCode !== 0) {
    const failed = result.assets.filter((a) => a.status === "failed")
      .map((a) => `${a.asset}: ${a.error ?? "failed"}`);
    throw new TidemarkError(
      `run ${result.runId} of job ${loaded.config.name} ended ${result.status}; ${
        failed.join("; ")
      }`,
    );
  }
  return result;
}
