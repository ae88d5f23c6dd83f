/**
 * A run asked to stop (a scheduler's SIGTERM) ends at its next page boundary: what it committed
 * stays, the out folder is unlocked, and the next run resumes from the last committed page,
 * exactly once; a scheduled job's `extract:` steps run after its harvest.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseConfig } from "../../lib/config/load.ts";
import { runJob } from "../../lib/schedule/scheduled_run.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import {
  ordersYaml,
  parquetKeys,
  run,
  sorted,
  sourceKeys,
  withMockRun,
  yamlConfig,
} from "./fixture.ts";
import { tempFolders } from "../temp_dir.ts";

Deno.test("a run asked to stop ends at a page boundary, unlocks, and the next run resumes exactly once", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(ordersYaml({ name: "stop", size: 100 }));
    const stop = new AbortController();
    let requests = 0;
    const first = await run(fixture, loaded, out, {
      signal: stop.signal,
      fetch: (input, init) => {
        // SIGTERM arrives while the fourth page is on its way.
        if (++requests === 4) stop.abort();
        return fixture.fetch(input, init);
      },
    });
    assertEquals(first.assets[0].status, "failed");
    assertStringIncludes(first.assets[0].error ?? "", "stopped before it completed");
    assert(first.report.totals.pages >= 3 && first.report.totals.pages < 9, "stopped midway");

    const second = await run(fixture, loaded, out);
    assertEquals(second.exitCode, 0, "the lock was released");
    assertEquals(second.assets[0].resumed, true);
    const keys = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(keys.length, new Set(keys).size, "no order twice");
    assertEquals(sorted(keys), sourceKeys(fixture.db, "Orders", ["OrderID"]));
  });
});

const withDir = tempFolders("tidemark-job-extract-");

Deno.test("a scheduled job runs its extract: steps into the job's out folder", async () => {
  await withDir(async (dir) => {
    generateNorthwind(join(dir, "northwind.db"), { scale: 1, seed: 3 }).close();
    const text = `name: sqljob
schedule: "0 * * * *"
extract:
  - name: ids
    db: northwind.db
    query: "SELECT OrderID FROM Orders WHERE OrderID < :n"
    params: { n: 10300 }
`;
    await Deno.writeTextFile(join(dir, "job.yaml"), text);
    const loaded = parseConfig(text, { source: join(dir, "job.yaml"), env: {} });
    const out = join(dir, "out");
    await runJob(loaded, { out, extract: true });
    const db = new DatabaseSync(join(dir, "northwind.db"), { readOnly: true });
    const expected =
      (db.prepare("SELECT count(*) AS n FROM Orders WHERE OrderID < 10300").get() as {
        n: number;
      }).n;
    db.close();
    const files = [];
    for await (const entry of Deno.readDir(join(out, "parquet", "ids"))) files.push(entry.name);
    assert(files.some((f) => f.endsWith(".parquet")), `parts: ${files}`);
    const { default: pl } = await import("nodejs-polars");
    const rows = files.filter((f) => f.endsWith(".parquet"))
      .reduce((n, f) => n + pl.readParquet(join(out, "parquet", "ids", f)).height, 0);
    assertEquals(rows, expected);
  });
});
