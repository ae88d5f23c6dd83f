/**
 * The outputs of a harvest end to end: `derive:` builds line_items after its inputs;
 * `output.destination: s3://…` is preflighted before any request and receives every finished
 * file under timestamped keys, recorded as `object_url`; `merge` through the engine is
 * idempotent; `verify` passes after merge and replace runs and still catches tampering.
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { ConfigError } from "../../lib/core/errors.ts";
import { filesUnder } from "../../lib/pipeline/output_files.ts";
import { loadManifest, outputsOf } from "../../lib/provenance/manifest.ts";
import { sha256File } from "../../lib/core/stamps.ts";
import { verifyOut } from "../../lib/provenance/verify.ts";
import { openObjectStore } from "../../lib/object_store/mod.ts";
import { startS3rver } from "../object_store/s3_fixture.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import {
  mockFixture,
  northwindYaml,
  parquetFrame,
  parquetKeys,
  run,
  sorted,
  sourceKeys,
  withMockRun,
  yamlConfig,
} from "./fixture.ts";

const LINE_ITEMS = `derive:
  - name: line_items
    from: [Order Details, Orders]
    on: [OrderID]
    columns: { extended_price: "UnitPrice * Quantity * (1 - Discount)" }
    output: { partition_by: ["year(OrderDate)"] }
`;

function s3Env(endpoint: string, accessKeyId = "S3RVER") {
  return { S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: "S3RVER" };
}

/** The Northwind config with Orders' `output:` replaced. */
function ordersOutput(yaml: string, output: string): string {
  return yaml.replace("output: { partition_by: [ShipCountry] }", `output: ${output}`);
}

/** sha256 of every file under an asset's folder, by relative path. */
async function fileHashes(dir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const file of await filesUnder(dir)) {
    hashes[file] = (await sha256File(join(dir, file))).sha256;
  }
  return hashes;
}

/** Order lines per order year, from the source database. */
function linesByYear(db: DatabaseSync): Record<string, number> {
  const rows = db.prepare(
    `SELECT substr(o.OrderDate, 1, 4) AS year, count(*) AS n
     FROM "Order Details" d JOIN Orders o ON o.OrderID = d.OrderID GROUP BY year`,
  ).all() as { year: string; n: number }[];
  return Object.fromEntries(rows.map((r) => [r.year, Number(r.n)]));
}

Deno.test("line_items holds one row per order line, in the folder of its OrderDate year", async () => {
  await withMockRun(async (fixture, out) => {
    const result = await run(fixture, yamlConfig(northwindYaml({ size: 500 }) + LINE_ITEMS), out);
    assertEquals(result.exitCode, 0);
    assertEquals(result.derived.map((d) => [d.name, d.status]), [["line_items", "ok"]]);
    const details = Number(
      (fixture.db.prepare(`SELECT count(*) AS n FROM "Order Details"`).get() as { n: number }).n,
    );
    assertEquals(result.derived[0].rows, details);
    const byYear: Record<string, number> = {};
    for (const file of await filesUnder(join(out, "parquet", "line_items"))) {
      const year = /^year=(\d{4})\//.exec(file)![1];
      const frame = (await parquetFrame(out, `line_items/year=${year}`))!;
      const dates = frame.getColumn("OrderDate").toArray() as unknown as Date[];
      assert(
        dates.every((d) => String(d.getUTCFullYear()) === year),
        `every OrderDate in year=${year}`,
      );
      byYear[year] = (byYear[year] ?? 0) + frame.height;
    }
    assertEquals(byYear, linesByYear(fixture.db));
    const frame = (await parquetFrame(out, "line_items"))!;
    const row = frame.toRecords()[0] as Record<string, number>;
    const expected = row.UnitPrice * row.Quantity * (1 - row.Discount);
    assert(Math.abs(row.extended_price - expected) < 1e-9, "extended_price computed");
  });
});

Deno.test("a derive step naming an unknown input stops the harvest before any request", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(
      northwindYaml() + LINE_ITEMS.replace("[Order Details, Orders]", "[Order Details, Order]"),
    );
    const error = await assertRejects(() => run(fixture, loaded, out), ConfigError);
    assertEquals(error.exitCode, 2);
    assertEquals(error.issues.map((i) => i.path), ["derive[0].from[1]"]);
    assertEquals(await fixture.requests(), 0);
  });
});

Deno.test("s3 destination: every part and every merged file is uploaded under load_date/load_time keys and its object_url recorded", async () => {
  await using s3 = await startS3rver(["lake"]);
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(ordersOutput(
      northwindYaml({
        size: 200,
        details: "output: { mode: merge, destination: s3://lake/northwind }",
      }),
      // Append: each part is uploaded as its page commits (merge uploads at the end).
      "{ mode: append, partition_by: [ShipCountry], destination: s3://lake/northwind }",
    ));
    const result = await run(fixture, loaded, out, { env: s3Env(s3.endpoint) });
    assertEquals(result.assets.map((a) => [a.asset, a.status, a.error]), [
      ["Orders", "ok", undefined],
      ["Order Details", "ok", undefined],
    ]);

    const { entries } = await loadManifest(join(out, "manifest.jsonl"));
    const orderLines = entries.map((e) => e.record).filter((r) =>
      r.asset === "Orders" && r.kind === "http" && r.output !== null
    );
    assert(orderLines.length > 0);
    const orderUrls = orderLines.flatMap((r) =>
      r.object_url === undefined ? [] : [r.object_url].flat()
    );
    assertEquals(orderUrls.length, orderLines.flatMap((r) => outputsOf(r)).length);
    const complete = entries.map((e) => e.record).find((r) =>
      r.asset === "Order Details" && r.event === "complete"
    )!;
    assertEquals([complete.object_url].flat().length, outputsOf(complete).length);

    await using store = await openObjectStore("s3://lake/northwind", {
      env: s3Env(s3.endpoint),
    });
    const keys = (await store.list()).map((o) => o.key);
    const parts = (await filesUnder(join(out, "parquet", "Orders"))).length;
    assertEquals(keys.filter((k) => k.startsWith("northwind/Orders/")).length, parts);
    const unstamped = (key: string) => key.replace(/load_date=[^/]+\/load_time=\d{6}\//, "");
    assertEquals(
      keys.filter((k) => k.startsWith("northwind/Order Details/")).map(unstamped),
      (await filesUnder(join(out, "parquet", "Order Details"))).map((f) =>
        `northwind/Order Details/${f}`
      ),
    );
    for (const key of keys) {
      assert(/\/load_date=\d{4}-\d{2}-\d{2}\/load_time=\d{6}\//.test(key), key);
    }
    const urls = new Set([...orderUrls, ...[complete.object_url].flat()]);
    assertEquals(urls.size, keys.length);
    for (const key of keys) assert(urls.has(`s3://lake/${key}`), `${key} recorded`);
  });
});

