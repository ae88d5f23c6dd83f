/**
 * The polars engine of `mergeByKey` (write_mode.ts): parts read and written with polars, for the
 * merge procedure both engines share (`merge_parts.ts`). Loaded by a dynamic import only when
 * FFI is permitted; `merge_js.ts` is the same engine without native code.
 * @module
 */
import pl from "nodejs-polars";
import type { CellValue } from "./column_types.ts";
import type { MergeEngine, MergeFrame } from "./merge_engine.ts";
import { normalCell } from "./merge_rows.ts";
import { writeParquetFile } from "./parquet.ts";
import { noteReleasedFrame } from "./memory_pressure.ts";

/** Rows as a polars frame. */
export interface PolarsFrame extends MergeFrame {
  /** The frame. */
  frame: pl.DataFrame;
}

/**
 * The merge engine on polars.
 *
 * @example
 * ```ts
 * import { polarsMergeEngine } from "./merge_polars.ts";
 * const frame = await polarsMergeEngine.read("staged.parquet", ["id"]);
 * polarsMergeEngine.values(frame, "id");
 * ```
 */
export const polarsMergeEngine: MergeEngine<PolarsFrame> = {
  read(file, columns) {
    const frame = columns ? pl.readParquet(file, { columns: [...columns] }) : pl.readParquet(file);
    return Promise.resolve(wrap(frame));
  },
  concat(frames) {
    if (frames.length === 1) return frames[0];
    return wrap(pl.concat(frames.map((f) => f.frame), { how: "diagonalRelaxed" }));
  },
  values(frame, column) {
    if (!frame.names.includes(column)) return [];
    let series = frame.frame.getColumn(column);
    // Instants as their integer (µs, ns or days): toArray gives Dates of milliseconds, and two
    // versions of a row a microsecond apart must not tie.
    if (["Datetime", "Date", "Time", "Duration"].includes(series.dtype.variant)) {
      series = series.cast(pl.Int64);
    }
    const wide = series.dtype.equals(pl.Int64) || series.dtype.equals(pl.UInt64);
    if (wide && !withinDoubles(series)) {
      // Through text: toArray gives doubles, and ids beyond 2^53 must stay distinct.
      return series.cast(pl.Utf8).toArray().map((v: string | null) =>
        v === null ? null : normalCell(BigInt(v))
      );
    }
    return series.toArray().map((v: unknown) => normalCell(v ?? null)) as CellValue[];
  },
  partitionColumns(frame, specs) {
    const out: Record<string, unknown[]> = {};
    for (const spec of specs) {
      if (!spec.column || !frame.names.includes(spec.column)) continue;
      const series = frame.frame.getColumn(spec.column);
      // Int64 through text so partition values of ids beyond 2^53 stay exact.
      out[spec.column] = series.dtype.equals(pl.Int64)
        ? series.cast(pl.Utf8).toArray()
        : series.toArray();
    }
    return out;
  },
  gather(frame, rows) {
    // A typed index column: a plain array goes through a Float64 series first.
    const index = pl.Series("index", Uint32Array.from(rows) as unknown as number[], pl.UInt32);
    return wrap(frame.frame.select(pl.all().gather(index)));
  },
  async write(frame, path, options) {
    await writeParquetFile(frame.frame, path, {
      compression: options.compression,
      rowGroupRows: options.rowGroupRows,
    });
  },
  release(frames) {
    // A frame's buffers are Rust memory, freed only when its JS wrapper is collected: without a
    // collection between parts, the parts a merge rewrote stayed resident (1 M rows, every part
    // rewritten: 376 MB peak).
    noteReleasedFrame(frames.reduce((n, f) => n + f.length * f.names.length * BYTES_PER_CELL, 0));
  },
};

/** Rough native bytes of a cell (8-byte values, validity, offsets and short text). */
const BYTES_PER_CELL = 12;

function withinDoubles(series: pl.Series): boolean {
  const limit = Number.MAX_SAFE_INTEGER;
  const min = Number(series.min() ?? 0), max = Number(series.max() ?? 0);
  return min > -limit && max < limit;
}

function wrap(frame: pl.DataFrame): PolarsFrame {
  return { frame, length: frame.height, names: frame.columns };
}
