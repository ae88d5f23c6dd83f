/**
 * The no-FFI engine of `mergeByKey` (write_mode.ts): parts read with hyparquet into typed columns
 * and written with hyparquet-writer (snappy), for the merge procedure both engines share
 * (`merge_parts.ts`). `merge_polars.ts` is the same engine on polars.
 * @module
 */
import type { CellValue, ColumnType, TypedColumn } from "./column_types.ts";
import type { MergeEngine, MergeFrame } from "./merge_engine.ts";
import { readParquetColumns, writeParquetColumns } from "./parquet_js.ts";

/** Rows as typed columns. */
export interface JsFrame extends MergeFrame {
  /** The columns, in order. */
  columns: TypedColumn[];
}

const MS_PER_DAY = 86_400_000;

/**
 * The merge engine without native code.
 *
 * @example
 * ```ts
 * import { jsMergeEngine } from "./merge_js.ts";
 * const frame = await jsMergeEngine.read("staged.parquet", ["id"]);
 * jsMergeEngine.values(frame, "id");
 * ```
 */
export const jsMergeEngine: MergeEngine<JsFrame> = {
  async read(file, columns) {
    const read = await readParquetColumns(file, columns ? { columns } : {});
    return frameOf(read.columns, read.length);
  },
  concat: concatFrames,
  values(frame, column) {
    return frame.columns.find((c) => c.name === column)?.values ?? [];
  },
  partitionColumns(frame, specs) {
    const out: Record<string, unknown[]> = {};
    for (const spec of specs) {
      const column = frame.columns.find((c) => c.name === spec.column);
      if (!column) continue;
      // The values the sink partitioned by: ids as exact text, dates and timestamps as instants.
      out[column.name] = column.values.map((v) =>
        v === null
          ? null
          : column.type === "int64"
          ? String(v)
          : column.type === "date"
          ? new Date((v as number) * MS_PER_DAY)
          : column.type === "datetime"
          ? new Date(v as number)
          : v
      );
    }
    return out;
  },
  gather(frame, rows) {
    return frameOf(frame.columns.map((c) => pick(c, rows)), rows.length);
  },
  async write(frame, path, options) {
    await writeParquetColumns(frame.columns, frame.length, path, {
      rowGroupRows: options.rowGroupRows,
    });
  },
};

function frameOf(columns: TypedColumn[], length: number): JsFrame {
  return { columns, length, names: columns.map((c) => c.name) };
}

/** Frames one after the other: a missing column is null, types widen (polars' diagonal concat). */
function concatFrames(frames: readonly JsFrame[]): JsFrame {
  if (frames.length === 1) return frames[0];
  const types = new Map<string, ColumnType>();
  for (const frame of frames) {
    for (const c of frame.columns) {
      const held = types.get(c.name);
      types.set(c.name, held === undefined ? c.type : relaxed(held, c.type));
    }
  }
  const length = frames.reduce((n, f) => n + f.length, 0);
  const columns = [...types].map(([name, type]): TypedColumn => {
    const values = new Array<CellValue>(length);
    let at = 0, nulls = 0, big = false;
    for (const frame of frames) {
      const source = frame.columns.find((c) => c.name === name)?.values;
      for (let i = 0; i < frame.length; i++) {
        const v = source ? cast(source[i], type) : null;
        if (v === null) nulls++;
        else if (typeof v === "bigint") big = true;
        values[at++] = v;
      }
    }
    return { name, type, values, nulls, big };
  });
  return frameOf(columns, length);
}

function relaxed(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  const numeric = new Set<ColumnType>(["int64", "float64"]);
  if (numeric.has(a) && numeric.has(b)) return "float64";
  return "string";
}

function cast(value: CellValue, type: ColumnType): CellValue {
  if (value === null || value === undefined) return null;
  if (type === "float64" && typeof value === "bigint") return Number(value);
  if ((type === "string" || type === "json") && typeof value !== "string") return String(value);
  return value;
}

function pick(column: TypedColumn, rows: readonly number[]): TypedColumn {
  const values = rows.map((r) => column.values[r]);
  return {
    ...column,
    values,
    nulls: values.filter((v) => v === null).length,
    big: values.some((v) => typeof v === "bigint"),
  };
}
