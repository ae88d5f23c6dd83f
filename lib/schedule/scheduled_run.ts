/**
 * `runJob(config, options)`: one fire of a scheduled job (`tidemark schedule`, `Deno.cron` on
 * Deno Deploy) — a harvest with change detection on, so a source that did not change costs one
 * cheap request per asset and the run ends at once. Rejects when an asset failed, so the
 * scheduler logs the fire as failed (Deno.cron then applies its backoff).
 * @module
 */
import { dirname } from "node:path";
import type { LoadedConfig } from "../config/load.ts";
import { TidemarkError } from "../core/errors.ts";
import { runExtractStep } from "../sql/extract_step.ts";
import { harvest, type HarvestOptions, type HarvestResult } from "../harvest/run.ts";

/** Options of {@link runJob} (what the scheduler passes, plus any harvest option). */
export interface RunJobOptions extends HarvestOptions {
  /** Stops the run at its next safe point (the scheduler is stopping). */
  signal?: AbortSignal;
  /** What fired the run (`schedule`, `deno.cron`), for the log. @default "schedule" */
  trigger?: string;
  /** The instant the schedule named. */
  scheduledAt?: Date;
  /** Also run the config's `extract:` steps, after the harvest, into the same out folder. @default false */
  extract?: boolean;
}

/**
 * Runs one scheduled harvest of `loaded` with change detection (and, with `extract`, the config's
 * `extract:` steps); resolves with the harvest's result (null for a job of extract steps only), or
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
): Promise<HarvestResult | null> {
  const { trigger: _trigger, scheduledAt: _scheduledAt, extract, ...rest } = options;
  const config = loaded.config;
  // A job of extract steps alone (no asset) has no harvest to run.
  const result = config.assets.length > 0 || !extract
    ? await harvest(loaded, { detectChanges: true, ...rest })
    : null;
  const failed = (result?.assets ?? []).filter((a) => a.status === "failed")
    .map((a) => `${a.asset}: ${a.error ?? "failed"}`);
  if (extract) {
    const out = rest.out ?? config.out ?? "out";
    // Relative db and query paths are the config file's neighbours.
    const baseDir = loaded.source === "flags" ? Deno.cwd() : dirname(loaded.source);
    for (const step of config.extract ?? []) {
      if (options.signal?.aborted) break;
      try {
        await runExtractStep(step, { out, baseDir });
      } catch (error) {
        failed.push(`${step.name}: ${(error as Error).message}`);
      }
    }
  }
  if (result === null) {
    if (failed.length > 0) {
      throw new TidemarkError(`job ${config.name}: extract step(s) failed; ${failed.join("; ")}`);
    }
    return null;
  }
  if (result.exitCode !== 0 || failed.length > 0) {
    throw new TidemarkError(
      `run ${result.runId} of job ${loaded.config.name} ended ${result.status}; ${
        failed.join("; ")
      }`,
    );
  }
  return result;
}
