/**
 * The no-FFI engine of `mergeByKey` (write_mode.ts): the same merge as `merge_polars.ts` — one
 * row per primary key, the newest by the order column (nulls oldest), ties going to the run's
 * row and then to the later row, sorted by key, partitioned the same way — over parts read with
 * hyparquet and written with hyparquet-writer. It holds the asset in memory, as polars does.
 * @module
 */
import { join } from "node:path";
import { ContractError } from "../core/errors.ts";
import type { CellValue, ColumnType, TypedColumn } from "./column_types.ts";
import { readParquetColumns, writeParquetColumns } from "./parquet_wasm.ts";
import { groupByPartition, parsePartitionSpecs } from "./partition.ts";

/** What a merge engine needs to know (see `MergeOptions` in write_mode.ts). */
export interface MergeSpec {
  /** Columns that identify a row. */
  primaryKey: string[];
  /** Column deciding which row of a key is newest. */
  orderBy?: string;
  /** Partitions of the merged output. */
  partitionBy?: string[];
  /** Parquet compression (the polars engine; the JS one writes snappy). */
  compression?: "zstd" | "snappy" | "none";
  /** Rows per row group. */
  rowGroupRows?: number;
}

/** The merged rows of an engine, ready to be written as a generation. */
export interface MergedRows {
  /** Rows after the merge. */
  rows: number;
  /** Rows the run brought. */
  incoming: number;
  /** Writes the merged rows under `generation`; resolves to the parts, relative to it. */
  write(generation: string): Promise<string[]>;
}

const MS_PER_DAY = 86_400_000;

/**
 * Merges `currentFiles` (source 0) and `incomingFiles` (source 1) by key without native code;
 * null when there is no row at all.
 *
 * @example
 * ```ts
 * import { mergeWithJs } from "./merge_js.ts";
 * const merged = await mergeWithJs([], ["staged.parquet"], { primaryKey: ["id"] });
 * await merged?.write("out/parquet/.a.generations/gen-00001");
 * ```
 */
export async function mergeWithJs(
  currentFiles: readonly string[],
  incomingFiles: readonly string[],
  options: MergeSpec,
): Promise<MergedRows | null> {
  const names: string[] = [];
  const types = new Map<string, ColumnType>();
  const parts: { columns: Map<string, CellValue[]>; length: number; source: number }[] = [];
  let incoming = 0;
  for (const [source, files] of [[0, currentFiles], [1, incomingFiles]] as const) {
    for (const file of files) {
      const read = await readParquetColumns(file);
      if (source === 1) incoming += read.length;
      const columns = new Map<string, CellValue[]>();
      for (const column of read.columns) {
        if (!types.has(column.name)) {
          names.push(column.name);
          types.set(column.name, column.type);
        } else types.set(column.name, relaxed(types.get(column.name)!, column.type));
        columns.set(column.name, column.values);
      }
      parts.push({ columns, length: read.length, source });
    }
  }
  if (parts.length === 0) return null;
  const total = parts.reduce((n, p) => n + p.length, 0);
  // Columns of all parts, missing ones null (polars' diagonal concat).
  const all = new Map<string, CellValue[]>(names.map((n) => [n, new Array(total)]));
  const sources = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    for (const name of names) {
      const target = all.get(name)!;
      const values = part.columns.get(name);
      for (let i = 0; i < part.length; i++) target[at + i] = values ? values[i] : null;
    }
    sources.fill(part.source, at, at + part.length);
    at += part.length;
  }
  for (const key of options.primaryKey) {
    const values = all.get(key);
    if (!values) {
      throw new ContractError(
        `merge key column "${key}" is not in the data (columns: ${
          names.join(", ")
        }); fix primary_key`,
      );
    }
    const nulls = values.filter((v) => v === null).length;
    if (nulls > 0) {
      throw new ContractError(
        `merge needs a value in every key column but ${nulls} row(s) have null "${key}"; ` +
          `fix the source or the asset's primary_key`,
      );
    }
  }
  const order = options.orderBy ? all.get(options.orderBy) : undefined;
  if (options.orderBy && !order) {
    throw new ContractError(
      `merge order column "${options.orderBy}" is not in the data; fix the incremental field`,
    );
  }
  // The newest row of each key: the greatest (order value, source, position); null is oldest.
  const keyColumns = options.primaryKey.map((k) => all.get(k)!);
  const best = new Map<string, number>();
  for (let i = 0; i < total; i++) {
    const id = JSON.stringify(keyColumns.map((c) => keyText(c[i])));
    const held = best.get(id);
    if (held === undefined || newer(i, held, order, sources)) best.set(id, i);
  }
  const chosen = [...best.values()].sort((a, b) => {
    for (const column of keyColumns) {
      const c = compareCells(column[a], column[b]);
      if (c !== 0) return c;
    }
    return a - b;
  });
  const columns: TypedColumn[] = names.map((name) => {
    const source = all.get(name)!;
    const type = types.get(name)!;
    let nulls = 0;
    let big = false;
    const values = chosen.map((i) => {
      const v = cast(source[i], type);
      if (v === null) nulls++;
      else if (typeof v === "bigint") big = true;
      return v;
    });
    return { name, type, values, nulls, big };
  });
  return {
    rows: chosen.length,
    incoming,
    write: (generation) => writeGeneration(columns, chosen.length, generation, options),
  };
}

function newer(
  i: number,
  held: number,
  order: CellValue[] | undefined,
  sources: Uint8Array,
): boolean {
  if (order) {
    const c = compareCells(order[i], order[held]);
    if (c !== 0) return c > 0;
  }
  if (sources[i] !== sources[held]) return sources[i] > sources[held];
  return i > held;
}

function keyText(value: CellValue): string {
  return typeof value === "bigint" ? `${value}` : JSON.stringify(value);
}

/** Orders cells of one column: null first, numbers and bigints numerically, text by code unit. */
export function compareCells(a: CellValue, b: CellValue): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === "bigint" || typeof b === "bigint") {
    const x = BigInt(a as number | bigint), y = BigInt(b as number | bigint);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return a ? 1 : -1;
  const x = String(a), y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function relaxed(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  const numeric = new Set<ColumnType>(["int64", "float64"]);
  if (numeric.has(a) && numeric.has(b)) return "float64";
  return "string";
}

function cast(value: CellValue, type: ColumnType): CellValue {
  if (value === null) return null;
  if (type === "float64" && typeof value === "bigint") return Number(value);
  if ((type === "string" || type === "json") && typeof value !== "string") return String(value);
  return value;
}

async function writeGeneration(
  columns: readonly TypedColumn[],
  length: number,
  generation: string,
  options: MergeSpec,
): Promise<string[]> {
  const specs = parsePartitionSpecs(options.partitionBy ?? []);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const source: Record<string, unknown[]> = {};
  for (const spec of specs) {
    const column = spec.column ? byName.get(spec.column) : undefined;
    if (!column) continue;
    // The values the sink partitioned by: ids as exact text, dates and timestamps as instants.
    source[spec.column!] = column.values.map((v) =>
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
  const groups = groupByPartition(specs, { columns: source, length });
  const write = { rowGroupRows: options.rowGroupRows };
  const parts: string[] = [];
  for (const group of groups) {
    const relative = join(group.path, "part-merged-00001.parquet");
    const subset = groups.length === 1 ? columns : columns.map((c) => pick(c, group.rows));
    await writeParquetColumns(subset, group.rows.length, join(generation, relative), write);
    parts.push(relative);
  }
  return parts;
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
