/**
 * `harvest --dry-run`: what a run would do, read from the config alone — each asset's request,
 * pagination, where its records are, where an incremental asset starts, how its rows join the
 * earlier output (the write mode and why), and whether it is checked for changes first. No
 * request is sent, no state is opened, nothing is written.
 * @module
 */
import type { LoadedConfig } from "../config/load.ts";
import { type AssetConfig, writeModeOf } from "../config/schema.ts";
import { buildUrl } from "../http/request.ts";
import { redactUrl } from "../core/redact.ts";
import { absoluteUrl } from "./asset_run.ts";
import { changeMode } from "./change_detection.ts";
import { selectAssets } from "./plan.ts";
import type { HarvestOptions } from "./run.ts";

/**
 * The dry-run description of a harvest, one block per asset.
 *
 * @example
 * ```ts
 * import { describeRun } from "./dry_run.ts";
 * console.log(describeRun(loaded, { out: "out", detectChanges: true }));
 * ```
 */
export function describeRun(loaded: LoadedConfig, options: HarvestOptions): string {
  const config = loaded.config;
  const out = options.out ?? config.out ?? "out";
  const assets = selectAssets(config.assets, { only: options.assets });
  const baseUrl = options.baseUrl ?? config.base_url;
  const lines = [
    `dry run: ${assets.length} asset(s) of "${config.name}" into ${out}/ ` +
    "(nothing is sent, nothing is written)",
  ];
  for (const asset of assets) {
    lines.push("", asset.name);
    const row = (label: string, text: string) => lines.push(`  ${label.padEnd(13)}${text}`);
    const url = buildUrl({ url: absoluteUrl(asset.path, baseUrl), params: asset.params });
    row("request", `${asset.method} ${redactUrl(url, loaded.secretValues)}`);
    row("pagination", pagination(asset));
    row("records", asset.data_path === "" ? "the body (a bare list)" : `at ${asset.data_path}`);
    if (asset.incremental) row("incremental", incremental(asset, options));
    if (asset.for_each) row("for each", `record of "${asset.for_each}"`);
    const mode = writeModeOf(asset);
    const key = asset.primary_key ? ` on ${asset.primary_key.join(", ")}` : "";
    row("write mode", `${mode.mode}${mode.mode === "merge" ? key : ""} (${mode.reason})`);
    const by = asset.output.partition_by?.length
      ? `, partitioned by ${asset.output.partition_by.join(", ")}`
      : "";
    row("output", `${asset.output.format}${by}`);
    row("changes", changeCheck(asset, options));
  }
  return lines.join("\n");
}

function pagination(asset: AssetConfig): string {
  const p = asset.pagination as Record<string, unknown> & { type: string };
  const details = Object.entries(p).filter(([k]) => k !== "type")
    .map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`);
  return details.length > 0 ? `${p.type} (${details.join(", ")})` : p.type;
}

function incremental(asset: AssetConfig, options: HarvestOptions): string {
  const inc = asset.incremental!;
  const start = options.fullRefresh
    ? `--full-refresh: from ${inc.initial ?? "the beginning"}`
    : options.since !== undefined
    ? `--since ${options.since}`
    : `from the watermark in state, else ${
      inc.initial === undefined ? "every page" : `initial ${inc.initial}`
    }`;
  const param = inc.param
    ? ` sent as ${inc.param}${
      inc.kind === "timestamp" ? ` (param_format ${inc.param_format})` : ""
    }`
    : "";
  return `${inc.cursor_field} >= watermark (${inc.kind})${param}; ${start}` +
    (inc.lookback ? `, lookback ${inc.lookback}` : "");
}

function changeCheck(asset: AssetConfig, options: HarvestOptions): string {
  if (!options.detectChanges) return "off: every page is fetched";
  if (options.fullRefresh || options.since !== undefined) {
    return "off for this run (--full-refresh/--since)";
  }
  const mode = changeMode(asset);
  if (mode === "off") return "off (change_detection.mode off)";
  if (asset.for_each) return "none: a for_each asset runs every time";
  return mode === "latest"
    ? "one request for the newest record; the asset runs only if it is newer than the watermark"
    : "the last run's pages again with If-None-Match; the asset runs only if one changed";
}
