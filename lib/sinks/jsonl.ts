/**
 * Streamed JSON Lines: one object per line, keys in schema order, written batch by batch.
 * Int64 values are exact digits (also beyond 2^53), dates `"YYYY-MM-DD"`, timestamps ISO-8601
 * UTC strings, json columns embedded as JSON (not as strings), nulls as `null`.
 * @module
 */
import { formatDate, formatDatetime, type TypedColumn } from "./column_types.ts";
import type { PartWriter } from "./part_writer.ts";
import { createStreamedWriter } from "./streamed_file.ts";

function columnFormatter(column: TypedColumn): (value: unknown) => string {
  switch (column.type) {
    case "int64":
    case "boolean":
      return String;
    case "float64":
      return (v) => (Number.isFinite(v) ? String(v) : "null");
    case "date":
      return (v) => `"${formatDate(v as number)}"`;
    case "datetime":
      return (v) => `"${formatDatetime(v as number)}"`;
    case "json":
      return (v) => v as string;
    default:
      return (v) => JSON.stringify(v);
  }
}

/**
 * Renders rows `start` to `end` (exclusive) of typed columns as JSON lines, each ending with `\n`.
 *
 * @example
 * ```ts
 * import { castColumn } from "./column_types.ts";
 * import { jsonLines } from "./jsonl.ts";
 * jsonLines([castColumn("id", [2n ** 60n], "int64")], 0, 1); // '{"id":1152921504606846976}\n'
 * ```
 */
export function jsonLines(columns: readonly TypedColumn[], start: number, end: number): string {
  const formatters = columns.map(columnFormatter);
  const keys = columns.map((c, i) => `${i === 0 ? "{" : ","}${JSON.stringify(c.name)}:`);
  const width = columns.length;
  let text = "";
  for (let i = start; i < end; i++) {
    for (let c = 0; c < width; c++) {
      const value = columns[c].values[i];
      text += keys[c];
      text += value === null ? "null" : formatters[c](value);
    }
    text += width === 0 ? "{}\n" : "}\n";
  }
  return text;
}

/**
 * A part writer for streamed JSON Lines.
 *
 * @example
 * ```ts
 * import { createJsonlWriter } from "./jsonl.ts";
 * createJsonlWriter().extension; // "jsonl"
 * ```
 */
export function createJsonlWriter(): PartWriter {
  return createStreamedWriter({
    extension: "jsonl",
    fixedColumns: false,
    header: () => "",
    rows: jsonLines,
  });
}
