/**
 * Keeps a long-running Parquet sink's memory flat by running a full garbage collection after
 * every so many bytes of polars frames — measured, not guessed:
 *
 * - Parquet on the caller's thread: a polars DataFrame's buffers live in Rust memory that V8
 *   does not count; they are freed only when the small JS wrappers (the frame and the lazy
 *   frame that writes it) are collected, which with a small JS heap can take many batches.
 *   `bench/sinks.ts`, 50 k-row batches of order lines: with a collection every 16 MB of frames,
 *   peak RSS 201 / 248 / 249 MB at 200 k / 1 M / 3 M rows (918 ms a million rows); every 32 MB,
 *   202 / 288 / 290 MB (807 ms); never, 199 / 340 / 349 MB (683 ms). A minor collection after
 *   every batch keeps 172 MB but doubles the time (it copies the caller's live young objects).
 *   The Parquet thread (`parquet_thread.ts`) calls this on its own small heap instead.
 * - CSV/JSONL: the streamed writers no longer call {@link noteReleasedText}. Since they encode
 *   a batch in slices of 2048 rows, their text dies young: without forced collections a million
 *   CSV rows take 1.45 s instead of 1.67 s and peak RSS is lower and flat (CSV 221 / 248 /
 *   247 MB at 200 k / 1 M / 3 M rows, JSONL 243 / 252 / 247 MB).
 *
 * The collector is V8's `gc`, enabled at run time through `node:v8` (a no-op where unavailable).
 * A full collection costs tens of milliseconds on a large heap, hence the threshold.
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";

/** Bytes of polars frames between two collections. */
export const FRAME_GC_THRESHOLD = 16 * 1024 * 1024;
/** Bytes of streamed text between two collections. */
export const TEXT_GC_THRESHOLD = 32 * 1024 * 1024;

let collect: (() => void) | null | undefined;
const pending = { frame: 0, text: 0 };

function collector(): (() => void) | null {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc");
      const gc = vm.runInNewContext("gc");
      collect = typeof gc === "function" ? gc : null;
    } catch {
      collect = null;
    }
  }
  return collect ?? null;
}

function note(kind: "frame" | "text", bytes: number, threshold: number): boolean {
  pending[kind] += bytes;
  if (pending[kind] < threshold) return false;
  pending.frame = 0;
  pending.text = 0;
  const gc = collector();
  if (!gc) return false;
  gc();
  return true;
}

/**
 * Records `bytes` of polars frame memory just released; collects once the total since the last
 * collection reaches `threshold`. Returns true when it collected.
 *
 * @example
 * ```ts
 * import { noteReleasedFrame } from "./memory_pressure.ts";
 * noteReleasedFrame(8 * 50_000 * 9); // after writing a 50k-row, 8-column numeric frame
 * ```
 */
export function noteReleasedFrame(bytes: number, threshold = FRAME_GC_THRESHOLD): boolean {
  return note("frame", bytes, threshold);
}

/**
 * Records `bytes` of text just written; collects once the total since the last collection
 * reaches `threshold`. Returns true when it collected. For writers that keep large text alive
 * across batches; the sinks' streamed writers do not need it (see the module notes).
 *
 * @example
 * ```ts
 * import { noteReleasedText } from "./memory_pressure.ts";
 * noteReleasedText(4_000_000); // after appending a 4 MB CSV chunk
 * ```
 */
export function noteReleasedText(bytes: number, threshold = TEXT_GC_THRESHOLD): boolean {
  return note("text", bytes, threshold);
}

/** Approximate native bytes of typed columns once in a frame: 9 bytes a cell plus text. */
export function estimateFrameBytes(
  columns: readonly { type: string; values: readonly unknown[] }[],
): number {
  let bytes = 0;
  for (const column of columns) {
    bytes += column.values.length * 9;
    if (column.type === "string" || column.type === "json") {
      for (const value of column.values) if (typeof value === "string") bytes += value.length;
    }
  }
  return bytes;
}
