/**
 * The one walk from a response body to an asset's output, shared by the live harvest and by
 * `tidemark replay` (which feeds it the snapshots alone), so replay equals live by construction:
 *
 * 1. **records** — {@link decodeBody} / {@link selectRecords}: the JSON body, the list at
 *    `data_path` (page_rows.ts);
 * 2. **rows** — {@link rowsOfPage}: unreadable cursors rejected, records the previous run wrote at
 *    its watermark boundary dropped ({@link WatermarkTracker}), the rest through the contract,
 *    its rejects returned for the rejects file;
 * 3. **shape** — {@link shapedWriter}: `transform:` (flatten or the ELT shape, key and added
 *    fields), every row of a run stamped with the run's start (record_shape.ts);
 * 4. **parts** — {@link AssetOutput}: batches written as Parquet/CSV/JSONL parts by the asset's
 *    write mode (append, replace, merge), visible only when the asset completes
 *    (asset_output.ts).
 *
 * Nothing here fetches, keeps state or writes the manifest: the harvest (lib/harvest) and replay
 * (lib/replay) do that around it. The only I/O is the sink's own files.
 * @module
 */
export { decodeBody, responseBody, rowsFromBytes, rowsOfPage, selectRecords } from "./page_rows.ts";
export type { PageOutcomeRows, PageRows, RowsOfPageOptions } from "./page_rows.ts";
export { type PreparedRows, type RowWriter, shapedWriter, shapeRows } from "./record_shape.ts";
export { type Boundary, boundarySchema, WatermarkTracker } from "./watermark_tracker.ts";
export { assetFolder, AssetOutput, openAssetOutput } from "./asset_output.ts";
export type { AssetOutputOptions } from "./asset_output.ts";
