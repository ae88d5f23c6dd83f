/**
 * Key-range units on a throwaway PostgreSQL: an asset with a key-range `partition:` (cut again by
 * `split`) becomes one unit per range, taken by several workers; the asset is complete once every
 * range committed, and the union of the range folders equals the source exactly. Skipped, saying
 * why, when PostgreSQL is not installed.
 */
import { join } from "node:path";
import { loadConfig } from "../../lib/config/load.ts";
import {
  assetProgress,
  enqueueHarvest,
  followRun,
  Queue,
  renderAssets,
  splitPartition,
  startWorker,
  unitFolder,
  unitsOf,
} from "../../lib/queue/mod.ts";
import { takeQueueFlags } from "../../lib/cli/queue_flags.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";
import {
  mockFixture,
  northwindYaml,
  parquetKeys,
  SILENT,
  sourceKeys,
  TOKEN,
} from "../harvest/fixture.ts";
import { postgresUnavailable, startPostgres } from "../../mock_api/postgres_server.ts";

const unavailable = postgresUnavailable();
if (unavailable) console.log(`split_test: skipped: ${unavailable}`);

Deno.test("splitPartition: own key-range partition, --split over it, a one-column key", () => {
  const base = {
    name: "A",
    partition: { by: "Id", parts: 3 },
    primary_key: ["Id"],
  } as unknown as Parameters<typeof splitPartition>[0];
  assertEquals(splitPartition(base, undefined)?.parts, 3);
  assertEquals(splitPartition(base, 8)?.parts, 8);
  assertEquals(splitPartition({ ...base, partition: undefined }, 4), { by: "Id", parts: 4 });
  assertEquals(splitPartition({ ...base, partition: undefined }, undefined), undefined);
  assertEquals(
    splitPartition({ ...base, partition: undefined, primary_key: ["A", "B"] }, 4),
    undefined,
  );
  assertEquals(
    splitPartition({ ...base, partition: { by: "page", parts: 4 } } as typeof base, 4)?.by,
    "Id",
  );
});

Deno.test("--split N goes with --queue and takes 1 to 256", () => {
  const { flags, rest } = takeQueueFlags([
    "--queue",
    "postgres://q/db",
    "--split=4",
    "--config",
    "x",
  ]);
  assertEquals([flags.split, rest], [4, ["--config", "x"]]);
  for (const bad of ["0", "257", "two", "1.5"]) {
    assertThrows(() => takeQueueFlags(["--queue", "postgres://q/db", "--split", bad]), UsageError);
  }
  assertThrows(() => takeQueueFlags(["--split", "4"]), UsageError, "go with --queue");
});

Deno.test({
  name: "queue: key-range units shared by three workers equal the source exactly",
  ignore: unavailable !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startPostgres();
    const url = new URL(server.url);
    url.password = server.password;
    const mock = mockFixture();
    const dir = await Deno.makeTempDir({ prefix: "tidemark-split-" });
    const config = join(dir, "northwind.yaml");
    await Deno.writeTextFile(
      config,
      northwindYaml({ size: 20, orders: "partition: { by: OrderID, parts: 3 }" })
        .replace("${API_TOKEN}", `${"${"}API_TOKEN:-${TOKEN}}`),
    );
    const out = join(dir, "out");
    const queue = await Queue.open(url.href);
    const options = { harvest: { ...SILENT, fetch: mock.fetch }, pollSeconds: 0.5 };
    const workers = await Promise.all(
      ["a", "b", "c"].map((name) => startWorker(url.href, { ...options, name })),
    );
    try {
      const spec = await enqueueHarvest(queue, await loadConfig(config), {
        out,
        split: 4,
        fetch: mock.fetch,
      });
      const orders = unitsOf(spec).filter((u) => u.asset === "Orders");
      assertEquals(orders.length, 4);
      assertEquals(orders[0].range?.params, { OrderID__lt: orders[1].range?.params.OrderID__gte });
      assertEquals(Object.keys(orders[3].range!.params), ["OrderID__gte"]);
      const end = await followRun(queue, spec.runId, { backstopMs: 200 });
      assertEquals(end.status, "succeeded", JSON.stringify(end.units));
      assertEquals(end.units.length, 5);
      assert(end.units.every((u) => (u.rows ?? 0) > 0), JSON.stringify(end.units));
      assertEquals(assetProgress(spec, end.units), [
        { asset: "Orders", units: 4, done: 4, complete: true },
        { asset: "Order Details", units: 1, done: 1, complete: true },
      ]);
      assertEquals(
        renderAssets(assetProgress(spec, end.units)),
        "assets: Orders complete (4 key ranges), Order Details complete",
      );
      assertEquals(
        renderAssets(
          assetProgress(spec, end.units.map((u, i) => i === 0 ? { ...u, status: "failed" } : u)),
        ),
        "assets: Orders complete (4 key ranges), Order Details 0/1 unit(s) committed",
      );
      const got: string[] = [];
      for (const unit of orders) {
        got.push(
          ...await parquetKeys(join(out, unitFolder("Orders", unit.range)), "Orders", ["OrderID"]),
        );
      }
      assertEquals(got.length, sourceKeys(mock.db, "Orders", ["OrderID"]).length);
      assertEquals(got.sort(), sourceKeys(mock.db, "Orders", ["OrderID"]));
      // The next run into the same folder keeps the ranges (no probe: this transport fails).
      const again = await enqueueHarvest(queue, await loadConfig(config), {
        out,
        split: 4,
        fetch: () => Promise.reject(new Error("no request expected")),
        assets: ["Orders"],
      });
      assertEquals(unitsOf(again), orders);
      const rerun = await followRun(queue, again.runId, { backstopMs: 200 });
      assertEquals(rerun.status, "succeeded", JSON.stringify(rerun.units));
      const after: string[] = [];
      for (const unit of orders) {
        after.push(
          ...await parquetKeys(join(out, unitFolder("Orders", unit.range)), "Orders", ["OrderID"]),
        );
      }
      assertEquals(after.sort(), sourceKeys(mock.db, "Orders", ["OrderID"]), "no row doubled");
      const details = await parquetKeys(join(out, unitFolder("Order Details")), "Order Details", [
        "OrderID",
        "ProductID",
      ]);
      assertEquals(details.sort(), sourceKeys(mock.db, "Order Details", ["OrderID", "ProductID"]));
    } finally {
      for (const w of workers) await w.stop();
      await queue.close();
      mock.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
