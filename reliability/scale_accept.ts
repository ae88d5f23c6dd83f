/**
 * `deno task scale:accept`: the queue's guarantee with object storage, on the real CLI. A
 * throwaway PostgreSQL, a local S3 (s3rver, bucket `lake`), the mock serving a generated
 * scale-20 Northwind with `--latency-ms 20`, 3 `tidemark worker` processes and one `tidemark
 * harvest --queue --out s3://lake/accept-<id>`; Orders and Order Details are cut into key-range
 * units. One worker is killed with SIGKILL mid-unit (once its unit committed some pages, before
 * the unit ended); the run must still succeed. Then the bucket folder is downloaded and compared
 * with DuckDB (reading the downloaded Parquet and the source exported from its SQLite file): the
 * key sets and row checksums of both tables equal the source's, and every unit committed each
 * page once (no page cursor committed twice in its PostgreSQL state). Prints a verdict; exits 1
 * on any mismatch, 2 when something it needs (PostgreSQL, python3 with duckdb) is missing.
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { serveMockChild } from "../mock_api/child.ts";
import { downloadObject, openBucket } from "../lib/object_store/bucket.ts";
import { unitStateSchema } from "../lib/queue/worker.ts";
import { startS3rver } from "../tests/object_store/s3_fixture.ts";
import { postgresUnavailable, startPostgres } from "../mock_api/postgres_server.ts";
import { generateNorthwindFile, MAIN, RUN_FLAGS, runCli } from "./harness.ts";
import { compareWithDuckDb, duckDbUnavailable } from "./scale_duckdb.ts";

/** Key-range units per asset; pages of 100 rows, a part (and commit) every 500 rows. */
function acceptConfig(url: string, parts: number): string {
  const asset = (name: string, path: string, key: string) =>
    `  - name: ${name}
    path: ${path}
    params: { _size: 100 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [${key}]
    partition: { by: OrderID, parts: ${parts} }
    batch_size: 500
`;
  return `name: accept
base_url: ${url}
assets:
${asset("Orders", "/northwind/Orders.json", "OrderID")}${
    asset("Order Details", "/northwind/Order%20Details.json", "OrderID, ProductID")
  }`;
}

/** A worker child and its pid (its name in the units table is `host:pid`). */
interface Worker {
  child: Deno.ChildProcess;
  pid: number;
}

function spawnWorker(queue: string, env: Record<string, string>): Worker {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...RUN_FLAGS, MAIN, "worker", "--queue", queue, "--lease", "10s"],
    env,
    stdout: "null",
    stderr: "null",
  }).spawn();
  return { child, pid: child.pid };
}

/**
 * Waits until a running unit of the run into `out` has committed pages in its state, then
 * SIGKILLs its worker; returns the unit and the pages it had committed.
 */
