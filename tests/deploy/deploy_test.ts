/**
 * The Deploy entry's parts, in-process: the routes through `app.request()`, the KV lock (two
 * concurrent runs → one 409), an invalid job config listed in /jobs while the others run, a
 * slice stopped at a page boundary and resumed exactly by the next, and missing S3 credentials
 * named in one line.
 */
import type { DenoCronFunction } from "../../lib/schedule/deploy.ts";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../assert.ts";
import { prepareDeployment, readSettings } from "../../lib/deploy/deployment.ts";
import { openBucket } from "../../lib/object_store/bucket.ts";
import { getRun, isSliceMessage, type SliceMessage } from "../../lib/deploy/runs.ts";
import { DeployRunner } from "../../lib/deploy/runner.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import { forceParquetEngine } from "../../lib/sinks/ffi.ts";
import { BASE_URL, mockFixture, sourceKeys, TOKEN } from "../harvest/fixture.ts";
import { tempFolders } from "../temp_dir.ts";
import { memoryBucket } from "./memory_bucket.ts";

const withDir = tempFolders("tidemark-deploy-");
const ADMIN = "admin-secret";

function orders(size: number, incremental = false): string {
  return `name: shop
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: ${size} }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
${incremental ? "    incremental: { cursor_field: OrderID, kind: id, param: OrderID__gte }\n" : ""}\
    output: { partition_by: [ShipCountry] }
`;
}

async function setup(dir: string, options: { size?: number; incremental?: boolean } = {}) {
  await Deno.writeTextFile(
    join(dir, "shop.yaml"),
    orders(options.size ?? 100, options.incremental),
  );
  await Deno.writeTextFile(
    join(dir, "broken.yaml"),
    "name: broken\nbase_url: http://127.0.0.1:9\nassets: [{ name: x, path: /x, pagination: { type: cursr } }]\n",
  );
  await Deno.writeTextFile(
    join(dir, "schedule.yaml"),
    'jobs:\n  - { config: shop.yaml, schedule: "0 * * * *" }\n  - { config: broken.yaml, schedule: "0 * * * *" }\n',
  );
  const fixture = mockFixture();
  const kvPath = join(dir, "kv.sqlite");
  const kv = await Deno.openKv(kvPath);
  const bucket = memoryBucket();
  const deployment = await prepareDeployment({
    env: {
      TIDEMARK_SCHEDULE: join(dir, "schedule.yaml"),
      TIDEMARK_OUT: "s3://lake/tidemark",
      TIDEMARK_KV: kvPath,
      TIDEMARK_ADMIN_TOKEN: ADMIN,
      API_TOKEN: TOKEN,
    },
    kv,
    bucket,
    fetch: fixture.fetch,
    logOutput: null,
  });
  return { fixture, kv, bucket, deployment };
}

function sourceIds(db: Parameters<typeof sourceKeys>[0]): number[] {
  return sourceKeys(db, "Orders", ["OrderID"]).map(Number).sort((a, b) => a - b);
}

/** The first slice message a run enqueued, taken off the queue by hand (no listener runs). */
function sliceOf(runId: string): SliceMessage {
  return { kind: "tidemark.slice", job: "shop", run_id: runId };
}

async function bucketKeys(bucket: ReturnType<typeof memoryBucket>): Promise<number[]> {
  const ids: number[] = [];
  for (const [key, data] of bucket.objects) {
    if (!key.startsWith("shop/parquet/Orders/") || !key.endsWith(".parquet")) continue;
    for (const row of await parquetReadObjects({ file: data.slice().buffer as ArrayBuffer })) {
      ids.push(Number(row.OrderID));
    }
  }
  return ids.sort((a, b) => a - b);
}

