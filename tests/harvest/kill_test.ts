/**
 * Exactly once under `kill -9`: `tidemark harvest` runs in a child process and is SIGKILLed —
 * alternately when the server receives its k-th request, and on the k-th file-system event under
 * the out folder (a snapshot, part, manifest or state write: inside the stage/commit pipeline),
 * k from a seeded random — ten times in a row, each run resuming what the last one left, then
 * runs to the end. The Parquet key set must equal the source's, with no duplicate, and every
 * snapshot must match the manifest. No sleeping: a request or a file event decides when to kill.
 */
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { createApp } from "../../mock_api/app.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { verifyOut } from "../../lib/provenance/verify.ts";
import { assert, assertEquals } from "../assert.ts";
import { createRandom } from "../../mock_api/data/random.ts";
import { HARVEST_PROCESS_ARGS, parquetKeys, sorted, sourceKeys, TOKEN } from "./fixture.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function configYaml(baseUrl: string): string {
  return `name: killed
base_url: ${baseUrl}
auth: { type: bearer, token: \${API_TOKEN} }
retry: { max_attempts: 6, base_ms: 1, cap_ms: 5, timeout_s: 30 }
workers: 3
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: 40 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    incremental: { cursor_field: OrderDate, param: OrderDate__gte, param_format: datetime }
    partition: { by: OrderID, parts: 3 }
    contract: orders
    batch_size: 120
    output: { partition_by: [ShipCountry] }
  - name: Order Details
    path: /northwind/Order%20Details.json
    params: { _size: 40 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID, ProductID]
    incremental: { cursor_field: OrderID, kind: id, param: OrderID__gte }
    batch_size: 120
`;
}

Deno.test("kill -9 at ten random points, each run resuming the last: every source row lands exactly once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-kill-" });
  const dbPath = `${dir}/northwind.sqlite`;
  generateNorthwind(dbPath, { scale: 1, seed: 42 }).close();
  const db = new DatabaseSync(dbPath);
  const app = createApp({ db, auth: "bearer" });
  let child: Deno.ChildProcess | null = null;
  let received = 0;
  let killAt = Infinity;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    onError: () => new Response(null, { status: 500 }),
  }, (request) => {
    received++;
    if (received === killAt && child) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    return app.fetch(request);
  });
  const config = `${dir}/config.yaml`;
  await Deno.writeTextFile(config, configYaml(`http://127.0.0.1:${server.addr.port}`));
  const out = `${dir}/out`;
  await Deno.mkdir(out, { recursive: true });
  const harvestOnce = async (killOnFileEvent = 0) => {
    const watcher = killOnFileEvent > 0 ? Deno.watchFs(out, { recursive: true }) : null;
    child = new Deno.Command(Deno.execPath(), {
      args: [...HARVEST_PROCESS_ARGS, "--config", config, "--out", out, "--quiet"],
      cwd: ROOT,
      env: { API_TOKEN: TOKEN, NO_COLOR: "1" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    const running = child;
    if (watcher) {
      const events = watcher[Symbol.asyncIterator]();
      const exited = running.status.then(() => "exited" as const);
      let seen = 0;
      for (;;) {
        const next = await Promise.race([events.next(), exited]);
        if (next === "exited" || next.done) break;
        if (++seen >= killOnFileEvent) {
          try {
            running.kill("SIGKILL");
          } catch {
            // already gone
          }
          break;
        }
      }
      watcher.close();
    }
    const status = await running.status;
    child = null;
    return status;
  };
  try {
    // The mock's seeded PRNG: the kill points are the same on every run of the test.
    const random = createRandom(20261123);
    let killed = 0;
    for (let i = 0; i < 10; i++) {
      received = 0;
      const k = 1 + Math.floor(random() * 14);
      killAt = i % 2 === 0 ? k : Infinity;
      const status = await harvestOnce(i % 2 === 0 ? 0 : 4 * k);
      if (status.signal === "SIGKILL") killed++;
      else assertEquals(status.code, 0, `run ${i} ended with ${status.code}`);
    }
    assert(killed >= 8, `the harvester was killed ${killed} times out of 10`);
    killAt = Infinity;
    const final = await harvestOnce();
    assertEquals(final.code, 0, "the last run completes");

    const orders = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(orders.length, new Set(orders).size, "no order written twice");
    assertEquals(sorted(orders), sourceKeys(db, "Orders", ["OrderID"]));
    const lines = await parquetKeys(out, "Order Details", ["OrderID", "ProductID"]);
    assertEquals(lines.length, new Set(lines).size, "no line written twice");
    assertEquals(sorted(lines), sourceKeys(db, "Order Details", ["OrderID", "ProductID"]));
    const verified = await verifyOut(out);
    assertEquals(verified.mismatches, []);
    assert(verified.ok);
  } finally {
    await server.shutdown();
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
