/**
 * The PostgreSQL state store against a real, throwaway server (mock_api/postgres_server.ts):
 * the whole state-store contract (a fresh schema per test), two stores racing as two processes
 * would, schema creation racing from several pools, connection failures with the password
 * masked, and a harvest whose state lives in PostgreSQL. Skipped, saying why, when PostgreSQL is
 * not installed.
 */
import { join } from "node:path";
import pg from "pg";
import { StateError, StateUnavailableError } from "../../lib/core/errors.ts";
import { openStateStore, type StateStore } from "../../lib/state/mod.ts";
import {
  openPostgresState,
  POSTGRES_STATE_SCHEMA_VERSION,
  type PostgresStateStore,
} from "../../lib/state/postgres.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../assert.ts";
import { fileURLToPath } from "node:url";
import { startMockServer } from "../../mock_api/server.ts";
import {
  type PostgresServer,
  postgresUnavailable,
  startPostgres,
} from "../../mock_api/postgres_server.ts";
import { runStoreCase, stateStoreCases } from "./store_suite.ts";
import { cli } from "../cli/capture.ts";
import { designYaml, run, withMockRun, yamlConfig } from "../harvest/fixture.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const unavailable = postgresUnavailable();
if (unavailable) console.log(`state postgres_test: skipped: ${unavailable}`);

/** The server's URL with its password in it (as a user may write `--state`), and `?schema=`. */
function stateUrl(server: PostgresServer, schema?: string, password = server.password): string {
  const url = new URL(server.url);
  url.password = password;
  if (schema !== undefined) url.searchParams.set("schema", schema);
  return url.href;
}

