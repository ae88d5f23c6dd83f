/**
 * The columns of the per-asset table, shared by the text and the HTML report so both show the
 * same figures, formatted the same way, under the same headings.
 * @module
 */
import type { AssetReport } from "./report_model.ts";
import { formatBytes, formatCount, formatSeconds } from "../core/units.ts";

/** The counters an asset's line and the totals line both show. */
export type TableFigures = Pick<
  AssetReport,
  | "pages"
  | "records"
  | "rejects"
  | "retries"
  | "status_429"
  | "status_304"
  | "skips"
  | "bytes"
  | "seconds"
>;

/** Headings: asset and status, one per {@link formatFigures} column, then the starting point. */
export const ASSET_TABLE_HEADINGS: readonly string[] = [
  "asset",
  "status",
  "pages",
  "records",
  "rejects",
  "retries",
  "429",
  "304",
  "skips",
  "bytes",
  "time",
  "started from",
];

/** The figures between status and starting point, formatted: counts, then bytes and time. */
export function formatFigures(figures: TableFigures): string[] {
  const f = figures;
  return [
    ...[f.pages, f.records, f.rejects, f.retries, f.status_429, f.status_304, f.skips]
      .map((n) => formatCount(n)),
    formatBytes(f.bytes),
    formatSeconds(f.seconds),
  ];
}
