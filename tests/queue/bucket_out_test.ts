/**
 * A queued run with `--out s3://BUCKET/PREFIX`: workers harvest each unit into a scratch copy of
 * its bucket folder (an in-memory bucket here), flushed before every state write; the bucket
 * then holds Parquet equal to the source; a unit whose worker stalled mid-unit and lost its lease
 * is resumed by another worker from the bucket and PostgreSQL, exactly once; the state schema of
 * an s3 out is its URL's, not a local path's; a missing `AWS_*` variable fails the enqueue,
 * naming it. Skipped, saying why, when PostgreSQL is not installed.
 */
import { join } from "node:path";
import { loadConfig } from "../../lib/config/load.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import {
  enqueueHarvest,
  followRun,
  Queue,
  startWorker,
  unitFolder,
  unitStateSchema,
} from "../../lib/queue/mod.ts";
import { BOSS_SCHEMA, UNIT_QUEUE } from "../../lib/queue/store.ts";
import type { Bucket } from "../../lib/object_store/bucket.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { memoryBucket } from "../deploy/memory_bucket.ts";
import {
  mockFixture,
  northwindYaml,
  parquetKeys,
  SILENT,
  sourceKeys,
  TOKEN,
} from "../harvest/fixture.ts";
import {
  type PostgresServer,
  postgresUnavailable,
  startPostgres,
} from "../../mock_api/postgres_server.ts";

const unavailable = postgresUnavailable();
if (unavailable) console.log(`bucket_out_test: skipped: ${unavailable}`);

const OUT = "s3://lake/runs/northwind";

/** The server's URL with its password. */
function queueUrl(server: PostgresServer): string {
  const url = new URL(server.url);
  url.password = server.password;
  return url.href;
}

/** The Northwind config (token written in) in a temporary folder. */
async function configFile(): Promise<{ dir: string; config: string }> {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-queue-s3-" });
  const config = join(dir, "northwind.yaml");
  await Deno.writeTextFile(
    config,
    northwindYaml({ size: 10, orders: "batch_size: 50" }).replace(
      "${API_TOKEN}",
      `${"${"}API_TOKEN:-${TOKEN}}`,
    ),
  );
  return { dir, config };
}

/** The bucket's objects under `s3://lake/runs/northwind/` copied into `dir`. */
async function download(objects: Map<string, Uint8Array>, dir: string): Promise<void> {
  for (const [key, data] of objects) {
    const target = join(dir, key);
    await Deno.mkdir(join(target, ".."), { recursive: true });
    await Deno.writeFile(target, data);
  }
}

/** Opens `s3://lake/…` as folders of one in-memory bucket (the `lake` bucket's keys). */
function memoryOpener(objects: Map<string, Uint8Array>) {
  return (url: string): Bucket => memoryBucket(objects, url.slice("s3://lake/".length));
}

/** `bucket` (and its children) whose uploads never end once `when()` holds. */
function freezeAfter(bucket: Bucket, when: () => boolean, frozen: () => void): Bucket {
  return {
    ...bucket,
    put: (path, data) => {
      if (!when()) return bucket.put(path, data);
      frozen();
      return new Promise<void>(() => {});
    },
    child: (name) => freezeAfter(bucket.child(name), when, frozen),
  };
}

Deno.test("queue: the state schema of an s3 out is named by its URL, trailing slash or not", () => {
  assertEquals(unitStateSchema(OUT, "Orders"), unitStateSchema(`${OUT}/`, "Orders"));
  assert(unitStateSchema(OUT, "Orders") !== unitStateSchema(OUT, "Order Details"));
  assert(unitStateSchema(OUT, "Orders") !== unitStateSchema("s3://lake/other", "Orders"));
});

