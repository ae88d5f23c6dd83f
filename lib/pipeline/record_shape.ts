/**
 * `transform:`: how records are shaped before they are written. `flatten: true` (the
 * default) writes each record's fields as columns; `flatten: false` writes the ELT shape — the
 * record as one JSON text column `raw_data` beside `extracted_at`, the `key_fields` and the
 * `add_fields`. `key_fields` also give every row an `insert_id` (SHA-256 of the key values, the
 * idempotent insert id of the source), so a loader or `output.mode: merge` can de-duplicate. Values of
 * `add_fields` are templates: `{run_id}`, `{now}`, `{today}`, and `{record.Field}` read from the
 * record being written. Pure.
 * @module
 */
import { createHash } from "node:crypto";
import type { AssetConfig, TransformConfig } from "../config/schema.ts";
import { renderTemplate } from "../config/templating.ts";
import { runIdTime } from "../core/stamps.ts";
import { select } from "../core/select.ts";
import { canonicalJson, jsonText } from "../core/json_text.ts";

/**
 * A page's rows readied by {@link RowWriter.prepare} when the page is staged: cast to column
 * vectors, so a batch waiting for its commit holds typed arrays instead of thousands of
 * records (which the garbage collector would copy from one space to the next meanwhile).
 */
export interface PreparedRows {
  /** Rows it holds. */
  readonly length: number;
}

/** Where a batch's rows go: `write(rows, key)` resolves to part paths relative to the out folder. */
export interface RowWriter {
  /** Writes complete part(s) for one batch of pages. */
  write(rows: readonly Record<string, unknown>[], key: string): Promise<string[]>;
  /**
   * Readies one page's rows for {@link RowWriter.writePrepared}, as soon as the page is staged;
   * `undefined` when this writer takes the rows themselves (then `write` gets them). A writer
   * prepares every page of an asset or none.
   */
  prepare?(rows: readonly Record<string, unknown>[]): PreparedRows | undefined;
  /** Writes complete part(s) for one batch of prepared pages, like `write`. */
  writePrepared?(pages: readonly PreparedRows[], key: string): Promise<string[]>;
  /** Object URLs of parts uploaded to `output.destination`, for the manifest's `object_url`. */
  objectUrls?(paths: readonly string[]): string | string[] | undefined;
}

/** Options of {@link shapeRows}. */
export interface ShapeRowsOptions {
  /** The run id (`{run_id}`). */
  runId: string;
  /** The run's time (`extracted_at`, `{now}`, `{today}`). */
  now: Date;
}

/**
 * Shapes records as `transform:` says.
 *
 * @example
 * ```ts
 * import { shapeRows } from "./record_shape.ts";
 * shapeRows([{ OrderID: 1, Freight: 2.5 }], {
 *   flatten: false,
 *   key_fields: ["OrderID"],
 *   add_fields: { source: "northwind" },
 * }, { runId: "r1", now: new Date("2026-01-01T00:00:00Z") });
 * // [{ OrderID: 1, insert_id: "…", raw_data: '{"Freight":2.5,"OrderID":1}',
 * //    extracted_at: "2026-01-01T00:00:00.000Z", source: "northwind" }]
 * ```
 */
export function shapeRows(
  rows: readonly Record<string, unknown>[],
  transform: TransformConfig,
  options: ShapeRowsOptions,
): Record<string, unknown>[] {
  const context = { runId: options.runId, now: options.now };
  const fixed: Record<string, unknown> = {};
  const perRecord: [string, string][] = [];
  for (const [name, template] of Object.entries(transform.add_fields ?? {})) {
    if (template.includes("{record.")) perRecord.push([name, template]);
    else fixed[name] = renderTemplate(template, context) ?? null;
  }
  const keys = transform.key_fields;
  const extractedAt = options.now.toISOString();
  return rows.map((record) => {
    const row: Record<string, unknown> = {};
    if (transform.flatten) Object.assign(row, record);
    if (keys) {
      const values = keys.map((field) => select(record, field) ?? null);
      if (!transform.flatten) keys.forEach((field, i) => row[field] = values[i]);
      row.insert_id = createHash("sha256").update(canonicalJson(values)).digest("hex");
    }
    if (!transform.flatten) {
      row.raw_data = jsonText(record);
      row.extracted_at = extractedAt;
    }
    Object.assign(row, fixed);
    for (const [name, template] of perRecord) {
      row[name] = renderTemplate(template, { ...context, record }) ?? null;
    }
    return row;
  });
}

/**
 * The asset's row writer, shaping rows on the way when the asset has a `transform:`; the writer
 * itself otherwise. Every row of a run gets the same time: the run's start, read from its id.
 */
export function shapedWriter(
  writer: RowWriter,
  asset: AssetConfig,
  options: ShapeRowsOptions,
): RowWriter {
  const transform = asset.transform;
  if (!transform) return writer;
  const shape = { runId: options.runId, now: runIdTime(options.runId) ?? options.now };
  return {
    write: (rows, key) => writer.write(shapeRows(rows, transform, shape), key),
    // Shaped when staged: the same rows, since every row of a run gets the same time.
    prepare: writer.prepare && writer.writePrepared
      ? (rows) => writer.prepare!(shapeRows(rows, transform, shape))
      : undefined,
    writePrepared: writer.writePrepared && ((pages, key) => writer.writePrepared!(pages, key)),
    objectUrls: (paths) => writer.objectUrls?.(paths),
  };
}