/** A connection of the test's own, to look at what the store wrote. */
async function withAdmin<T>(server: PostgresServer, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: stateUrl(server) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function page(n: number, overrides: Record<string, unknown> = {}) {
  return {
    runId: "run-1",
    assetId: "Orders",
    partition: "",
    page: n,
    cursorIn: n === 1 ? null : String(n - 1),
    cursorOut: String(n),
    rows: 10,
    snapshot: `raw/Orders/run-1/${n}.json`,
    outputs: [`parquet/Orders/part-run-1-${n}.parquet`],
    sha256: "a".repeat(64),
    done: false,
    ...overrides,
  };
}

const RUN = {
  runId: "run-1",
  startedAt: "2026-01-01T10:00:00Z",
  configSha256: "c".repeat(64),
  command: "harvest",
  assets: ["Orders"],
};

/** Opens `count` stores on one schema at once, each with its own pool (as separate processes). */
async function openMany(url: string, count: number): Promise<PostgresStateStore[]> {
  return await Promise.all(Array.from({ length: count }, () => openPostgresState(url)));
}

async function closeAll(stores: StateStore[]): Promise<void> {
  await Promise.all(stores.map((s) => s.close()));
}

/** The one fulfilled and the one rejected of two settled calls. */
function oneWins(results: PromiseSettledResult<unknown>[], message: string): void {
  const rejected = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
  assertEquals(
    [results.length - rejected.length, rejected.length],
    [1, 1],
    "exactly one of the two wins",
  );
  assert(rejected[0].reason instanceof StateError, String(rejected[0].reason));
  assertStringIncludes(rejected[0].reason.message, message);
}

Deno.test({
  name: "PostgreSQL state store against a real server",
  ignore: unavailable !== undefined,
  async fn(t) {
    const server = await startPostgres();
    console.log(`state postgres_test: running against ${server.label} on 127.0.0.1:${server.port}`);
    let schemas = 0;
    const freshSchema = () => `t${++schemas}`;
    try {
      for (const c of stateStoreCases()) {
        await t.step(`contract: ${c.title}`, () =>
          runStoreCase(
            c,
            (now) => openPostgresState(stateUrl(server), { now, schema: freshSchema() }),
          ));
      }

      await t.step(
        "the tables go in schema tidemark by default, at the current version",
        async () => {
          const store = await openPostgresState(stateUrl(server));
          await store.setWatermark({ assetId: "u1", lastId: "9007199254740993123" });
          await store.close();
          await withAdmin(server, async (c) => {
            const tables = await c.query(
              `SELECT table_name FROM information_schema.tables WHERE table_schema = 'tidemark'
              ORDER BY table_name`,
            );
            assertEquals(tables.rows.map((r: { table_name: string }) => r.table_name), [
              "ingestion_state",
              "pages",
              "runs",
              "schema_version",
              "skips",
            ]);
            const version = await c.query("SELECT version FROM tidemark.schema_version");
            assertEquals(version.rows, [{ version: POSTGRES_STATE_SCHEMA_VERSION }]);
            // Ids beyond 2^53 are text in the database too, not a float that rounds them.
            const id = await c.query("SELECT last_id FROM tidemark.ingestion_state");
            assertEquals(id.rows, [{ last_id: "9007199254740993123" }]);
          });
        },
      );

      await t.step(
        "?schema= on the URL picks the schema; states in two schemas are apart",
        async () => {
          const a = await openPostgresState(stateUrl(server, "team_a"));
          const b = await openPostgresState(stateUrl(server, "team_b"));
          try {
            await a.setWatermark({ assetId: "Orders", lastId: "1" });
            assertEquals(await b.getWatermark("Orders"), undefined);
            assertEquals((await a.getWatermark("Orders"))?.lastId, "1");
          } finally {
            await closeAll([a, b]);
          }
        },
      );

      await t.step(
        "two stores racing (two pools, as two processes): exactly one wins, nothing half-applied",
        async () => {
          const [a, b] = await openMany(stateUrl(server, freshSchema()), 2);
          try {
            oneWins(
              await Promise.allSettled([a.startRun(RUN), b.startRun(RUN)]),
              "already started",
            );
            for (let n = 1; n <= 10; n++) {
              oneWins(
                await Promise.allSettled([
                  a.commitPage(page(n, { cursorOut: `a${n}` })),
                  b.commitPage(page(n, { cursorOut: `b${n}` })),
                ]),
                "already committed",
              );
            }
            assertEquals((await a.pendingPages("Orders")).map((p) => p.page), [
              1,
              2,
              3,
              4,
              5,
              6,
              7,
              8,
              9,
              10,
            ]);
            // Overlapping batches: the one that meets the other's page lands nothing at all.
            oneWins(
              await Promise.allSettled([
                a.commitPages([page(11), page(12), page(13)]),
                b.commitPages([page(13), page(14), page(15)]),
              ]),
              "page 13 of Orders in run run-1 is already committed",
            );
            const pages = (await b.pendingPages("Orders")).map((p) => p.page).slice(10);
            assert(
              JSON.stringify(pages) === "[11,12,13]" || JSON.stringify(pages) === "[13,14,15]",
              `one whole batch, got ${pages}`,
            );
            // Upserts of different fields from both: each keeps the other's field.
            await Promise.all([
              a.setWatermark({ assetId: "u1", lastId: "1861234567890123456" }),
              b.setWatermark({ assetId: "u1", lastTimestamp: "2024-01-01T00:00:00Z" }),
            ]);
            const w = await a.getWatermark("u1");
            assertEquals([w?.lastId, w?.lastTimestamp], [
              "1861234567890123456",
              "2024-01-01T00:00:00.000Z",
            ]);
          } finally {
            await closeAll([a, b]);
          }
        },
      );

      await t.step(
        "schema creation racing from several pools: every one opens, one schema",
        async () => {
          for (let round = 0; round < 5; round++) {
            const schema = `race_${round}`;
            const stores = await openMany(stateUrl(server, schema), 4);
            try {
              await Promise.all(
                stores.map((s, i) => s.setWatermark({ assetId: `a${i}`, lastId: String(i) })),
              );
              assertEquals((await stores[0].listWatermarks()).map((w) => w.assetId), [
                "a0",
                "a1",
                "a2",
                "a3",
              ]);
            } finally {
              await closeAll(stores);
            }
            await withAdmin(server, async (c) => {
              const version = await c.query(`SELECT version FROM ${schema}.schema_version`);
              assertEquals(version.rows, [{ version: POSTGRES_STATE_SCHEMA_VERSION }]);
            });
          }
        },
      );

      await t.step(
        "a wrong password: one line naming the URL with credentials masked, exit 2",
        async () => {
          const wrong = "wrong-pass-8472";
          const url = stateUrl(server, undefined, wrong);
          const error = await assertRejects(
            () => openStateStore({ path: url }),
            StateUnavailableError,
            `cannot connect to PostgreSQL state postgres://***:***@127.0.0.1:${server.port}/northwind`,
          );
          assertStringIncludes(error.message, "password authentication failed");
          assert(!error.message.includes(wrong), error.message);
          assert(!error.message.includes("\n"), "one line");
          assertEquals(error.exitCode, 2);
        },
      );

      await t.step("no password at all: says the server asks for one", async () => {
        const saved = Deno.env.get("PGPASSWORD");
        Deno.env.delete("PGPASSWORD");
        try {
          await assertRejects(
            () => openStateStore({ path: server.url }),
            StateUnavailableError,
            "the server asks for a password and none was given (set PGPASSWORD)",
          );
        } finally {
          if (saved !== undefined) Deno.env.set("PGPASSWORD", saved);
        }
      });

      await t.step(
        "a server that is not there: connection refused, the URL masked, exit 2",
        async () => {
          const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
          const port = (listener.addr as Deno.NetAddr).port;
          listener.close();
          const url = `postgresql://etl:s3cret-pw-991@127.0.0.1:${port}/ops`;
          const error = await assertRejects(
            () => openStateStore({ backend: "postgres", path: url }),
            StateUnavailableError,
            `cannot connect to PostgreSQL state postgresql://***:***@127.0.0.1:${port}/ops: connection refused`,
          );
          assert(!error.message.includes("s3cret-pw-991"));
          // The CLI: the same line, exit 2, nothing else said.
          const { code, stdout, stderr } = await cli(["state", "--state", url]);
          assertEquals(code, 2);
          assertEquals(stdout, "");
          assertEquals(stderr.split("\n").length, 1);
          assertStringIncludes(stderr, `tidemark state: cannot connect to PostgreSQL state`);
          assert(!stderr.includes("s3cret-pw-991"), stderr);
        },
      );

      await t.step(
        "reading tools do not create a state: create false refuses a missing schema",
        async () => {
          const url = stateUrl(server, "never_made");
          await assertRejects(
            () => openStateStore({ path: url }, { create: false }),
            StateUnavailableError,
            "no PostgreSQL state in postgres://***:***@",
          );
          await withAdmin(server, async (c) => {
            const found = await c.query(
              "SELECT 1 FROM information_schema.schemata WHERE schema_name = 'never_made'",
            );
            assertEquals(found.rowCount, 0);
          });
        },
      );

      await t.step("a schema from a newer Tidemark is refused with a clear message", async () => {
        const url = stateUrl(server, "newer");
        await (await openPostgresState(url)).close();
        await withAdmin(server, async (c) => {
          await c.query(`UPDATE newer.schema_version SET version = $1`, [
            POSTGRES_STATE_SCHEMA_VERSION + 1,
          ]);
        });
        await assertRejects(
          () => openPostgresState(url),
          StateUnavailableError,
          "upgrade Tidemark",
        );
      });

      await t.step("a query failing later is a StateError naming the masked URL", async () => {
        const schema = freshSchema();
        const store = await openPostgresState(stateUrl(server, schema));
        try {
          await withAdmin(server, (c) => c.query(`DROP TABLE ${schema}.skips`));
          const error = await assertRejects(
            () => store.listSkips(),
            StateError,
            `PostgreSQL state postgres://***:***@127.0.0.1:${server.port}/northwind (schema ${schema})`,
          );
          assert(!error.message.includes(server.password));
        } finally {
          await store.close();
        }
      });

      await t.step(
        "tidemark state --state postgres://… lists the state, the password masked",
        async () => {
          const url = stateUrl(server, freshSchema());
          const store = await openPostgresState(url);
          await store.setWatermark({ assetId: "Orders", lastTimestamp: "1998-05-06 00:00:00.000" });
          await store.close();
          const { code, stdout } = await cli(["state", "--state", url]);
          assertEquals(code, 0);
          assertEquals(
            stdout.split("\n")[0],
            `State: postgres://***:***@127.0.0.1:${server.port}/northwind?schema=t${schemas} (postgres)`,
          );
          assertStringIncludes(stdout, "1998-05-06T00:00:00.000Z");
          assert(!stdout.includes(server.password));
          const json = JSON.parse((await cli(["state", "--state", url, "--json"])).stdout);
          assertEquals(json.state.backend, "postgres");
          assert(!JSON.stringify(json).includes(server.password));
        },
      );

      await t.step(
        "a harvest keeps its state in PostgreSQL: no state file, the re-run reads it",
        async () => {
          await withMockRun(async (fixture, out) => {
            const schema = freshSchema();
            const url = stateUrl(server, schema);
            const loaded = yamlConfig(
              designYaml().replace("\nassets:", `\nstate: { path: "${url}" }\nassets:`),
            );
            const first = await run(fixture, loaded, out);
            assertEquals(first.exitCode, 0);
            assertEquals(
              first.statePath,
              `postgres://***:***@127.0.0.1:${server.port}/northwind?schema=${schema}`,
            );
            const names = [...Deno.readDirSync(out)].map((e) => e.name);
            assert(!names.includes("state.sqlite"), names.join(", "));
            const store = await openPostgresState(url);
            try {
              assertEquals((await store.listRuns()).map((r) => r.status), ["succeeded"]);
              assertEquals(
                (await store.getWatermark("Orders"))?.lastTimestamp,
                "1998-05-06T00:00:00.000Z",
              );
            } finally {
              await store.close();
            }
            const second = await run(fixture, loaded, out);
            assertEquals(second.exitCode, 0);
            // The second run started from the watermark the first left in PostgreSQL.
            assert(
              second.assets[0].rows < first.assets[0].rows,
              `${second.assets[0].rows} rows again of ${first.assets[0].rows}`,
            );
            assert(
              !(await Deno.readTextFile(join(out, "manifest.jsonl"))).includes(server.password),
            );
          });
        },
      );

      await t.step(
        "deno task harvest: network to the state's server only, the password from PGPASSWORD; a wrong one exits 2 on one line",
        async () => {
          const mock = await startMockServer({ auth: "none", rateLimit: 0, hostname: "127.0.0.2" });
          const dir = await Deno.makeTempDir({ prefix: "tidemark-pg-task-" });
          try {
            const schema = freshSchema();
            const config = join(dir, "job.yaml");
            await Deno.writeTextFile(
              config,
              `name: job
base_url: ${mock.url}
state: { path: "${server.url}?schema=${schema}" }
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: 200 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    output: { mode: append }
`,
            );
            const out = join(dir, "out");
            const task = (password: string, ...extra: string[]) =>
              new Deno.Command(Deno.execPath(), {
                args: [
                  "run",
                  "--allow-read",
                  "--allow-env",
                  "--allow-run",
                  join(ROOT, "jobs", "harvest_task.ts"),
                  "--config",
                  config,
                  "--out",
                  out,
                  "--quiet",
                  ...extra,
                ],
                env: { PGPASSWORD: password },
                stdout: "piped",
                stderr: "piped",
              }).output();
            const shown = await task(server.password, "--show-permissions");
            assertStringIncludes(
              new TextDecoder().decode(shown.stdout),
              `--allow-net=${new URL(mock.url).host},127.0.0.1:${server.port} `,
            );
            const wrong = await task("wrong-pass-5521");
            const stderr = new TextDecoder().decode(wrong.stderr).trim();
            assertEquals(wrong.code, 2, stderr);
            assertEquals(stderr.split("\n").length, 1, stderr);
            assertStringIncludes(
              stderr,
              `tidemark harvest: cannot connect to PostgreSQL state postgres://***@127.0.0.1:${server.port}/northwind: password authentication failed`,
            );
            assert(!stderr.includes("wrong-pass-5521"));
            const ran = await task(server.password);
            assertEquals(ran.code, 0, new TextDecoder().decode(ran.stderr));
            assertMatch(new TextDecoder().decode(ran.stdout), /succeeded: 5 pages, 830 records/);
            const store = await openPostgresState(stateUrl(server, schema), { create: false });
            try {
              assertEquals((await store.listRuns()).map((r) => r.status), ["succeeded"]);
            } finally {
              await store.close();
            }
          } finally {
            await mock.close();
            await Deno.remove(dir, { recursive: true });
          }
        },
      );
    } finally {
      await server.stop();
    }
  },
});