async function killMidUnit(
  client: pg.Client,
  out: string,
  workers: Worker[],
  deadline: number,
): Promise<{ unit: string; pages: number; pid: number }> {
  while (Date.now() < deadline) {
    const { rows } = await client.query(
      `SELECT u.asset, u.worker FROM tidemark_queue.units u JOIN tidemark_queue.runs r
         USING (run_id) WHERE r.spec->>'out' = $1 AND u.status = 'running'`,
      [out],
    ).catch(() => ({ rows: [] })); // the workers may not have made the tables yet
    for (const row of rows as { asset: string; worker: string }[]) {
      const schema = unitStateSchema(out, row.asset);
      const pages = await client.query(
        `SELECT count(*)::int AS n, bool_or(done) AS done FROM ${schema}.pages`,
      ).catch(() => ({ rows: [{ n: 0, done: false }] }));
      const { n, done } = pages.rows[0] as { n: number; done: boolean | null };
      const worker = workers.find((w) => row.worker.endsWith(`:${w.pid}`));
      if (n > 0 && !done && worker !== undefined) {
        worker.child.kill("SIGKILL");
        await worker.child.status;
        return { unit: row.asset, pages: n, pid: worker.pid };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("no unit had committed pages before its end: nothing was killed mid-unit");
}

/** Pages committed twice from the same request (same partition and cursor) in a unit's state. */
async function duplicatePages(client: pg.Client, out: string, unit: string): Promise<number> {
  const { rows } = await client.query(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${unitStateSchema(out, unit)}.pages
       GROUP BY asset_id, "partition", cursor_in HAVING count(*) > 1) d`,
  );
  return (rows[0] as { n: number }).n;
}

/** Copies the bucket folder `out` into `dir`; returns the number of objects. */
async function download(out: string, env: Record<string, string>, dir: string): Promise<number> {
  const bucket = openBucket(out, env);
  try {
    const objects = await bucket.list("");
    for (const object of objects) await downloadObject(bucket, object.path, dir);
    return objects.length;
  } finally {
    bucket.close();
  }
}

/** Options of {@link scaleAccept}. */
export interface ScaleAcceptOptions {
  /** Northwind scale. @default 20 */
  scale?: number;
  /** Mock latency per response, ms. @default 20 */
  latencyMs?: number;
  /** Key ranges per asset. @default 6 */
  parts?: number;
}

/** Runs the acceptance; returns the verdict lines and whether everything held. */
export async function scaleAccept(
  options: ScaleAcceptOptions = {},
): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  const problems: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "tidemark-scale-accept-" });
  const server = await startPostgres();
  await using s3 = await startS3rver(["lake"]);
  const db = join(dir, "northwind.db");
  await generateNorthwindFile(db, options.scale ?? 20);
  const mock = await serveMockChild(MAIN, [
    "--auth",
    "none",
    "--db",
    db,
    "--latency-ms",
    String(options.latencyMs ?? 20),
    "--rate-limit",
    "0",
  ]);
  const env = {
    PGPASSWORD: server.password,
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
    S3_ENDPOINT: s3.endpoint,
  };
  const out = `s3://lake/accept-${crypto.randomUUID().slice(0, 8)}`;
  const workers = [0, 1, 2].map(() => spawnWorker(server.url, env));
  const withPassword = new URL(server.url);
  withPassword.password = server.password;
  const client = new pg.Client({ connectionString: withPassword.href });
  await client.connect();
  try {
    const config = join(dir, "accept.yaml");
    await Deno.writeTextFile(config, acceptConfig(mock.url, options.parts ?? 6));
    const started = performance.now();
    const harvest = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        ...RUN_FLAGS,
        MAIN,
        "harvest",
        "--config",
        config,
        "--out",
        out,
        "--queue",
        server.url,
        "--lease",
        "10s",
        "--quiet",
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const killed = await killMidUnit(client, out, workers, Date.now() + 300_000);
    lines.push(
      `killed worker ${killed.pid} (SIGKILL) in unit "${killed.unit}" after ${killed.pages} committed page(s)`,
    );
    const result = await harvest;
    const stdout = new TextDecoder().decode(result.stdout);
    lines.push(
      `harvest --queue --out ${out}: exit ${result.code} in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
    if (result.code !== 0) {
      problems.push(
        `the run did not succeed:\n${stdout}${new TextDecoder().decode(result.stderr)}`,
      );
    }
    const { rows: units } = await client.query(
      `SELECT u.asset, u.status, u.attempts FROM tidemark_queue.units u
         JOIN tidemark_queue.runs r USING (run_id) WHERE r.spec->>'out' = $1 ORDER BY u.asset`,
      [out],
    );
    for (const u of units as { asset: string; status: string; attempts: number }[]) {
      if (u.status !== "ok") problems.push(`unit ${u.asset} ended ${u.status}`);
      const twice = await duplicatePages(client, out, u.asset);
      if (twice > 0) problems.push(`unit ${u.asset}: ${twice} page(s) committed twice`);
    }
    const retried = (units as { asset: string; attempts: number }[])
      .find((u) => u.asset === killed.unit);
    lines.push(
      `${units.length} units ok, each page committed once; the killed unit took ${
        retried?.attempts ?? "?"
      } attempts`,
    );
    const verify = await runCli(["verify", "--out", out], { env });
    const verified = (verify.stdout.match(/^verified /gm) ?? []).length;
    lines.push(`tidemark verify --out ${out}: exit ${verify.code} (${verified} unit folders)`);
    if (verify.code !== 0) {
      problems.push(`verify found mismatches:\n${verify.stdout}${verify.stderr}`);
    }
    const local = join(dir, "bucket");
    const objects = await download(out, env, local);
    lines.push(`downloaded ${objects} objects of ${out}`);
    const compared = await compareWithDuckDb(db, local);
    lines.push(...compared.lines);
    problems.push(...compared.problems);
  } finally {
    await client.end().catch(() => {});
    for (const w of workers) {
      try {
        w.child.kill("SIGTERM");
      } catch {
        // killed above, or already gone
      }
      await w.child.status;
    }
    await mock.stop();
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  lines.push(problems.length === 0 ? "verdict: PASS" : `verdict: FAIL\n  ${problems.join("\n  ")}`);
  return { ok: problems.length === 0, lines };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scale: { type: "string" },
      "latency-ms": { type: "string" },
      parts: { type: "string" },
    },
  });
  const missing = postgresUnavailable() ?? await duckDbUnavailable();
  if (missing) {
    console.error(`scale:accept: ${missing}`);
    Deno.exit(2);
  }
  const { ok, lines } = await scaleAccept({
    scale: values.scale ? Number(values.scale) : undefined,
    latencyMs: values["latency-ms"] ? Number(values["latency-ms"]) : undefined,
    parts: values.parts ? Number(values.parts) : undefined,
  });
  console.log(lines.join("\n"));
  Deno.exit(ok ? 0 : 1);
}
