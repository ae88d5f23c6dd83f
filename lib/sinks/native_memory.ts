/**
 * Keeps the native memory of polars frames bounded. A polars DataFrame's buffers live in Rust
 * memory that V8 does not count; they are freed only when the small JS wrapper is garbage
 * collected, and with a small JS heap that can take many batches — measured: RSS grows by about
 * 55 MB per million rows written through per-batch frames, flat when a collection runs every few
 * batches. So after every `threshold` bytes of frames, one full collection runs (the V8 `gc`
 * hook, enabled at run time through `node:v8`; a no-op where unavailable). It costs about 40 ms
 * per 16 MB of frames (a full collection; a minor one proved slower with a batch still live).
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";

/** Bytes of frames between two collections. */
export const NATIVE_GC_THRESHOLD = 16 * 1024 * 1024;

let collect: (() => void) | null | undefined;
let pending = 0;

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

/**
 * Records `bytes` of native frame memory just released by the caller; runs a collection once
 * the total since the last one reaches `threshold`. Returns true when it collected.
 *
 * @example
 * ```ts
 * import { noteReleasedFrame } from "./native_memory.ts";
 * noteReleasedFrame(8 * 50_000 * 8); // after writing a 50k-row, 8-column numeric frame
 * ```
 */
export function noteReleasedFrame(bytes: number, threshold = NATIVE_GC_THRESHOLD): boolean {
  pending += bytes;
  if (pending < threshold) return false;
  pending = 0;
  const gc = collector();
  if (!gc) return false;
  gc();
  return true;
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
