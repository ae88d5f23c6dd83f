/**
 * Proof that two out folders hold the same data: for each dataset, the number of rows, the set
 * of primary keys and a checksum of every row (the sha256 of its canonical JSON), combined
 * order-independently — so files may be split or named differently and still compare equal,
 * while one changed cell, one missing or extra row changes the digest. Column types are part of
 * the proof: a Parquet column read back as Int64 and one read back as Float64 are listed.
 * Reads Parquet, CSV (header row) and JSONL; the raw-load format's `dl_inserted_at` (the time of
 * the load, not data) is left out of the row checksums.
 * @module
 */
import pl from "nodejs-polars";
import { parse } from "csv-parse/sync";
import { join } from "node:path";
import { filesUnder } from "../pipeline/output_files.ts";
import { canonicalJson } from "../core/json_text.ts";
import { sha256Hex } from "../core/stamps.ts";

/** The digest of one dataset folder. */
export interface DatasetDigest {
  /** Folder relative to the out folder (`parquet/Orders`). */
  folder: string;
  /** Data files read. */
  files: number;
  /** Rows. */
  rows: number;
  /** Distinct primary keys (rows when there is no key). */
  keys: number;
  /** sha256 over the sorted keys. */
  keySetSha256: string;
  /** sha256 over the sorted row checksums. */
  rowsSha256: string;
  /** Column → type as read back (Parquet: polars dtype; CSV/JSONL: `text`/`json`). */
  columns: Record<string, string>;
}

/** Options of {@link datasetDigest}. */
export interface DatasetDigestOptions {
  /** Key columns; without them every row is its own key. @default [] */
  primaryKey?: string[];
}

const IGNORED_COLUMNS = new Set(["dl_inserted_at"]);

/**
 * Digests the dataset under `<out>/<folder>` (following a replace/merge asset's symlink).
 *
 * @example
 * ```ts
 * import { datasetDigest } from "./compare_outs.ts";
 * const digest = await datasetDigest("demo-out", "parquet/Orders", { primaryKey: ["OrderID"] });
 * console.log(digest.rows, digest.rowsSha256);
 * ```
 */
export async function datasetDigest(
  out: string,
  folder: string,
  options: DatasetDigestOptions = {},
): Promise<DatasetDigest> {
  const key = options.primaryKey ?? [];
  const rowHashes: string[] = [];
  const keys = new Set<string>();
  const columns: Record<string, string> = {};
  const files = (await filesUnder(join(out, folder))).filter((f) =>
    /\.(parquet|csv|jsonl)$/.test(f)
  );
  for (const file of files) {
    const path = join(out, folder, file);
    for (const row of await readRows(path, columns)) {
      const clean = normalize(row) as Record<string, unknown>;
      rowHashes.push(sha256Hex(canonicalJson(clean)));
      keys.add(
        key.length === 0 ? rowHashes[rowHashes.length - 1] : canonicalJson(
          key.map((k) => clean[k] ?? null),
        ),
      );
    }
  }
  return {
    folder,
    files: files.length,
    rows: rowHashes.length,
    keys: keys.size,
    keySetSha256: sha256Hex([...keys].sort().join("\n")),
    rowsSha256: sha256Hex(rowHashes.sort().join("\n")),
    columns,
  };
}

async function readRows(
  path: string,
  columns: Record<string, string>,
): Promise<Record<string, unknown>[]> {
  if (path.endsWith(".parquet")) {
    const frame = pl.readParquet(path);
    frame.columns.forEach((c, i) => {
      if (!IGNORED_COLUMNS.has(c)) columns[c] = String(frame.dtypes[i]);
    });
    return frame.toRecords() as Record<string, unknown>[];
  }
  const text = await Deno.readTextFile(path);
  if (path.endsWith(".csv")) {
    const rows = parse(text, { columns: true, skip_empty_lines: true }) as Record<
      string,
      string
    >[];
    for (const c of Object.keys(rows[0] ?? {})) columns[c] = "text";
    // An empty CSV cell is a null, whatever the file it is in.
    return rows.map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === "" ? null : v]))
    );
  }
  const rows = text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  for (const row of rows) for (const c of Object.keys(row)) columns[c] = "json";
  return rows;
}

