/**
 * Test fixtures for provenance: valid manifest records, and a small out folder built by writing
 * files directly (snapshots, parts, manifest) and committing pages through the real state store,
 * so verify can be tested without the harvest engine.
 * @module
 */
import type { ManifestRecord, ManifestRecordInput } from "../../lib/provenance/manifest.ts";
import { snapshotPath } from "../../lib/provenance/snapshot.ts";
import { sha256Hex } from "../../lib/core/stamps.ts";
import { openSqliteState } from "../../lib/state/sqlite.ts";

/** The run id every fixture uses. */
export const RUN = "20261123T101500Z-3fa9c1";

/** A valid http manifest record; `overrides` replace fields. */
export function httpRecord(overrides: Partial<ManifestRecordInput> = {}): ManifestRecord {
  return {
    kind: "http",
    run_id: RUN,
    asset: "Orders",
    page: 1,
    attempt: 1,
    timestamp: "2026-11-23T10:15:00.120Z",
    method: "GET",
    source: "http://127.0.0.1:9000/northwind/Orders.json",
    params: { _size: "200", _next: "10447" },
    status: 200,
    attempts: 1,
    retry_after: null,
    slept_ms: 0,
    elapsed_ms: 41,
    sha256: "0".repeat(64),
    bytes: 0,
    rows: 2,
    cursor_in: "10447",
    cursor_out: "10647",
    watermark_in: "1997-01-01",
    snapshot: null,
    output: null,
    auth: "bearer:token-alias",
    config_sha256: "c".repeat(64),
    env: { deno: "2.9.6", tidemark: "0.1.0" },
    ...overrides,
  } as ManifestRecord;
}

/** One page of a fixture out folder. */
export interface FixturePage {
  asset: string;
  page: number;
  body: string;
  outputs: string[];
  partition?: string | null;
}

/** Writes an out folder: snapshots, output files, manifest lines and state pages for `pages`. */
export async function writeOut(out: string, pages: FixturePage[]): Promise<ManifestRecord[]> {
  const records: ManifestRecord[] = [];
  const state = openSqliteState(`${out}/state.sqlite`);
  try {
    await state.startRun({
      runId: RUN,
      startedAt: "2026-11-23T10:15:00.000Z",
      configSha256: "c".repeat(64),
      command: "harvest",
      assets: [...new Set(pages.map((p) => p.asset))],
    });
    for (const p of pages) {
      const bytes = new TextEncoder().encode(p.body);
      const snapshot = snapshotPath(p.asset, RUN, p.page);
      await Deno.mkdir(`${out}/${snapshot.slice(0, snapshot.lastIndexOf("/"))}`, {
        recursive: true,
      });
      await Deno.writeFile(`${out}/${snapshot}`, bytes);
      for (const o of p.outputs) {
        await Deno.mkdir(`${out}/${o.slice(0, o.lastIndexOf("/"))}`, { recursive: true });
        await Deno.writeTextFile(`${out}/${o}`, `part ${o}`);
      }
      const record = httpRecord({
        asset: p.asset,
        page: p.page,
        sha256: sha256Hex(bytes),
        bytes: bytes.length,
        snapshot,
        output: p.outputs.length === 1 ? p.outputs[0] : p.outputs,
        partition: p.partition ?? undefined,
      });
      records.push(record);
      await Deno.writeTextFile(`${out}/manifest.jsonl`, JSON.stringify(record) + "\n", {
        append: true,
      });
      await state.commitPage({
        runId: RUN,
        assetId: p.asset,
        partition: p.partition ?? "",
        page: p.page,
        cursorIn: record.cursor_in === null ? null : String(record.cursor_in),
        cursorOut: record.cursor_out === null ? null : String(record.cursor_out),
        rows: record.rows,
        snapshot,
        outputs: p.outputs,
        sha256: sha256Hex(bytes),
        done: false,
      });
    }
  } finally {
    await state.close();
  }
  return records;
}