Deno.test({
  name: "queue: --out s3:// units land in the bucket, a stalled unit resumes on another worker",
  ignore: unavailable !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startPostgres();
    const env = { AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s", AWS_REGION: "us-east-1" };
    try {
      await t.step(
        "two workers harvest Northwind into the bucket, equal to the source",
        async () => {
          const mock = mockFixture();
          const { dir, config } = await configFile();
          const objects = new Map<string, Uint8Array>();
          const queue = await Queue.open(queueUrl(server));
          const options = {
            harvest: { ...SILENT, fetch: mock.fetch },
            pollSeconds: 0.5,
            bucketOut: { env, openBucket: memoryOpener(objects) },
          };
          const a = await startWorker(queueUrl(server), { ...options, name: "a" });
          const b = await startWorker(queueUrl(server), { ...options, name: "b" });
          try {
            const spec = await enqueueHarvest(queue, await loadConfig(config), { out: OUT, env });
            assertEquals(spec.out, OUT);
            const end = await followRun(queue, spec.runId, { backstopMs: 200 });
            assertEquals(end.status, "succeeded", JSON.stringify(end.units));
            const local = join(dir, "bucket");
            await download(objects, local);
            const run = join(local, "runs", "northwind");
            for (
              const [asset, key] of [["Orders", ["OrderID"]], [
                "Order Details",
                ["OrderID", "ProductID"],
              ]] as [string, string[]][]
            ) {
              const got = await parquetKeys(join(run, unitFolder(asset)), asset, key);
              assertEquals(got.sort(), sourceKeys(mock.db, asset, key), asset);
            }
            // Nothing but the unit folders, and no scratch-only file (lock, temporary names).
            assert([...objects.keys()].every((k) => k.startsWith("runs/northwind/units/")));
            assert(![...objects.keys()].some((k) => k.includes(".tidemark.lock")));
          } finally {
            await a.stop();
            await b.stop();
            await queue.close();
            mock.close();
            await Deno.remove(dir, { recursive: true });
          }
        },
      );

      await t.step("a unit stalled mid-way is resumed from the bucket, exactly", async () => {
        const mock = mockFixture();
        const { dir, config } = await configFile();
        const objects = new Map<string, Uint8Array>();
        const queue = await Queue.open(queueUrl(server));
        // The first worker's uploads freeze once its state holds committed pages: a process
        // frozen mid-unit, between two commits. (A frozen upload, not a frozen response: a
        // response has a timeout and the unit would fail instead.)
        const out = `${OUT}-stalled`;
        let committed = false;
        const stalled = Promise.withResolvers<void>();
        const freezing = (url: string): Bucket =>
          freezeAfter(memoryOpener(objects)(url), () => committed, stalled.resolve);
        const a = await startWorker(queueUrl(server), {
          harvest: { ...SILENT, fetch: mock.fetch },
          pollSeconds: 0.5,
          bucketOut: { env, openBucket: freezing },
          name: "frozen",
        });
        const bucketOut = { env, openBucket: memoryOpener(objects) };
        let b: Awaited<ReturnType<typeof startWorker>> | undefined;
        try {
          const spec = await enqueueHarvest(queue, await loadConfig(config), {
            out,
            env,
            assets: ["Orders"],
          });
          const pages = `SELECT count(*)::int AS n FROM ${unitStateSchema(out, "Orders")}.pages`;
          while (!committed) {
            const { rows } = await queue.pool.query(pages).catch(() => ({ rows: [{ n: 0 }] }));
            committed = rows[0].n > 0;
            if (!committed) await new Promise((resolve) => setTimeout(resolve, 10));
          }
          await stalled.promise;
          // Its lease ran out (no real wait): the heartbeat is older than the lease.
          const unit = (await queue.units(spec.runId))[0];
          await queue.pool.query(
            `UPDATE ${BOSS_SCHEMA}.job SET heartbeat_seconds = 10,
               heartbeat_on = now() - interval '1 hour' WHERE id = $1`,
            [unit.jobId],
          );
          await queue.boss.supervise(UNIT_QUEUE);
          let fetchedByB = 0;
          b = await startWorker(queueUrl(server), {
            harvest: {
              ...SILENT,
              fetch: (input, init) => {
                if (input.includes("/Orders")) fetchedByB++;
                return mock.fetch(input, init);
              },
            },
            pollSeconds: 0.5,
            bucketOut,
            name: "b",
          });
          const end = await followRun(queue, spec.runId, { backstopMs: 200 });
          assertEquals(end.status, "succeeded", JSON.stringify(end.units));
          assertEquals(end.units[0].attempts, 2);
          assertEquals(end.units[0].worker, "b");
          // It resumed: the second attempt fetched only the pages the first had not committed.
          // (83 pages of 10 orders from the start.)
          assert(fetchedByB < 83, `pages fetched by attempt 2: ${fetchedByB}`);
          const local = join(dir, "bucket");
          await download(objects, local);
          const got = await parquetKeys(
            join(local, "runs", "northwind-stalled", unitFolder("Orders")),
            "Orders",
            ["OrderID"],
          );
          assertEquals(got.sort(), sourceKeys(mock.db, "Orders", ["OrderID"]));
        } finally {
          await b?.stop();
          // The frozen worker's unit never ends: stop it without waiting for it.
          await a.stop({ graceful: false });
          await queue.close();
          mock.close();
          await Deno.remove(dir, { recursive: true });
        }
      });
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name: "queue: --out s3:// without AWS credentials fails the enqueue, naming the variable",
  ignore: unavailable !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startPostgres();
    const { dir, config } = await configFile();
    const queue = await Queue.open(queueUrl(server));
    try {
      const missing = await assertRejects(
        async () =>
          enqueueHarvest(queue, await loadConfig(config), {
            out: OUT,
            env: { AWS_ACCESS_KEY_ID: "k" },
          }),
        ConfigError,
      );
      assertStringIncludes(missing.message + JSON.stringify(missing), "AWS_SECRET_ACCESS_KEY");
    } finally {
      await queue.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("harvest --out s3:// without --queue is a usage error, and writes nothing", async () => {
  const { command } = await import("../../lib/cli/harvest.ts");
  const { UsageError } = await import("../../lib/core/errors.ts");
  const { dir, config } = await configFile();
  const cwd = Deno.cwd();
  Deno.chdir(dir);
  try {
    const error = await assertRejects(
      () => command.run(["--config", config, "--out", OUT]),
      UsageError,
    );
    assertStringIncludes(error.message, "--queue");
    assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), [
      "northwind.yaml",
    ]);
  } finally {
    Deno.chdir(cwd);
    await Deno.remove(dir, { recursive: true });
  }
});
