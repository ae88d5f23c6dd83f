/**
 * The finished files of an asset as the manifest and object storage see them: the files under a
 * folder, the object key of an output path, and each file's sha256, size and row count.
 * @module
 */
import { join } from "node:path";
import { sha256File } from "../core/stamps.ts";
import { parquetFileRows } from "../sinks/parquet_rows.ts";

/** Uploads one finished file: its local path, its key relative to the destination. */
export type UploadFile = (localPath: string, relativeKey: string) => Promise<{ url: string }>;

/**
 * Every file below `dir` (following a symlinked asset folder), relative to it, `/`-separated,
 * sorted; temporary files are left out. A missing folder has none.
 */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(folder: string, prefix: string): Promise<void> {
    for await (const entry of Deno.readDir(folder)) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      const path = join(folder, entry.name);
      const info = entry.isSymlink ? await Deno.stat(path) : entry;
      if (info.isDirectory) await walk(path, rel);
      else if (!entry.name.endsWith(".tmp")) out.push(rel);
    }
  }
  try {
    await walk(dir, "");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out.sort();
}

/**
 * The object key of an output path relative to the out folder, relative to the destination:
 * the format folder goes (`parquet/Orders/ShipCountry=USA/part-….parquet` →
 * `Orders/ShipCountry=USA/part-….parquet`), so the asset comes first and the object store
 * stamps `load_date=…/load_time=…` right after it.
 *
 * @example
 * ```ts
 * import { objectKeyOf } from "./output_files.ts";
 * objectKeyOf("parquet/Orders/ShipCountry=USA/part-r1-00001.parquet");
 * // "Orders/ShipCountry=USA/part-r1-00001.parquet"
 * ```
 */
export function objectKeyOf(outputPath: string): string {
  const slash = outputPath.indexOf("/");
  return slash < 0 ? outputPath : outputPath.slice(slash + 1);
}

/** One finished file. */
export interface FileFacts {
  /** Path relative to the out folder. */
  path: string;
  /** sha256 hex. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
  /** Rows it holds (Parquet, CSV with a header, JSONL). */
  rows: number;
}

/**
 * Hashes and counts the rows of output files (paths relative to `out`). A file in `known` (by
 * its path) is taken as described there: its writer hashed and counted it as it wrote it.
 */
export async function describeFiles(
  out: string,
  paths: readonly string[],
  known?: ReadonlyMap<string, FileFacts>,
): Promise<FileFacts[]> {
  const facts: FileFacts[] = [];
  for (const path of paths) {
    const seen = known?.get(path);
    if (seen) {
      facts.push(seen);
      continue;
    }
    const full = join(out, path);
    const digest = await sha256File(full);
    facts.push({ path, ...digest, rows: await countRows(full) });
  }
  return facts;
}

async function countRows(path: string): Promise<number> {
  // From the footer: no native code, so it runs where FFI is denied (Deno Deploy).
  if (path.endsWith(".parquet")) return await parquetFileRows(path);
  if (path.endsWith(".csv")) {
    // CSV needs a real parser (quoted newlines); polars is loaded only here.
    const pl = (await import("nodejs-polars")).default;
    const frame = await pl.scanCSV(path, { hasHeader: true }).select(pl.len().alias("n"))
      .collect();
    return Number(frame.getColumn("n").get(0));
  }
  if (path.endsWith(".jsonl")) {
    const text = await Deno.readTextFile(path);
    return text.split("\n").filter((l) => l.trim() !== "").length;
  }
  return 0;
}