/** Canonical cell values: bigints and dates as text, nulls and ignored columns left out. */
function normalize(value: unknown): unknown {
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // A column a part lacks reads as absent, the same row elsewhere as null: both are "no value".
      if (v === null || v === undefined || IGNORED_COLUMNS.has(k)) continue;
      out[k] = normalize(v);
    }
    return out;
  }
  return value;
}

/** One dataset compared. */
export interface DatasetComparison {
  /** Asset or derived dataset. */
  asset: string;
  /** Digest of the original, or null when the original folder has no data files. */
  original: DatasetDigest | null;
  /** Digest of the rebuilt folder. */
  replayed: DatasetDigest;
  /** Same rows, keys and column types. */
  same: boolean;
  /** What differs, one sentence each. */
  differences: string[];
}

/** The result of {@link compareOuts}. */
export interface OutsComparison {
  /** Every dataset is the same. */
  identical: boolean;
  /** Per dataset. */
  datasets: DatasetComparison[];
}

/** A dataset to compare: its name, folder and key. */
export interface ComparedDataset {
  /** Name. */
  asset: string;
  /** Folder relative to both out folders. */
  folder: string;
  /** Key columns. */
  primaryKey: string[];
}

/**
 * Compares the datasets of two out folders (an original and its replay).
 *
 * @example
 * ```ts
 * import { compareOuts } from "./compare_outs.ts";
 * const result = await compareOuts("demo-out", "demo-replay", [
 *   { asset: "Orders", folder: "parquet/Orders", primaryKey: ["OrderID"] },
 * ]);
 * console.log(result.identical);
 * ```
 */
export async function compareOuts(
  original: string,
  replayed: string,
  datasets: readonly ComparedDataset[],
): Promise<OutsComparison> {
  const results: DatasetComparison[] = [];
  for (const dataset of datasets) {
    if (!dataset.folder) continue;
    const options = { primaryKey: dataset.primaryKey };
    const mine = await datasetDigest(original, dataset.folder, options);
    const theirs = await datasetDigest(replayed, dataset.folder, options);
    const differences: string[] = [];
    if (mine.files === 0) differences.push(`the original has no data files in ${dataset.folder}`);
    if (mine.rows !== theirs.rows) {
      differences.push(`${mine.rows} rows in the original, ${theirs.rows} replayed`);
    }
    if (mine.keySetSha256 !== theirs.keySetSha256) {
      differences.push(`key sets differ (${mine.keys} vs ${theirs.keys} distinct keys)`);
    }
    if (mine.rowsSha256 !== theirs.rowsSha256) differences.push("row checksums differ");
    const types = new Set([...Object.keys(mine.columns), ...Object.keys(theirs.columns)]);
    for (const column of types) {
      if (mine.columns[column] !== theirs.columns[column]) {
        differences.push(
          `column ${column}: ${mine.columns[column] ?? "absent"} in the original, ` +
            `${theirs.columns[column] ?? "absent"} replayed`,
        );
      }
    }
    results.push({
      asset: dataset.asset,
      original: mine.files === 0 ? null : mine,
      replayed: theirs,
      same: differences.length === 0,
      differences,
    });
  }
  return { identical: results.every((r) => r.same), datasets: results };
}

/** One line per dataset (`Orders: 830 rows, 830 keys — identical`), then the verdict. */
export function formatComparison(comparison: OutsComparison): string {
  const lines = comparison.datasets.map((d) =>
    `${d.asset} (${d.replayed.folder}): ${d.replayed.rows} rows, ${d.replayed.keys} keys, ` +
    `rows sha256 ${d.replayed.rowsSha256.slice(0, 12)}… — ${
      d.same ? "identical" : `DIFFERENT: ${d.differences.join("; ")}`
    }`
  );
  lines.push(
    comparison.identical
      ? "OK: the replay holds the same rows (same key sets and row checksums) as the original"
      : "FAILED: the replay differs from the original",
  );
  return lines.join("\n");
}
