/**
 * Streamed CSV: the header once per file, RFC 4180 quoting (fields holding a comma,
 * a quote, CR or LF are quoted, quotes doubled), one line ending throughout (CRLF by default),
 * written batch by batch. Nulls are empty fields; an empty string is `""` so the two stay
 * distinguishable. Dates are `YYYY-MM-DD`, timestamps ISO-8601 (`…Z` when zoned), decimals
 * their exact text, json columns JSON text.
 * @module
 */
import { formatDate, formatDatetime, type TypedColumn } from "./column_types.ts";
import { formatMicros } from "./date_text.ts";
import type { PartWriter } from "./part_writer.ts";
import { createStreamedWriter } from "./streamed_file.ts";

/** Options of {@link createCsvWriter}. */
export interface CsvWriterOptions {
  /** Line ending of every record. @default "crlf" */
  lineEnding?: "crlf" | "lf";
}

const NEEDS_QUOTES = /[",\r\n]/;

/**
 * Quotes one CSV field when RFC 4180 requires it.
 *
 * @example
 * ```ts
 * import { csvField } from "./csv.ts";
 * csvField('say "hi", then go'); // '"say ""hi"", then go"'
 * ```
 */
export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Formats one column's cells `start`…`end` (one tight loop per type: the hot path of CSV). */
function formatColumn(column: TypedColumn, start: number, end: number): string[] {
  const out = new Array<string>(end - start);
  const values = column.values;
  switch (column.type) {
    case "int64":
    case "float64":
    case "boolean":
      for (let i = start; i < end; i++) {
        const v = values[i];
        // `"" + v` is measurably faster than String(v) here; same text for numbers and bigints.
        out[i - start] = v === null ? "" : "" + v;
      }
      break;
    case "date":
      for (let i = start; i < end; i++) {
        const v = values[i];
        out[i - start] = v === null ? "" : formatDate(v as number);
      }
      break;
    case "datetime":
      for (let i = start; i < end; i++) {
        const v = values[i];
        out[i - start] = v === null ? "" : formatDatetime(v as number);
      }
      break;
    case "timestamp":
    case "timestamp_tz": {
      const utc = column.type === "timestamp_tz";
      for (let i = start; i < end; i++) {
        const v = values[i];
        out[i - start] = v === null ? "" : formatMicros(v as number | bigint, utc);
      }
      break;
    }
    default:
      for (let i = start; i < end; i++) {
        const v = values[i] as string | null;
        out[i - start] = v === null
          ? ""
          : v === ""
          ? '""'
          : NEEDS_QUOTES.test(v)
          ? `"${v.replaceAll('"', '""')}"`
          : v;
      }
  }
  return out;
}

/**
 * Renders rows `start` to `end` (exclusive) of typed columns as CSV lines, each ending with `eol`.
 *
 * @example
 * ```ts
 * import { castColumn } from "./column_types.ts";
 * import { csvLines } from "./csv.ts";
 * csvLines([castColumn("a", [1, null], "int64"), castColumn("b", ["x,y", ""], "string")], 0, 2, "\n");
 * // '1,"x,y"\n,""\n'
 * ```
 */
export function csvLines(
  columns: readonly TypedColumn[],
  start: number,
  end: number,
  eol: string,
): string {
  const cells = columns.map((c) => formatColumn(c, start, end));
  const width = cells.length;
  let text = "";
  for (let r = 0; r < end - start; r++) {
    let line = width > 0 ? cells[0][r] : "";
    for (let c = 1; c < width; c++) line += "," + cells[c][r];
    text += line + eol;
  }
  return text;
}

/**
 * A part writer for streamed CSV.
 *
 * @example
 * ```ts
 * import { createCsvWriter } from "./csv.ts";
 * createCsvWriter({ lineEnding: "lf" }).extension; // "csv"
 * ```
 */
export function createCsvWriter(options: CsvWriterOptions = {}): PartWriter {
  const eol = options.lineEnding === "lf" ? "\n" : "\r\n";
  return createStreamedWriter({
    extension: "csv",
    fixedColumns: true,
    header: (columns) => columns.map((c) => csvField(c.name)).join(",") + eol,
    rows: (columns, start, end) => csvLines(columns, start, end, eol),
  });
}
