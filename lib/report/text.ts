/**
 * The run report as a compact text table for a terminal: one line per asset with its counts and
 * starting point, a total line, then errors, skips and notes.
 * @module
 */
import { ASSET_TABLE_HEADINGS, formatFigures } from "./asset_table.ts";
import type { RunReport } from "./report_model.ts";
import { formatSeconds } from "../core/units.ts";

/**
 * Renders a run report as a text table.
 *
 * @example
 * ```ts
 * import { renderTextReport } from "./text.ts";
 * import { readRunReport } from "./report_files.ts";
 * console.log(renderTextReport(await readRunReport("demo-out")));
 * ```
 */
export function renderTextReport(report: RunReport): string {
  const header = [...ASSET_TABLE_HEADINGS];
  const rows = report.assets.map((a) => [
    a.asset,
    a.status,
    ...formatFigures(a),
    a.start ? `${a.start.source}: ${a.start.reason}` : "-",
  ]);
  const t = report.totals;
  rows.push([`total (${t.assets})`, report.status, ...formatFigures(t), ""]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // Names and words left-aligned, numbers right-aligned; the last column is not padded.
  const left = new Set([0, 1, header.length - 1]);
  const line = (cells: string[]) =>
    cells.map((c, i) =>
      i === cells.length - 1 ? c : left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])
    ).join("  ").trimEnd();
  const out = [
    `run ${report.run_id}  ${report.status}  ${
      formatSeconds(report.seconds)
    }  started ${report.started_at}`,
    "",
    line(header),
    ...rows.slice(0, -1).map(line),
    widths.map((w, i) => (i === widths.length - 1 ? "" : "-".repeat(w))).join("  ").trimEnd(),
    line(rows[rows.length - 1]),
  ];
  const problems: string[] = [];
  for (const a of report.assets) {
    for (const e of a.errors) problems.push(`  error   ${a.asset}: ${e}`);
    for (const f of a.failed_pages ?? []) {
      const where = `page ${f.page}${f.partition ? ` of ${f.partition}` : ""}` +
        (f.cursor === null ? "" : ` (cursor ${f.cursor})`);
      problems.push(`  failed  ${a.asset}: ${where}: ${f.error}`);
    }
    for (const s of a.skip_reasons) problems.push(`  skipped ${a.asset}: ${s}`);
    for (const n of a.notes) problems.push(`  note    ${a.asset}: ${n}`);
  }
  if (problems.length > 0) out.push("", ...problems);
  return out.join("\n");
}
