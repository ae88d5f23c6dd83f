/**
 * `tidemark replay` rebuilds every output from the raw snapshots, the manifest and the config
 * stamps alone, and the rebuilt folder holds the same rows as the original: same key sets, same
 * row checksums, same column types — after a chaos-profile harvest, an incremental re-run (whose
 * boundary rows the harvest dropped), merge and replace write modes, CSV/JSONL/raw formats, a
 * killed run whose pages were fetched again, and a derived dataset. It needs no network
 * permission, refuses a tampered snapshot and a non-empty target, and the comparison catches a
 * changed row.
 */
import pl from "nodejs-polars";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { filesUnder } from "../../lib/pipeline/output_files.ts";
import { compareOuts } from "../../lib/replay/compare_outs.ts";
import { loadManifest } from "../../lib/provenance/manifest.ts";
import { replayOut } from "../../lib/replay/replay.ts";
import { verifyOut } from "../../lib/provenance/verify.ts";
import { UsageError, VerifyError } from "../../lib/core/errors.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import {
  BASE_URL,
  CHAOS_RETRY,
  chaosMock,
  fastClock,
  northwindYaml,
  ordersYaml,
  rewindToCrash,
  run,
  withMockRun,
  yamlConfig,
} from "../harvest/fixture.ts";

/** Adds `count` orders dated after every existing one, with two lines each. */
function addOrders(db: DatabaseSync, count: number): void {
  const order = db.prepare(
    `INSERT INTO Orders (CustomerID, EmployeeID, OrderDate, ShipVia, Freight, ShipCountry)
     VALUES ('VINET', 5, '1999-01-01 00:00:00.000', 3, 12.5, 'France')`,
  );
  const line = db.prepare(
    `INSERT INTO "Order Details" (OrderID, ProductID, UnitPrice, Quantity, Discount)
     VALUES (?, ?, 14, 12, 0.1)`,
  );
  for (let i = 0; i < count; i++) {
    const id = Number(order.run().lastInsertRowid);
    line.run(id, 11);
    line.run(id, 42);
  }
}

/** Runs `fn` with a replay target (a folder not created yet), removed afterwards. */
async function withTarget(fn: (to: string) => Promise<void>): Promise<void> {
  const parent = await Deno.makeTempDir({ prefix: "tidemark-replay-" });
  try {
    await fn(join(parent, "replayed"));
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

async function assertIdentical(out: string, to: string, expectAssets: string[]): Promise<void> {
  const replayed = await replayOut(out, to);
  assertEquals(replayed.assets.map((a) => a.asset).sort(), [...expectAssets].sort());
  const comparison = await compareOuts(out, to, replayed.assets);
  for (const d of comparison.datasets) {
    assertEquals(d.differences, [], `${d.asset} differs`);
    assert(d.replayed.rows > 0, `${d.asset} has rows`);
  }
  assertEquals(comparison.datasets.length, expectAssets.length);
  assert(comparison.identical);
}

Deno.test("replay of a chaos-profile harvest and its incremental re-run holds the same rows", async () => {
  await withMockRun(async (fixture, out) => {
    await withTarget(async (to) => {
      const loaded = yamlConfig(
        northwindYaml({
          size: 50,
          top: "workers: 4",
          orders: "partition: { by: OrderID, parts: 3 }\nbatch_size: 120",
          details: "batch_size: 200",
          retry: CHAOS_RETRY,
        }),
      );
      const first = await run(fixture, loaded, out, { clock: fastClock(50) });
      assertEquals(first.exitCode, 0);
      assert(first.report.totals.retries > 5, `${first.report.totals.retries} retries`);
      addOrders(fixture.db, 4);
      const second = await run(fixture, loaded, out, { clock: fastClock(50) });
      assertEquals(second.exitCode, 0);
      // The re-run re-read the boundary (>= the watermark) and dropped what was already written.
      assert(second.assets.some((a) => a.duplicatesDropped > 0), "boundary rows were re-read");
      await assertIdentical(out, to, ["Orders", "Order Details"]);
      const replay = JSON.parse(await Deno.readTextFile(join(to, "replay.json")));
      assert(replay.assets.some((a: { dropped: number }) => a.dropped > 0));
    });
  }, chaosMock(4321));
});

Deno.test("replay rebuilds merge and replace assets and CSV, JSONL and raw-load formats", async () => {
  await withMockRun(async (fixture, out) => {
    await withTarget(async (to) => {
      const text = `name: modes
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
retry: { max_attempts: 3, base_ms: 1, cap_ms: 5 }
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: 200 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    incremental: { cursor_field: OrderDate, param: OrderDate__gte, param_format: datetime }
    contract: orders
    output: { mode: merge, partition_by: ["year(OrderDate)"] }
  - name: Order Details
    path: /northwind/Order%20Details.json
    params: { _size: 500 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID, ProductID]
    output: { mode: replace, format: csv }
  - name: Customers
    path: /northwind/Customers.json
    params: { _size: 40 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [CustomerID]
    output: { format: jsonl }
  - name: Products
    path: /northwind/Products.json
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [ProductID]
    output: { format: raw }
`;
      const loaded = yamlConfig(text);
      const first = await run(fixture, loaded, out);
      assertEquals(first.exitCode, 0);
      addOrders(fixture.db, 2);
      assertEquals((await run(fixture, loaded, out)).exitCode, 0);
      await assertIdentical(out, to, ["Orders", "Order Details", "Customers", "Products"]);
    });
  });
});

Deno.test("replay shapes rows as the harvest did (transform: ELT shape, key ids, added fields)", async () => {
  await withMockRun(async (fixture, out) => {
    await withTarget(async (to) => {
      const loaded = yamlConfig(`name: shaped
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: Customers
    path: /northwind/Customers.json
    params: { _size: 30 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [CustomerID]
    transform:
      flatten: false
      key_fields: [CustomerID]
      add_fields: { source: "northwind-{run_id}", city: "{record.City}" }
`);
      assertEquals((await run(fixture, loaded, out)).exitCode, 0);
      await assertIdentical(out, to, ["Customers"]);
    });
  });
});

Deno.test("replay rebuilds the derived line_items dataset from the replayed inputs", async () => {
  await withMockRun(async (fixture, out) => {
    await withTarget(async (to) => {
      const loaded = yamlConfig(
        northwindYaml({ size: 500 }) + `derive:
  - name: line_items
    from: [Order Details, Orders]
    on: [OrderID]
    columns: { extended_price: "UnitPrice * Quantity * (1 - Discount)" }
    output: { partition_by: ["year(OrderDate)"] }
`,
      );
      assertEquals((await run(fixture, loaded, out)).exitCode, 0);
      await assertIdentical(out, to, ["Orders", "Order Details", "line_items"]);
      const only = await replayOut(out, `${to}-only`, { assets: ["line_items"] });
      assertEquals(only.assets.map((a) => a.asset).sort(), [
        "Order Details",
        "Orders",
        "line_items",
      ]);
      await Deno.remove(`${to}-only`, { recursive: true });
    });
  });
});

Deno.test("replay skips the pages of a killed run that were fetched again", async () => {
  await withMockRun(async (fixture, out) => {
    await withTarget(async (to) => {
      // Append: rewindToCrash reproduces a crash exactly only where parts land as written.
      const loaded = yamlConfig(
        ordersYaml({ name: "killed", asset: "batch_size: 300\noutput: { mode: append }" }),
      );
      await run(fixture, loaded, out);
      // Killed after 2 of the 3 lines of the last batch (pages 7-9) reached the manifest.
      await rewindToCrash(out, { committed: 6, dropLines: 1 });

      const second = await run(fixture, loaded, out);
      assertEquals(second.assets[0].orphansRemoved, 1);
      const { entries } = await loadManifest(`${out}/manifest.jsonl`);
      const discard = entries.find((e) => e.record.event === "discard");
      assertEquals(discard?.record.discarded?.length, 2);
      assertEquals((await verifyOut(out)).mismatches, []);
      const replayed = await replayOut(out, to);
      assertEquals(replayed.assets[0].discarded, 2);
      assertEquals((await compareOuts(out, to, replayed.assets)).identical, true);
    });
  });
});

Deno.test("replay runs without network permission", async () => {
  await withMockRun(async (fixture, out) => {
    await withTarget(async (to) => {
      await run(fixture, yamlConfig(northwindYaml({ size: 500 })), out);
      const main = new URL("../../main.ts", import.meta.url).pathname;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          "--allow-read",
          // Unscoped: merge and replace assets switch folders with Deno.symlink, which Deno
          // allows only with unscoped read and write. No network permission at all.
          "--allow-write",
          "--allow-ffi",
          "--allow-env",
          "--allow-sys",
          main,
          "replay",
          "--out",
          out,
          "--to",
          to,
        ],
        stdout: "piped",
        stderr: "piped",
      });
      const result = await child.output();
      const stdout = new TextDecoder().decode(result.stdout);
      assertEquals(result.code, 0, new TextDecoder().decode(result.stderr) + stdout);
      assertStringIncludes(stdout, "OK: the replay holds the same rows");
      assertStringIncludes(stdout, "Orders (parquet/Orders): 830 rows, 830 keys");
    });
  });
});

