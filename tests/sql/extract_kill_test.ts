import { assert, assertEquals } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import pl from "nodejs-polars";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { runExtract } from "../../lib/sql/extract.ts";
import { listFiles, parquetRows } from "../sinks/read_back.ts";
import { LINE_ITEMS_BY_YEAR, LINE_ITEMS_QUERY } from "./northwind_fixture.ts";
import { killExtractAfterFirstPart } from "./cli_process.ts";

Deno.test("a kill mid-extract leaves only complete parts, and the next run cleans up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-kill-" });
  try {
    const db = join(dir, "northwind.db");
    generateNorthwind(db, { scale: 20, seed: 7 }).close();
    const out = join(dir, "out");
    const parts = join(out, "parquet", "line_items");
    const status = await killExtractAfterFirstPart(dir, [
      "--db",
      db,
      "--out",
      out,
      "--asset",
      "line_items",
      "--query",
      LINE_ITEMS_QUERY,
      "--param",
      "start=1997-01-01",
      "--partition-by",
      "year(OrderDate)",
      "--chunk-rows",
      "500",
    ]);
    assertEquals(status.signal, "SIGKILL", "the extract ended before it could be killed");

    // A full extraction replaces: nothing of it is visible before it commits, and what it
    // staged under parquet/ (the run's staging folder) is whole Parquet files.
    assert(!(await Deno.stat(parts).catch(() => null)), "nothing visible before the commit");
    const staged = await listFiles(join(out, "parquet"), ".parquet");
    assert(staged.length > 0);
    for (const file of staged) pl.readParquet(join(out, "parquet", file));

    const result = await runExtract({ db, ...LINE_ITEMS_BY_YEAR, out, chunkRows: 5000 });
    const files = await listFiles(parts, "");
    assert(files.every((f) => f.includes(result.runId)), `leftovers: ${files.join(", ")}`);
    const rows = files.flatMap((f) => parquetRows(join(parts, f)));
    const conn = new DatabaseSync(db, { readOnly: true });
    const want = conn.prepare(LINE_ITEMS_QUERY.replace(":start", "?")).all("1997-01-01");
    conn.close();
    assertEquals(rows.length, want.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