Deno.test("routes: health, jobs with an invalid config listed, manual runs behind the token, reports", async () => {
  forceParquetEngine("js");
  try {
    await withDir(async (dir) => {
      const { deployment, kv, bucket, fixture } = await setup(dir);
      const app = deployment.app;
      assertEquals((await app.request("/health")).status, 200);
      const jobs = await (await app.request("/jobs")).json();
      assertEquals(jobs.map((j: { name: string }) => j.name), ["shop", "broken"]);
      assertEquals(jobs[0].last_run, null);
      assertStringIncludes(jobs[1].error, "cursr");

      const post = (name: string, token?: string) =>
        app.request(`/jobs/${name}/run`, {
          method: "POST",
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
      assertEquals((await post("shop")).status, 401);
      assertEquals((await post("shop", "wrong")).status, 401);
      assertEquals((await post("nope", ADMIN)).status, 404);
      const accepted = await post("shop", ADMIN);
      assertEquals(accepted.status, 202);
      const { run_id } = await accepted.json();
      assertEquals((await post("shop", ADMIN)).status, 409, "the job runs");

      await deployment.runner.runSlice(sliceOf(run_id));
      const listed = (await (await app.request("/jobs")).json())[0].last_run;
      assertEquals(listed.status, "succeeded");
      assertEquals(listed.trigger, "manual");
      assertEquals(listed.records, sourceKeys(fixture.db, "Orders", ["OrderID"]).length);
      const run = await (await app.request(`/runs/${run_id}`)).json();
      assertEquals(run.report.run_id, run_id);
      const html = await app.request(`/runs/${run_id}.html`);
      assertEquals(html.status, 200);
      assertStringIncludes(await html.text(), "<html");
      assertEquals((await app.request("/runs/nope")).status, 404);
      assertEquals(await bucketKeys(bucket), sourceIds(fixture.db));
      assert([...bucket.objects.keys()].some((k) => k === "shop/manifest.jsonl"));
      kv.close();
    });
  } finally {
    forceParquetEngine(undefined);
  }
});

Deno.test("crons: each valid job registers with Deno.cron on its schedule; a fire starts a run with trigger cron", async () => {
  await withDir(async (dir) => {
    const { deployment, kv } = await setup(dir);
    const registered: string[] = [];
    const handlers: (() => Promise<void>)[] = [];
    const cron: DenoCronFunction = (name, schedule, _options, handler) => {
      registered.push(`${name} ${schedule}`);
      handlers.push(handler);
      return new Promise(() => {});
    };
    deployment.registerCrons(cron);
    assertEquals(registered, ["shop 0 * * * *"], "the broken job is listed, not scheduled");
    await handlers[0]();
    const jobs = await (await deployment.app.request("/jobs")).json();
    const shop = jobs.find((j: { name: string }) => j.name === "shop");
    assertEquals(shop.last_run?.trigger, "cron");
    kv.close();
  });
});

Deno.test("the lock: two concurrent runs of one job → one 202, one 409", async () => {
  await withDir(async (dir) => {
    const { deployment, kv } = await setup(dir);
    const post = () =>
      deployment.app.request("/jobs/shop/run", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}` },
      });
    const statuses = (await Promise.all([post(), post(), post()])).map((r) => r.status).sort();
    assertEquals(statuses, [202, 409, 409]);
    kv.close();
  });
});

/** A run cut after three data requests, then finished by a second slice. */
async function slicedRun(incremental: boolean): Promise<void> {
  forceParquetEngine("js");
  try {
    await withDir(async (dir) => {
      let budget = new AbortController();
      const { deployment, kv, bucket, fixture } = await setup(dir, { size: 50, incremental });
      let requests = 0;
      // A runner whose slice budget ends after the third data request.
      const sliced = new DeployRunner({
        kv,
        kvPath: join(dir, "kv.sqlite"),
        bucket,
        jobs: deployment.jobs,
        fetch: (input, init) => {
          if (String(input).includes("Orders.json") && ++requests === 3) budget.abort();
          return fixture.fetch(input, init);
        },
        logOutput: null,
        sliceBudget: () => budget.signal,
      });
      const run = await sliced.start("shop", "manual");
      await sliced.runSlice(sliceOf(run.run_id));
      const after = await getRun(kv, run.run_id);
      assertEquals(after?.status, "running");
      assertEquals(after?.slices.map((s) => s.status), ["stopped"]);
      assert(after!.records > 0 && after!.records < 830, `stopped midway: ${after?.records}`);
      const partial = await bucketKeys(bucket);
      assertEquals(partial.length, 0, "merge parts are visible only when the asset completes");
      assert(isSliceMessage(sliceOf(run.run_id)));

      budget = new AbortController();
      await sliced.runSlice(sliceOf(run.run_id));
      const done = await getRun(kv, run.run_id);
      assertEquals(done?.status, "succeeded");
      assertEquals(done?.slices.length, 2);
      const keys = await bucketKeys(bucket);
      assertEquals(keys, sourceIds(fixture.db));
      assert(done!.records >= keys.length, "the slices fetched every record");
      kv.close();
    });
  } finally {
    forceParquetEngine(undefined);
  }
}

Deno.test("a slice stopped at a page boundary hands over, and the next completes the run exactly", async () => {
  await slicedRun(false);
});

Deno.test("a slice stopped in an incremental asset: the next re-reads the committed pages' snapshots, hydrated from the bucket, and completes exactly", async () => {
  // The resume feeds the committed pages to the watermark tracker from their snapshots, which
  // the first slice uploaded under its own run id.
  await slicedRun(true);
});

Deno.test("missing S3 credentials or TIDEMARK_OUT: one line naming the variable", () => {
  const oneLine = (fn: () => unknown, name: string) => {
    const error = assertThrows(fn, ConfigError) as ConfigError;
    const line = `tidemark deploy: ${error.message.split("\n").join("; ")}`;
    assertStringIncludes(line, name);
    assert(!line.includes("\n"));
  };
  oneLine(() => readSettings({}), "TIDEMARK_OUT");
  oneLine(
    () => openBucket("s3://lake/x", { AWS_ACCESS_KEY_ID: "k" }),
    "AWS_SECRET_ACCESS_KEY is not set",
  );
  oneLine(
    () => openBucket("s3://lake/x", { AWS_SECRET_ACCESS_KEY: "s" }),
    "AWS_ACCESS_KEY_ID is not set",
  );
});