Deno.test("s3 destination with bad credentials: a clear error (exit 2) before any request, nothing written", async () => {
  await using s3 = await startS3rver(["lake"]);
  const fixture = mockFixture();
  const parent = await Deno.makeTempDir({ prefix: "tidemark-outputs-" });
  try {
    const out = join(parent, "out");
    const loaded = yamlConfig(
      ordersOutput(northwindYaml(), "{ destination: s3://lake/northwind }"),
    );
    const error = await assertRejects(
      () => run(fixture, loaded, out, { env: s3Env(s3.endpoint, "NOT-A-KNOWN-KEY") }),
      ConfigError,
    );
    assertEquals(error.exitCode, 2);
    assertStringIncludes(error.message, "credentials were rejected");
    assertEquals(error.issues[0].path, "assets[0].output.destination");
    assertEquals(await fixture.requests(), 0);
    assertEquals(await Deno.stat(out).catch(() => null), null, "no out folder");
  } finally {
    fixture.close();
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("s3 destination whose bucket is missing: a clear error naming it before any request", async () => {
  await using s3 = await startS3rver(["lake"]);
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(northwindYaml({
      details: "output: { destination: s3://warehouse/northwind }",
    }));
    const error = await assertRejects(
      () => run(fixture, loaded, out, { env: s3Env(s3.endpoint) }),
      ConfigError,
    );
    assertStringIncludes(error.message, `bucket "warehouse" does not exist`);
    assertEquals(await fixture.requests(), 0);
  });
});

function mergeConfig(mode: "merge" | "replace") {
  return yamlConfig(ordersOutput(
    northwindYaml({ size: 200, details: `output: { mode: ${mode} }` }),
    `{ mode: ${mode}, partition_by: [ShipCountry] }`,
  ));
}

Deno.test("merge through the engine: harvesting twice (and a full refresh) leaves identical files", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = mergeConfig("merge");
    assertEquals((await run(fixture, loaded, out)).exitCode, 0);
    const orders = await fileHashes(join(out, "parquet", "Orders"));
    const details = await fileHashes(join(out, "parquet", "Order Details"));
    assert(Object.keys(orders).length > 10, "one file per country");
    const second = await run(fixture, loaded, out);
    assertEquals(second.exitCode, 0);
    assert(second.assets[0].records > 0, "the re-run read the boundary again");
    assertEquals(await fileHashes(join(out, "parquet", "Orders")), orders);
    assertEquals(await fileHashes(join(out, "parquet", "Order Details")), details);
    assertEquals((await run(fixture, loaded, out, { fullRefresh: true })).exitCode, 0);
    assertEquals(await fileHashes(join(out, "parquet", "Orders")), orders);
    const keys = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(sorted(keys), sourceKeys(fixture.db, "Orders", ["OrderID"]));
  });
});

for (const mode of ["merge", "replace"] as const) {
  Deno.test(`verify passes after ${mode} runs: superseded staged parts are not reported missing`, async () => {
    await withMockRun(async (fixture, out) => {
      const loaded = mergeConfig(mode);
      await run(fixture, loaded, out);
      await run(fixture, loaded, out, { fullRefresh: true });
      const result = await verifyOut(out);
      assertEquals(result.mismatches, []);
      assert(result.outputs_superseded > 0, "the staged parts were superseded");
      assert(result.outputs_checked > 0);
    });
  });

  Deno.test(`verify after ${mode} still catches a flipped snapshot byte and a deleted live file`, async () => {
    await withMockRun(async (fixture, out) => {
      const loaded = mergeConfig(mode);
      await run(fixture, loaded, out);
      await run(fixture, loaded, out, { fullRefresh: true });
      const [snapshot] = await filesUnder(join(out, "raw", "Orders"));
      const path = join(out, "raw", "Orders", snapshot);
      const bytes = await Deno.readFile(path);
      bytes[10] ^= 0x20;
      await Deno.writeFile(path, bytes);
      const [live] = await filesUnder(join(out, "parquet", "Orders"));
      await Deno.remove(join(out, "parquet", "Orders", live));
      const result = await verifyOut(out);
      assertEquals(result.ok, false);
      assertEquals(
        result.mismatches.map((m) => [m.kind, m.file]).sort(),
        [
          ["output_missing", `parquet/Orders/${live}`],
          ["snapshot_hash", `raw/Orders/${snapshot}`],
        ],
      );
    });
  });
}
