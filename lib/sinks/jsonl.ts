/**
 * Streamed JSON Lines: one object per line, keys in schema order, written batch by batch.
 * Int64 values are exact digits (also beyond 2^53), dates `"YYYY-MM-DD"`, timestamps ISO-8601
 * strings (`…Z` when zoned), decimals strings of their exact text (a JSON number would be read
 * back as a double), json columns embedded as JSON (not as strings), nulls as `null`.
 * @module
 */
import { formatDate, formatDatetime, type TypedColumn } from "./column_types.ts";
import { formatMicros } from "./date_text.ts";
import type { PartWriter } from "./part_writer.ts";
import { createStreamedWriter } from "./streamed_file.ts";

/** Formats one column's members `start`…`end` as `"key":value` (one tight loop per type). */
function formatColumn(column: TypedColumn, start: number, end: number): string[] {
  const out = new Array<string>(end - start);
  const values = column.values;
  const key = `${JSON.stringify(column.name)}:`;
  const nullMember = `${key}null`;
  switch (column.type) {
    case "int64":
    case "boolean":
      for (let i = start; i < end; i++) {
        const v = values[i];
        out[i - start] = v === null ? nullMember : key + v;
      }
      break;
    case "float64":
      for (let i = start; i < end; i++) {
        const v = values[i] as number | null;
        out[i - start] = v === null || !Number.isFinite(v) ? nullMember : key + v;
      }
      break;
    case "date":
      for (let i = start; i < end; i++) {
        const v = values[i];
        out[i - start] = v === null ? nullMember : `${key}"${formatDate(v as number)}"`;
      }
      break;
    case "datetime":
      for (let i = start; i < end; i++) {
        const v = values[i];
        out[i - start] = v === null ? nullMember : `${key}"${formatDatetime(v as number)}"`;
      }
      break;
    case "timestamp":
    case "timestamp_tz": {
      const utc = column.type === "timestamp_tz";
      for (let i = start; i < end; i++) {
        const v = values[i];
        out[i - start] = v === null
          ? nullMember
          : `${key}"${formatMicros(v as number | bigint, utc)}"`;
      }
      break;
    }
    case "json":
      for (let i = start; i < end; i++) {
        const v = values[i];
        out[i - start] = v === null ? nullMember : key + (v as string);
      }
      break;
    default:
      for (let i = start; i < end; i++) {
        const v = values[i];
        out[i - start] = v === null ? nullMember : key + JSON.stringify(v);
      }
  }
  return out;
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
  const members = columns.map((c) => formatColumn(c, start, end));
  const width = members.length;
  let text = "";
  for (let r = 0; r < end - start; r++) {
    let line = width > 0 ? "{" + members[0][r] : "{";
    for (let c = 1; c < width; c++) line += "," + members[c][r];
    text += line + "}\n";
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
