/**
 * The walk of one partition: the next page is requested before the current one is staged (the
 * server works while the harvester does), staged pages are committed in order, and every page
 * lands once.
 */
import { join } from "node:path";
import { assetSchema } from "../../lib/config/schema.ts";
import { paginationSchema } from "../../lib/paginate/schema.ts";
import { HttpClient } from "../../lib/http/client.ts";
import type { PageStepContext } from "../../lib/harvest/page_step.ts";
import { walkPartition } from "../../lib/harvest/partition_walk.ts";
import { envStamp } from "../../lib/core/stamps.ts";
import { ManifestWriter } from "../../lib/provenance/manifest.ts";
import { SnapshotStore, type SnapshotWritten } from "../../lib/provenance/snapshot.ts";
import { createPaginator } from "../../lib/paginate/mod.ts";
import { openSqliteState } from "../../lib/state/mod.ts";
import { assertEquals } from "../assert.ts";

/** A snapshot store that logs when each page is staged (its snapshot write starts). */
class LoggingSnapshots extends SnapshotStore {
  constructor(out: string, readonly log: string[]) {
    super(out);
  }
  override write(
    asset: string,
    runId: string,
    page: number,
    bytes: Uint8Array,
  ): Promise<SnapshotWritten> {
    this.log.push(`stage ${page}`);
    return super.write(asset, runId, page, bytes);
  }
}

Deno.test("walk: each request goes out before the page before it is staged; pages commit in order", async () => {
  const out = await Deno.makeTempDir({ prefix: "tidemark-walk-" });
  const log: string[] = [];
  const state = openSqliteState(join(out, "state.sqlite"));
  try {
    const pages = 4;
    const client = new HttpClient({
      baseUrl: "http://127.0.0.1:9000",
      etagStore: false,
      fetch: (input) => {
        const n = Number(new URL(input).searchParams.get("after") ?? 0) + 1;
        log.push(`fetch ${n}`);
        const body = { rows: [{ id: n }], next: n < pages ? String(n) : null };
        return new Response(JSON.stringify(body), {
          headers: { "Content-Type": "application/json" },
        });
      },
    });
    const asset = assetSchema.parse({
      name: "Items",
      path: "/items",
      pagination: { type: "cursor", param: "after", response_path: "next" },
      data_path: "rows",
    });
    const runId = "20261123T000000Z-walk01";
    await state.startRun({
      runId,
      startedAt: new Date(0).toISOString(),
      configSha256: "0".repeat(64),
      command: "harvest",
      assets: ["Items"],
    });
    const written: string[] = [];
    let seq = 0;
    const ctx: PageStepContext = {
      out,
      runId,
      asset,
      partitionKey: "",
      partitionIndex: null,
      snapshots: new LoggingSnapshots(out, log),
      manifest: new ManifestWriter(out),
      state,
      output: {
        write(rows, key) {
          written.push(`${key}: ${rows.map((r) => r.id).join(",")}`);
          return Promise.resolve([]);
        },
      },
      tracker: null,
      nextSeq: () => ++seq,
      configSha256: "0".repeat(64),
      env: { ...envStamp() },
      authAlias: "none",
      watermarkIn: null,
      secrets: [],
    };
    const paginator = createPaginator(paginationSchema.parse(asset.pagination));
    const result = await walkPartition(ctx, {
      client,
      state,
      paginator,
      base: { url: "http://127.0.0.1:9000/items", params: {} },
      spec: { method: "GET", dataPath: "rows", label: "Items" },
      batchRows: 2,
    });
    assertEquals(result, { pages: 4, resumed: false });
    assertEquals(log, [
      "fetch 1",
      "fetch 2",
      "stage 1",
      "fetch 3",
      "stage 2",
      "fetch 4",
      "stage 3",
      "stage 4",
    ]);
    assertEquals(written, ["00001-00002: 1,2", "00003-00004: 3,4"]);
    assertEquals((await state.resumePoint("Items", ""))?.done, true);
  } finally {
    await state.close();
    await Deno.remove(out, { recursive: true });
  }
});
