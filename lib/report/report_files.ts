/**
 * Run reports on disk: {@link writeRunReport} writes `<out>/reports/<run_id>.{json,html}`
 * atomically with secrets masked; {@link readRunReport} reads one back, or rebuilds it from the
 * manifest for a run that never wrote one; {@link listRuns} lists an out folder's runs.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../core/atomic_file.ts";
import { UsageError } from "../core/errors.ts";
import { redactText } from "../core/redact.ts";
import { loadManifest } from "../provenance/manifest.ts";
import { renderHtmlReport } from "./html.ts";
import { type RunReport, runReportSchema } from "./report_model.ts";
import { buildRunReport } from "./run_report.ts";
import { PARSE_ONCE } from "../core/parse_once.ts";

/** Options of {@link writeRunReport}. */
export interface WriteRunReportOptions {
  /** Secret values masked in everything written. @default [] */
  secrets?: Iterable<string>;
  /** Also write the self-contained HTML report. @default true */
  html?: boolean;
}

/** Paths written by {@link writeRunReport}, relative to the out folder. */
export interface WrittenReport {
  /** `reports/<run_id>.json`. */
  json: string;
  /** `reports/<run_id>.html`, when written. */
  html?: string;
}

/**
 * Writes `<out>/reports/<run_id>.json` (and `.html`) atomically, with every known secret and
 * credential pattern masked.
 */
export async function writeRunReport(
  out: string,
  report: RunReport,
  options: WriteRunReportOptions = {},
): Promise<WrittenReport> {
  const secrets = [...(options.secrets ?? [])];
  const safe = runReportSchema.parse(
    JSON.parse(redactText(JSON.stringify(report), secrets)),
    PARSE_ONCE,
  );
  const json = `reports/${safe.run_id}.json`;
  // The HTML is rendered, and both files written, while the JSON's write is in flight: they are
  // the last thing a run does before it exits.
  const jsonWritten = writeFileAtomic(join(out, json), JSON.stringify(safe, null, 2) + "\n");
  if (options.html === false) {
    await jsonWritten;
    return { json };
  }
  const html = `reports/${safe.run_id}.html`;
  let page: string;
  try {
    page = redactText(renderHtmlReport(safe), secrets);
  } catch (error) {
    await jsonWritten.catch(() => {});
    throw error;
  }
  await Promise.all([jsonWritten, writeFileAtomic(join(out, html), page)]);
  return { json, html };
}

/** A run known in an out folder. */
export interface RunListing {
  run_id: string;
  /** Start time (from its report, or its first manifest line). */
  started_at: string;
  /** Whether a written report exists (else only manifest lines). */
  has_report: boolean;
}

/** The runs of an out folder, oldest first: those with a report and those only in the manifest. */
export async function listRuns(out: string): Promise<RunListing[]> {
  const runs = new Map<string, RunListing>();
  try {
    for await (const entry of Deno.readDir(join(out, "reports"))) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      const report = await readReportFile(join(out, "reports", entry.name));
      runs.set(report.run_id, {
        run_id: report.run_id,
        started_at: report.started_at,
        has_report: true,
      });
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const { entries } = await loadManifest(join(out, "manifest.jsonl"));
  for (const { record } of entries) {
    if (runs.has(record.run_id)) continue;
    runs.set(record.run_id, {
      run_id: record.run_id,
      started_at: record.timestamp,
      has_report: false,
    });
  }
  return [...runs.values()].sort((a, b) =>
    a.started_at.localeCompare(b.started_at) || a.run_id.localeCompare(b.run_id)
  );
}

async function readReportFile(path: string): Promise<RunReport> {
  const result = runReportSchema.safeParse(JSON.parse(await Deno.readTextFile(path)));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UsageError(
      `${path} is not a run report (${issue.path.join(".")}: ${issue.message}); ` +
        "delete it to rebuild the report from the manifest",
    );
  }
  return result.data;
}

/**
 * The report of run `runId` (default: the latest run) of an out folder: the written report, or
 * one rebuilt from the manifest when the run never wrote one. Throws {@link UsageError} when the
 * folder has no runs or not that one.
 */
export async function readRunReport(out: string, runId?: string): Promise<RunReport> {
  const stat = await Deno.stat(out).catch(() => null);
  if (!stat?.isDirectory) {
    throw new UsageError(`out folder "${out}" does not exist; pass the --out of a harvest`);
  }
  const runs = await listRuns(out);
  if (runs.length === 0) {
    throw new UsageError(`"${out}" has no runs yet (no reports/ and no manifest.jsonl lines)`);
  }
  const wanted = runId ?? runs[runs.length - 1].run_id;
  const run = runs.find((r) => r.run_id === wanted);
  if (!run) {
    const known = runs.slice(-5).map((r) => r.run_id).join(", ");
    throw new UsageError(`no run "${wanted}" in "${out}"; latest runs: ${known}`);
  }
  if (run.has_report) return await readReportFile(join(out, "reports", `${wanted}.json`));
  const { entries } = await loadManifest(join(out, "manifest.jsonl"));
  return buildRunReport(wanted, entries.map((e) => e.record));
}
