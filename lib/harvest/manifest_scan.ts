/**
 * A light scan of `manifest.jsonl` for what the engine itself wrote and reads back within or
 * right after a run (the cursors of an asset's walk, a parent's snapshots): lines are parsed as
 * plain JSON and filtered by the caller, without the full schema check `readManifest` makes, and
 * a scan may start at a byte offset taken before the run so a long manifest is not read whole.
 * @module
 */
import { join } from "node:path";

/** The fields of a manifest line the engine reads back. */
export interface ScannedLine {
  /** `http`, `sql` or `event`. */
  kind: string;
  /** The run that wrote it. */
  run_id: string;
  /** The asset. */
  asset: string;
  /** Page number within the run and asset. */
  page: number;
  /** HTTP status. */
  status: number | null;
  /** Query parameters as recorded (secrets masked). */
  params: Record<string, unknown>;
  /** Cursor the page was requested with. */
  cursor_in: string | number | null;
  /** Cursor of the next page, null at the end. */
  cursor_out: string | number | null;
  /** Snapshot path, null for a 304. */
  snapshot: string | null;
  /** Partition key, null when the asset is not partitioned. */
  partition?: string | null;
}

/** Options of {@link scanManifest}. */
export interface ScanManifestOptions {
  /** Start reading near this byte offset (from {@link manifestSize} before the run). @default 0 */
  fromByte?: number;
}

/** Slack read before `fromByte`: a torn last line trimmed by the run's first append. */
const TORN_SLACK = 1 << 20;

/** The manifest's size in bytes (0 when it does not exist yet): where a run's lines will start. */
export async function manifestSize(out: string): Promise<number> {
  try {
    return (await Deno.stat(join(out, "manifest.jsonl"))).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

/**
 * Streams the lines of `<out>/manifest.jsonl` (from about `fromByte`) as plain objects; blank,
 * torn or foreign lines are skipped.
 *
 * @example
 * ```ts
 * import { manifestSize, scanManifest } from "./manifest_scan.ts";
 * const start = await manifestSize("out");
 * // ... the run appends lines ...
 * for await (const line of scanManifest("out", { fromByte: start })) console.log(line.page);
 * ```
 */
export async function* scanManifest(
  out: string,
  options: ScanManifestOptions = {},
): AsyncGenerator<ScannedLine> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(join(out, "manifest.jsonl"), { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  try {
    const start = Math.max(0, (options.fromByte ?? 0) - TORN_SLACK);
    if (start > 0) await file.seek(start, Deno.SeekMode.Start);
    // After a seek the first piece is part of a line: drop it.
    let skipFirst = start > 0;
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(1 << 18);
    let pending = "";
    for (;;) {
      const n = await file.read(buffer);
      if (n === null) break;
      pending += decoder.decode(buffer.subarray(0, n), { stream: true });
      let from = 0;
      let newline: number;
      while ((newline = pending.indexOf("\n", from)) >= 0) {
        const text = pending.slice(from, newline);
        from = newline + 1;
        if (skipFirst) {
          skipFirst = false;
          continue;
        }
        const line = parse(text);
        if (line) yield line;
      }
      pending = pending.slice(from);
    }
    if (!skipFirst) {
      const line = parse(pending);
      if (line) yield line;
    }
  } finally {
    file.close();
  }
}

function parse(text: string): ScannedLine | undefined {
  if (text.trim() === "") return undefined;
  try {
    const value = JSON.parse(text);
    if (
      value !== null && typeof value === "object" && typeof value.run_id === "string" &&
      typeof value.asset === "string"
    ) return value as ScannedLine;
  } catch {
    // A torn line (a crash mid-append): the manifest reader reports it; here it is skipped.
  }
  return undefined;
}
