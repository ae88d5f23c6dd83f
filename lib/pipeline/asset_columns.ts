/**
 * An asset's column types across runs: the {@link AssetTyping} of a run (its `contract:`,
 * `columns:`, `select:` and, for Parquet, date inference), and the types the asset wrote,
 * recorded in state so that the next run — or a resumed one — starts from them: a column
 * inferred as a timestamp stays one, and a change is a widening (reported) or a stop.
 * @module
 */
import { z } from "zod";
import type { AssetConfig } from "../config/schema.ts";
import { AssetTyping, contractColumnTypes, getContract } from "../contracts/mod.ts";
import type { ColumnType } from "../sinks/column_types.ts";
import { columnTypeSchema } from "../sinks/column_schema.ts";
import type { StateStore } from "../state/mod.ts";
import { readStoredJson } from "../state/stored_json.ts";

/** The state row (watermark data type) holding the column types an asset wrote. */
export const COLUMNS_DATA_TYPE = "harvest_columns";

const recordedSchema = z.record(z.string(), columnTypeSchema);

/**
 * The typing of an asset for a run, starting from the types earlier runs `recorded`. Dates are
 * inferred for Parquet outputs of flattened records only: CSV and JSONL keep the text as
 * received, and a raw-load payload is the record itself.
 *
 * @example
 * ```ts
 * import { assetTypingOf } from "./asset_columns.ts";
 * const typing = assetTypingOf(asset, { OrderDate: "timestamp" });
 * ```
 */
export function assetTypingOf(
  asset: AssetConfig,
  recorded: Record<string, ColumnType> = {},
): AssetTyping {
  return new AssetTyping({
    asset: asset.name,
    columns: asset.columns,
    select: asset.select,
    contract: asset.contract ? getContract(asset.contract) : undefined,
    contractTypes: asset.contract ? contractColumnTypes(asset.contract) : {},
    recorded,
    inferDates: asset.output.format === "parquet" && asset.transform?.flatten !== false,
  });
}

/**
 * The column types an asset's sink is given, read at each write: the typing's schema when the
 * typed records are what is written; the contract's types alone when a raw-load payload or
 * `flatten: false` writes each record as one JSON column.
 */
export function sinkColumnsOf(
  asset: AssetConfig,
  typing: AssetTyping,
): () => Record<string, ColumnType> {
  if (asset.output.format !== "raw" && asset.transform?.flatten !== false) {
    return () => typing.columns;
  }
  const types = asset.contract ? contractColumnTypes(asset.contract) : {};
  return () => types;
}

/**
 * The column types an asset's earlier runs wrote ({} when none were recorded). Throws
 * a `StateError` naming the reset command (for the out folder `out`) when they are unreadable.
 */
export async function readColumnTypes(
  state: StateStore,
  asset: string,
  out?: string,
): Promise<Record<string, ColumnType>> {
  return await readStoredJson(state, {
    asset,
    dataType: COLUMNS_DATA_TYPE,
    schema: recordedSchema,
    what: "column typing",
    out,
    orElse: "run it with --full-refresh",
  }) ?? {};
}

/** Records the column types an asset writes (replacing any). */
export async function saveColumnTypes(
  state: StateStore,
  asset: string,
  types: Record<string, ColumnType>,
): Promise<void> {
  await state.setWatermark({
    assetId: asset,
    dataType: COLUMNS_DATA_TYPE,
    lastId: JSON.stringify(types),
  });
}
