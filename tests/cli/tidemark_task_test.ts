/**
 * `deno task tidemark`: `harvest` goes through the permission launcher (only its config's hosts
 * and folders); every other command starts with the flags the other commands use.
 */
import { join } from "node:path";
import { HARVEST_V8_FLAGS, MAIN } from "../../lib/cli/harvest_task.ts";
import { networkOf, OTHER_COMMAND_FLAGS, runTidemarkTask } from "../../lib/cli/tidemark_task.ts";
import { assert, assertEquals } from "../assert.ts";
import { capture } from "./capture.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark-cli-task-");

Deno.test("tidemark task: harvest gets its config's host and out folder, not a wide grant", async () => {
  await withDir(async (dir) => {
    const config = join(dir, "job.yaml");
    await Deno.writeTextFile(
      config,
      `name: job
base_url: http://api.example.org:8080
auth: { type: none }
assets:
  - name: Orders
    path: /orders
    data_path: rows
    output: { mode: append }
`,
    );
    const started: string[][] = [];
    const spawn = (args: string[]) => {
      started.push(args);
      return Promise.resolve(0);
    };
    const out = join(dir, "elsewhere");
    const code = await capture(() =>
      runTidemarkTask(["harvest", "--config", config, "--out", out], spawn)
    );
    assertEquals(code.result, 0);
    assertEquals(started[0].filter((a) => a.startsWith("--allow-net")), [
      "--allow-net=api.example.org:8080",
    ]);
    assertEquals(started[0].filter((a) => a.startsWith("--allow-write")), [`--allow-write=${out}`]);
    started.length = 0;
    await runTidemarkTask(["verify", "--out", out], spawn);
    assertEquals(started, [["run", ...OTHER_COMMAND_FLAGS, MAIN, "verify", "--out", out]]);
    // The launcher (deno.json) and both kinds of child run under the same V8 flags.
    assert(OTHER_COMMAND_FLAGS.includes(HARVEST_V8_FLAGS));
  });
});

Deno.test("tidemark task: status and verify reach the servers their flags name; a worker any host", () => {
  assertEquals(
    networkOf("status", ["--queue", "postgres://etl@db.example:5433/ops", "r1"], {}),
    "--allow-net=127.0.0.1,localhost,db.example:5433",
  );
  assertEquals(
    networkOf("verify", ["--out=s3://lake/t/job"], { AWS_ENDPOINT_URL_S3: "http://minio:9000" }),
    "--allow-net=127.0.0.1,localhost,minio:9000",
  );
  assertEquals(networkOf("verify", ["--out", "s3://lake/t/job"], {}), "--allow-net");
  assertEquals(networkOf("worker", ["--queue", "postgres://db/ops"], {}), "--allow-net");
  assertEquals(networkOf("verify", ["--out", "demo-out"], {}), "--allow-net=127.0.0.1,localhost");
});

Deno.test("tidemark task: serve listens on its --host; extract reaches its --db server", () => {
  assertEquals(
    networkOf("serve", ["--host", "127.0.0.2", "--port", "9000"], {}),
    "--allow-net=127.0.0.1,localhost,127.0.0.2",
  );
  assertEquals(
    networkOf("serve", ["--host=0.0.0.0"], {}),
    "--allow-net=127.0.0.1,localhost,0.0.0.0",
  );
  assertEquals(
    networkOf("extract", ["--db", "postgres://etl@warehouse.example/shop", "--out", "o"], {}),
    "--allow-net=127.0.0.1,localhost,warehouse.example:5432",
  );
  assertEquals(
    networkOf("extract", ["--db", "shop.sqlite"], {}),
    "--allow-net=127.0.0.1,localhost",
  );
});