Deno.test("replay refuses a snapshot that does not match the manifest, naming it", async () => {
  await withMockRun(async (fixture, out) => {
    await withTarget(async (to) => {
      await run(fixture, yamlConfig(northwindYaml({ size: 500 })), out);
      const [snapshot] = await filesUnder(join(out, "raw", "Orders"));
      const path = join(out, "raw", "Orders", snapshot);
      const bytes = await Deno.readFile(path);
      bytes[bytes.length - 3] ^= 0x01;
      await Deno.writeFile(path, bytes);
      const error = await assertRejects(() => replayOut(out, to), VerifyError);
      assertStringIncludes(error.message, `raw/Orders/${snapshot}`);
      assertEquals(await Deno.stat(to).catch(() => null), null, "nothing half-written");
    });
  });
});

Deno.test("replay refuses a target folder that is not empty", async () => {
  await withMockRun(async (fixture, out) => {
    await withTarget(async (to) => {
      await run(fixture, yamlConfig(northwindYaml({ size: 500 })), out);
      await Deno.mkdir(to);
      await Deno.writeTextFile(join(to, "keep.txt"), "mine");
      await assertRejects(() => replayOut(out, to), UsageError, "not empty");
      assertEquals(await Deno.readTextFile(join(to, "keep.txt")), "mine");
    });
  });
});

Deno.test("the comparison catches one changed cell in the original", async () => {
  await withMockRun(async (fixture, out) => {
    await withTarget(async (to) => {
      await run(fixture, yamlConfig(northwindYaml({ size: 500 })), out);
      const replayed = await replayOut(out, to);
      const [part] = await filesUnder(join(out, "parquet", "Order Details"));
      const path = join(out, "parquet", "Order Details", part);
      const frame = pl.readParquet(path);
      const quantity = frame.getColumn("Quantity").toArray() as number[];
      quantity[0] += 1;
      frame.withColumns(pl.Series("Quantity", quantity, frame.getColumn("Quantity").dtype))
        .writeParquet(path);
      const comparison = await compareOuts(out, to, replayed.assets);
      assertEquals(comparison.identical, false);
      const details = comparison.datasets.find((d) => d.asset === "Order Details")!;
      assertEquals(details.differences, ["row checksums differ"]);
    });
  });
});
