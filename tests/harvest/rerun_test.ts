/**
 * Plain re-runs are safe by default: an asset without `incremental` replaces its last snapshot,
 * an incremental asset with a key merges, a re-run of an unchanged source asks with conditional
 * requests and writes nothing, and a changed row is there exactly once afterwards.
 */
import { join } from "node:path";
import { parseHarvestArgs } from "../../lib/cli/harvest_args.ts";
import { filesUnder } from "../../lib/pipeline/output_files.ts";
import { loadManifest } from "../../lib/provenance/manifest.ts";
import { assert, assertEquals } from "../assert.ts";
import {
  designYaml,
  type MockFixture,
  parquetFrame,
  parquetKeys,
  run,
  sorted,
  sourceKeys,
  withMockRun,
  yamlConfig,
} from "./fixture.ts";

/** The example config of docs/design.md §7 as a user writes it, plus Order Details without incremental. */
const CONFIG = designYaml({
  assets: `  - name: OrderDetails
    path: /northwind/Order%20Details.json
    params: { _size: 500 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID, ProductID]
`,
});

/** What the command line does on a plain re-run: change detection on. */
const PLAIN = { detectChanges: true };

async function assertDetailsExact(fixture: MockFixture, out: string): Promise<void> {
  const keys = await parquetKeys(out, "OrderDetails", ["OrderID", "ProductID"]);
  assertEquals(keys.length, new Set(keys).size, "no order line held twice");
  assertEquals(sorted(keys), sourceKeys(fixture.db, "Order Details", ["OrderID", "ProductID"]));
}

/** Bodies (200 responses) the manifest holds for `asset` in `runId`. */
async function bodies(out: string, runId: string, asset: string): Promise<number> {
  const { entries } = await loadManifest(join(out, "manifest.jsonl"));
  return entries.filter((e) =>
    e.record.run_id === runId && e.record.asset === asset && e.record.status === 200
  ).length;
}

Deno.test("a plain re-run of an unchanged source holds no row twice, costs at most one body per asset and writes no part", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(CONFIG);
    const first = await run(fixture, loaded, out, PLAIN);
    assertEquals(first.exitCode, 0);
    const files = await filesUnder(join(out, "parquet"));
    const second = await run(fixture, loaded, out, PLAIN);
    assertEquals(second.exitCode, 0);
    assertEquals(second.assets.map((a) => [a.asset, a.status, a.rows]), [
      ["Orders", "unchanged", 0],
      ["OrderDetails", "unchanged", 0],
    ]);
    await assertDetailsExact(fixture, out);
    assert(await bodies(out, second.runId, "Orders") <= 1, "Orders: at most one body");
    assert(await bodies(out, second.runId, "OrderDetails") <= 1, "OrderDetails: at most one body");
    assertEquals(await filesUnder(join(out, "parquet")), files, "no new part, no new generation");
  });
});

Deno.test("a row changed between runs is there exactly once after a plain re-run", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(CONFIG);
    await run(fixture, loaded, out, PLAIN);
    const { OrderID, ProductID } = fixture.db.prepare(
      `SELECT OrderID, ProductID FROM "Order Details" ORDER BY OrderID LIMIT 1`,
    ).get() as { OrderID: number; ProductID: number };
    const update = await fixture.write(
      `/northwind/Order%20Details/${OrderID},${ProductID}/-/update`,
      { update: { Quantity: 777 } },
    );
    assertEquals(update.status, 200);
    const second = await run(fixture, loaded, out, PLAIN);
    assertEquals(second.exitCode, 0);
    await assertDetailsExact(fixture, out);
    const frame = (await parquetFrame(out, "OrderDetails"))!;
    const line = frame.toRecords().filter((r) =>
      Number(r.OrderID) === OrderID && Number(r.ProductID) === ProductID
    );
    assertEquals(line.map((r) => Number(r.Quantity)), [777]);
  });
});

Deno.test("the command line checks for changes by default; --no-change-detection walks everything", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-rerun-" });
  const token = Deno.env.get("API_TOKEN");
  try {
    const config = join(dir, "job.yaml");
    await Deno.writeTextFile(config, CONFIG);
    Deno.env.set("API_TOKEN", "t");
    const plain = await parseHarvestArgs(["--config", config]);
    assertEquals(plain.options.detectChanges, true);
    const off = await parseHarvestArgs(["--config", config, "--no-change-detection"]);
    assertEquals(off.options.detectChanges, false);
  } finally {
    if (token === undefined) Deno.env.delete("API_TOKEN");
    else Deno.env.set("API_TOKEN", token);
    await Deno.remove(dir, { recursive: true });
  }
});
