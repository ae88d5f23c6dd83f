/**
 * The child of `no_write_test.ts`: a whole Deploy run (the deployment from the environment, KV
 * at `TIDEMARK_KV`, a slice harvesting Orders into the memory scratch folder) in a process
 * started with deploy:local's permissions, where the only writable file is the KV file. It
 * prints one JSON line: the run's status, the order ids in the bucket's Parquet and the source's,
 * and what a write next to the KV file did.
 * @module
 */
import { dirname, join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { createApp } from "../../mock_api/app.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { prepareDeployment } from "../../lib/deploy/deployment.ts";
import { getRun } from "../../lib/deploy/runs.ts";
import { memoryBucket } from "./memory_bucket.ts";

const db = generateNorthwind(":memory:", { scale: 1, seed: 42 });
const app = createApp({ auth: "bearer", db });
const bucket = memoryBucket();
const deployment = await prepareDeployment({
  bucket,
  fetch: (input, init) => app.request(input, init),
  logOutput: null,
});
const run = await deployment.runner.start("shop", "manual");
await deployment.runner.runSlice({ kind: "tidemark.slice", job: "shop", run_id: run.run_id });
const ids: number[] = [];
for (const [key, data] of bucket.objects) {
  if (!key.startsWith("shop/parquet/Orders/") || !key.endsWith(".parquet")) continue;
  for (const row of await parquetReadObjects({ file: data.slice().buffer as ArrayBuffer })) {
    ids.push(Number(row.OrderID));
  }
}
const source = (db.prepare(`SELECT "OrderID" AS id FROM "Orders"`).all() as { id: number }[])
  .map((r) => Number(r.id));
let write = "written";
try {
  await Deno.writeTextFile(join(dirname(Deno.env.get("TIDEMARK_KV")!), "probe.txt"), "x");
} catch (error) {
  write = (error as Error).constructor.name;
}
const status = (await getRun(deployment.kv, run.run_id))?.status;
deployment.close();
console.log(JSON.stringify({
  status,
  ids: ids.sort((a, b) => a - b),
  source: source.sort((a, b) => a - b),
  write,
  objects: bucket.objects.size,
}));
