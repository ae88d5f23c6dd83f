/**
 * `tidemark harvest`: harvests the assets of a config (or one asset described by flags) into an
 * out folder — Parquet, raw snapshots, `manifest.jsonl`, `state.sqlite`, a run report — then
 * prints the report and where everything is. Exit 0 when every asset succeeded (or was skipped
 * for a rate limit, to be taken first next run), 1 when any asset failed (the others still
 * complete and commit), 2 for bad input (every config problem listed, before any request).
 * @module
 */
import { describeRun } from "../harvest/dry_run.ts";
import { harvest, type HarvestResult } from "../harvest/run.ts";
import { renderTextReport } from "../report/text.ts";
import type { Command } from "./args.ts";
import { parseHarvestArgs, spec } from "./harvest_args.ts";
import { takeQueueFlags } from "./queue_flags.ts";
import { UsageError } from "../core/errors.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { HarvestOptions } from "../harvest/run.ts";

export { type HarvestInvocation, parseHarvestArgs } from "./harvest_args.ts";

/** The `harvest` command. */
export const command: Command = {
  spec,
  async run(args: string[]): Promise<number> {
    const { flags: queued, rest } = takeQueueFlags(args);
    const { loaded, options, quiet, dryRun } = await parseHarvestArgs(rest);
    if (queued.queue !== undefined && !dryRun) {
      return await harvestOnQueue(queued.queue, loaded, options, {
        detach: queued.detach,
        leaseSeconds: queued.leaseSeconds,
        split: queued.split,
      });
    }
    const out = options.out ?? loaded.config.out;
    if (!dryRun && out?.startsWith("s3://")) {
      throw new UsageError(
        `--out ${out} is a folder of object storage, which only a queued harvest writes ` +
          "(add --queue postgres://…; its workers harvest into it); a local harvest writes a " +
          "local folder (upload its files with output.destination: s3://…)",
      );
    }
    if (dryRun) {
      console.log(describeRun(loaded, options));
      return 0;
    }
    const result = await harvest(loaded, options);
    console.log(quiet ? summaryLine(result) : describeResult(result));
    return result.exitCode;
  },
};

/** One line: run, status, counts. */
function summaryLine(result: HarvestResult): string {
  const t = result.report.totals;
  return `harvest ${result.runId} ${result.status}: ${t.pages} pages, ${t.records} records, ` +
    `${result.assets.reduce((n, a) => n + a.rows, 0)} rows written into ${result.out}`;
}

/** The text report, then where every output is. */
export function describeResult(result: HarvestResult): string {
  const lines = [renderTextReport(result.report), "", `outputs in ${result.out}/:`];
  for (const asset of result.assets) {
    if (asset.output) {
      lines.push(
        `  ${asset.output}/  ${asset.asset}: ${asset.rows} rows written this run (${asset.status})`,
      );
    }
  }
  lines.push(`  raw/<asset>/${result.runId}/  response snapshots of this run`);
  lines.push("  manifest.jsonl  one line per response (sha256, params, cursors, outputs)");
  lines.push(
    `  ${
      result.statePath.startsWith(result.out)
        ? result.statePath.slice(result.out.length + 1)
        : result.statePath
    }  watermarks, runs, committed pages, skips`,
  );
  if (result.reportPaths) {
    lines.push(
      `  ${result.reportPaths.json}${
        result.reportPaths.html ? `, ${result.reportPaths.html}` : ""
      }  this run's report`,
    );
  } else {
    lines.push("  nothing: the run failed before writing anything (out/ and state unchanged)");
  }
  if (result.crashedRuns.length > 0) {
    lines.push(
      `resumed after run(s) ${
        result.crashedRuns.join(", ")
      } (${result.adoptedPages} page(s) adopted)`,
    );
  }
  return lines.join("\n");
}

/**
 * A harvest spread over `tidemark worker`s: enqueue one unit per asset (or key range), then follow the run to
 * its end (or print its id at once with `detach`); exit code as a local run.
 */
async function harvestOnQueue(
  url: string,
  loaded: LoadedConfig,
  options: HarvestOptions,
  queued: { detach: boolean; leaseSeconds: number; split?: number },
): Promise<number> {
  const { Queue } = await import("../queue/store.ts");
  const { assetProgress, enqueueHarvest, followRun, renderAssets, renderUnits } = await import(
    "../queue/run.ts"
  );
  const queue = await Queue.open(url, { supervise: false });
  try {
    const spec = await enqueueHarvest(queue, loaded, {
      out: options.out ?? loaded.config.out ?? "out",
      assets: options.assets,
      fullRefresh: options.fullRefresh,
      since: options.since,
      direction: options.direction,
      baseUrl: options.baseUrl,
      leaseSeconds: queued.leaseSeconds,
      split: queued.split,
      fetch: options.fetch,
    });
    if (queued.detach) {
      console.log(spec.runId);
      return 0;
    }
    console.error(
      `run ${spec.runId}: ${
        spec.units?.length ?? spec.assets.length
      } unit(s) queued on ${queue.description}`,
    );
    const end = await followRun(queue, spec.runId, {
      onChange: (units) =>
        console.error(
          units.map((u) => `${u.asset}: ${u.status}${u.worker ? ` (${u.worker})` : ""}`).join(", "),
        ),
    });
    console.log(
      `harvest ${end.runId} ${end.status} into ${spec.out}/units/\n${renderUnits(end.units)}\n${
        renderAssets(assetProgress(spec, end.units))
      }`,
    );
    return end.exitCode;
  } finally {
    await queue.close();
  }
}
