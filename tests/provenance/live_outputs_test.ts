/**
 * Which manifest lines still describe files on disk: a replace/merge `complete` event supersedes
 * every earlier line of its asset (and only of its asset), a `derive` event earlier derives of
 * its dataset, and a `discard` event the lines of the snapshots it names.
 */
import { discardedSnapshots, supersededLines } from "../../lib/provenance/live_outputs.ts";
import { type ManifestRecord, parseManifestRecord } from "../../lib/provenance/manifest.ts";
import { assertEquals } from "../assert.ts";

const SHA = "a".repeat(64);

function line(fields: Partial<ManifestRecord>): ManifestRecord {
  return parseManifestRecord({
    kind: "http",
    run_id: "r1",
    asset: "Orders",
    page: 1,
    timestamp: "2026-11-23T10:15:00.000Z",
    source: "http://127.0.0.1:9000/northwind/Orders.json",
    status: 200,
    elapsed_ms: 1,
    sha256: SHA,
    bytes: 10,
    rows: 1,
    snapshot: "raw/Orders/r1/00001.json",
    output: null,
    config_sha256: SHA,
    env: { deno: "2.9.6", tidemark: "0.1.0" },
    ...fields,
  });
}

function event(fields: Partial<ManifestRecord>): ManifestRecord {
  return line({ kind: "event", status: null, sha256: null, snapshot: null, bytes: 0, ...fields });
}

function entries(records: ManifestRecord[]) {
  return records.map((record, i) => ({ line: i + 1, record }));
}

Deno.test("a merge or replace completion supersedes every earlier output line of its asset only", () => {
  const lines = entries([
    line({ output: "parquet/.Orders.staging/r1/part-r1-00001.parquet" }),
    line({ asset: "Order Details", output: "parquet/Order Details/part-r1-00001.parquet" }),
    event({ event: "complete", mode: "merge", output: "parquet/Orders/part-merged-00001.parquet" }),
    line({ run_id: "r2", output: "parquet/.Orders.staging/r2/part-r2-00001.parquet" }),
  ]);
  assertEquals([...supersededLines(lines)], [1]);
});

Deno.test("an append completion supersedes nothing", () => {
  const lines = entries([
    line({ output: "parquet/Orders/part-r1-00001.parquet" }),
    event({ event: "complete", mode: "append" }),
  ]);
  assertEquals([...supersededLines(lines)], []);
});

Deno.test("a derive supersedes the earlier derives of its dataset", () => {
  const lines = entries([
    event({ event: "derive", asset: "line_items", output: "parquet/line_items/part-r1.parquet" }),
    event({ event: "derive", asset: "other", output: "parquet/other/part-r1.parquet" }),
    event({ event: "derive", asset: "line_items", output: "parquet/line_items/part-r2.parquet" }),
  ]);
  assertEquals([...supersededLines(lines)], [1]);
});

Deno.test("a discard voids the lines of the snapshots it names", () => {
  const lines = entries([
    line({ snapshot: "raw/Orders/r1/00001.json", output: "parquet/Orders/part-r1-1.parquet" }),
    line({ snapshot: "raw/Orders/r1/00002.json", output: "parquet/Orders/part-r1-2.parquet" }),
    event({ event: "discard", run_id: "r2", discarded: ["raw/Orders/r1/00002.json"] }),
  ]);
  assertEquals([...discardedSnapshots(lines)], ["raw/Orders/r1/00002.json"]);
  assertEquals([...supersededLines(lines)], [2]);
});
