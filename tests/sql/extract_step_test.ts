import { assertEquals, assertRejects } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { dirname, join } from "node:path";
import { extractStepSchema } from "../../lib/config/schema.ts";
import { runExtractStep } from "../../lib/sql/extract_step.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import { listFiles } from "../sinks/read_back.ts";
import { northwindDb } from "./northwind_fixture.ts";

Deno.test("an extract: step runs its query file with params into the config's out folder", async () => {
  const db = await northwindDb();
  const out = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(out, "orders.sql"),
      "SELECT OrderID, OrderDate FROM Orders WHERE OrderDate < :before -- first days\n",
    );
    const step = extractStepSchema.parse({
      name: "early_orders",
      db: db,
      query_file: "orders.sql",
      params: { before: "1996-07-10" },
      output: { partition_by: ["month(OrderDate)"] },
    });
    const result = await runExtractStep(step, { out, baseDir: out });
    const conn = new DatabaseSync(db, { readOnly: true });
    const want = conn.prepare("SELECT count(*) AS n FROM Orders WHERE OrderDate < ?")
      .get("1996-07-10") as { n: number };
    conn.close();
    assertEquals(result.rows, want.n);
    assertEquals(
      (await listFiles(join(out, "parquet", "early_orders"), ".parquet")).map(dirname),
      ["month=07"],
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("an extract: step refuses output mode merge with the alternative", async () => {
  const step = extractStepSchema.parse({
    name: "x",
    db: await northwindDb(),
    query: "SELECT 1 AS one",
    output: { mode: "merge" },
  });
  await assertRejects(() => runExtractStep(step, { out: "unused" }), ConfigError, "primary_key");
});
