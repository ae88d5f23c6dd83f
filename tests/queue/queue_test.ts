/**
 * Harvests spread over workers on a throwaway PostgreSQL (mock_api/postgres_server.ts): two
 * workers share a Northwind run (Orders, Order Details) whose Parquet equals the source; a unit
 * whose worker vanished after claiming it is retried once its lease ran out, exactly; a queue
 * that cannot be reached is one line naming its URL with the password masked. Skipped, saying
 * why, when PostgreSQL is not installed.
 */
import { join } from "node:path";
import { loadConfig } from "../../lib/config/load.ts";
import {
  enqueueHarvest,
  followRun,
  Queue,
  QueueUnavailableError,
  startWorker,
  unitFolder,
} from "../../lib/queue/mod.ts";
import { BOSS_SCHEMA, UNIT_QUEUE } from "../../lib/queue/store.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
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
if (unavailable) console.log(`queue_test: skipped: ${unavailable}`);

/** The server's URL with its password (as a user may write `--queue`). */
function queueUrl(server: PostgresServer, password = server.password): string {
  const url = new URL(server.url);
  url.password = password;
  return url.href;
}

/** A shared folder with the Northwind config (token written in) and an out folder. */
async function sharedFolder(): Promise<{ dir: string; config: string; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-queue-" });
  const config = join(dir, "northwind.yaml");
  await Deno.writeTextFile(
    config,
    northwindYaml({ size: 50 }).replace("${API_TOKEN}", `${"${"}API_TOKEN:-${TOKEN}}`),
  );
  return { dir, config, out: join(dir, "out") };
}

/** Both assets' Parquet in their unit folders holds every source row exactly once. */
async function assertExact(out: string, db: Parameters<typeof sourceKeys>[0]): Promise<void> {
  for (
    const [asset, key] of [["Orders", ["OrderID"]], ["Order Details", [
      "OrderID",
      "ProductID",
    ]]] as [
      string,
      string[],
    ][]
  ) {
    const got = await parquetKeys(join(out, unitFolder(asset)), asset, key);
    const want = sourceKeys(db, asset, key);
    assertEquals(got.length, want.length, `${asset}: rows`);
    assertEquals([...got].sort(), want, `${asset}: keys`);
  }
}

Deno.test({
  name: "queue: workers share a run, a vanished worker's unit is retried, bad URLs exit 2",
  ignore: unavailable !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startPostgres();
    try {
      await t.step("two workers harvest Northwind into Parquet equal to the source", async () => {
        const mock = mockFixture();
        const shared = await sharedFolder();
        const queue = await Queue.open(queueUrl(server));
        const options = { harvest: { ...SILENT, fetch: mock.fetch }, pollSeconds: 0.5 };
        const a = await startWorker(queueUrl(server), { ...options, name: "a" });
        const b = await startWorker(queueUrl(server), { ...options, name: "b" });
        try {
          const spec = await enqueueHarvest(queue, await loadConfig(shared.config), {
            out: shared.out,
          });
          const end = await followRun(queue, spec.runId, { backstopMs: 200 });
          assertEquals(end.status, "succeeded", JSON.stringify(end.units));
          assertEquals(end.exitCode, 0);
          assertEquals(end.units.map((u) => u.asset), ["Order Details", "Orders"]);
          assert(end.units.every((u) => u.attempts === 1 && (u.rows ?? 0) > 0));
          await assertExact(shared.out, mock.db);
        } finally {
          await a.stop();
          await b.stop();
          await queue.close();
          mock.close();
          await Deno.remove(shared.dir, { recursive: true });
        }
      });

      await t.step("a unit whose worker vanished is retried after its lease, exactly", async () => {
        const mock = mockFixture();
        const shared = await sharedFolder();
        const queue = await Queue.open(queueUrl(server));
        try {
          const spec = await enqueueHarvest(queue, await loadConfig(shared.config), {
            out: shared.out,
            assets: ["Orders"],
          });
          // A worker claims the unit, says it started, and is never heard of again.
          const [job] = await queue.boss.fetch(UNIT_QUEUE);
          assertEquals(job.data, { runId: spec.runId, asset: "Orders" });
          await queue.beginAttempt(spec.runId, "Orders", "vanished", "x");
          // Its lease ran out: the heartbeat is older than the lease (no real wait).
          await queue.pool.query(
            `UPDATE ${BOSS_SCHEMA}.job SET heartbeat_seconds = 10,
               heartbeat_on = now() - interval '1 hour' WHERE id = $1`,
            [job.id],
          );
          await queue.boss.supervise(UNIT_QUEUE);
          const worker = await startWorker(queueUrl(server), {
            harvest: { ...SILENT, fetch: mock.fetch },
            pollSeconds: 0.5,
            name: "c",
          });
          try {
            const end = await followRun(queue, spec.runId, { backstopMs: 200 });
            assertEquals(end.status, "succeeded", JSON.stringify(end.units));
            assertEquals(end.units[0].attempts, 2);
            assertEquals(end.units[0].worker, "c");
            const got = await parquetKeys(join(shared.out, unitFolder("Orders")), "Orders", [
              "OrderID",
            ]);
            assertEquals([...got].sort(), sourceKeys(mock.db, "Orders", ["OrderID"]));
          } finally {
            await worker.stop();
          }
        } finally {
          await queue.close();
          mock.close();
          await Deno.remove(shared.dir, { recursive: true });
        }
      });

      await t.step("an unreachable queue or a wrong password names the URL, masked", async () => {
        const wrong = await assertRejects(
          () => Queue.open(queueUrl(server, "not-the-password")),
          QueueUnavailableError,
        );
        assertEquals(wrong.exitCode, 2);
        assert(!wrong.message.includes("not-the-password"), wrong.message);
        assert(!wrong.message.includes("\n"), wrong.message);
        assertStringIncludes(wrong.message, `127.0.0.1:${server.port}`);
        const refused = await assertRejects(
          () => Queue.open("postgres://etl:hunter22@127.0.0.1:1/ops"),
          QueueUnavailableError,
        );
        assertStringIncludes(refused.message, "postgres://***:***@127.0.0.1:1/ops");
        assert(!refused.message.includes("hunter22"), refused.message);
      });
    } finally {
      await server.stop();
    }
  },
});
