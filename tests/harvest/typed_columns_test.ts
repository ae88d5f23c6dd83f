/**
 * Typed columns of REST assets end to end: a YAML-only config writes text dates as TIMESTAMP,
 * `columns:` / `select:` give exactly the declared Parquet schema, a value that does not fit
 * its column is a reject (the run goes on), integers beyond 2^53 stay exact, and a type change
 * between runs is widened and reported, or stops the asset without rewriting anything.
 */
import { join } from "node:path";
import { Hono } from "hono";
import pl from "nodejs-polars";
import { readRejects, rejectsPath } from "../../lib/contracts/mod.ts";
import { COLUMNS_DATA_TYPE, readColumnTypes } from "../../lib/pipeline/asset_columns.ts";
import { filesUnder } from "../../lib/pipeline/output_files.ts";
import { harvest } from "../../lib/harvest/run.ts";
import { compareOuts } from "../../lib/replay/compare_outs.ts";
import { replayOut } from "../../lib/replay/replay.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import {
  BASE_URL,
  ordersYaml,
  parquetFrame,
  run,
  SILENT,
  tempOut,
  withMockRun,
  withState,
  yamlConfig,
} from "./fixture.ts";

/** Column name → polars dtype text, in file order. */
function dtypes(frame: pl.DataFrame): [string, string][] {
  return frame.columns.map((name, i) => [name, String(frame.dtypes[i])]);
}

/**
 * Harvests Orders with `asset` lines added, and checks that OrderDate and ShippedDate are
 * TIMESTAMPs without a zone whose every value is the source's wall-clock text.
 */
async function assertOrderDatesAsWritten(asset: string): Promise<void> {
  await withMockRun(async (fixture, out) => {
    const result = await run(fixture, yamlConfig(ordersYaml({ asset })), out);
    assertEquals(result.exitCode, 0);
    const frame = (await parquetFrame(out, "Orders"))!;
    const types = Object.fromEntries(dtypes(frame));
    assertEquals(types.OrderDate, "DataType(Datetime(us,))");
    assertEquals(types.ShippedDate, "DataType(Datetime(us,))");
    assertEquals(types.CustomerID, "DataType(String)");
    const source = new Map(
      (fixture.db.prepare("SELECT OrderID, OrderDate FROM Orders").all() as {
        OrderID: number;
        OrderDate: string;
      }[]).map((r) => [r.OrderID, r.OrderDate]),
    );
    const ids = frame.getColumn("OrderID").toArray() as number[];
    const dates = frame.getColumn("OrderDate").toArray() as unknown as Date[];
    assertEquals(ids.length, source.size);
    ids.forEach((id, i) => {
      // Wall-clock time as written: the text read as UTC is the same instant polars shows.
      assertEquals(dates[i].getTime(), Date.parse(`${source.get(id)!.replace(" ", "T")}Z`));
    });
    const recorded = await withState(out, (state) => readColumnTypes(state, "Orders"));
    assertEquals(recorded.OrderDate, "timestamp");
  });
}

Deno.test("a YAML-only config (no contract) writes Northwind's text OrderDate as a TIMESTAMP equal to the source text", async () => {
  await assertOrderDatesAsWritten("");
});

Deno.test("the shipped Northwind contract (contract: orders) writes OrderDate as a TIMESTAMP without a zone, equal to the source text", async () => {
  await assertOrderDatesAsWritten("contract: orders");
});

Deno.test("columns: with rename and select gives exactly the declared Parquet schema", async () => {
  await withMockRun(async (fixture, out) => {
    const asset = `select: [OrderID, CustomerID, OrderDate, ShippedDate, Freight]
columns: { OrderID: { type: int, nullable: false, rename: order_id }, CustomerID: { type: string, rename: customer_id }, OrderDate: { type: date, rename: order_date }, ShippedDate: { type: timestamp_tz, rename: shipped_at }, Freight: { type: "decimal(10,2)", rename: freight } }`;
    // No primary_key: a key field keeps its name (the config says so), and this one is renamed.
    const yaml = ordersYaml({ asset }).replace("    primary_key: [OrderID]\n", "");
    const result = await run(fixture, yamlConfig(yaml), out);
    assertEquals(result.exitCode, 0);
    const frame = (await parquetFrame(out, "Orders"))!;
    assertEquals(dtypes(frame), [
      ["order_id", "DataType(Int64)"],
      ["customer_id", "DataType(String)"],
      ["order_date", "DataType(Date)"],
      ["shipped_at", "DataType(Datetime(us,UTC))"],
      ["freight", "DataType(Decimal(10,2))"],
    ]);
    const count = fixture.db.prepare("SELECT count(*) AS n FROM Orders").get() as { n: number };
    assertEquals(frame.height, count.n);
  });
});

/** An in-process API serving `pages` (bodies by page number) as cursor pages at /items. */
function pagesApp(pages: () => unknown[][]) {
  const app = new Hono();
  app.get("/items", (c) => {
    const list = pages();
    const page = Number(c.req.query("page") ?? "0");
    const next = page + 1 < list.length ? String(page + 1) : null;
    // Bodies are written by hand so a test can put integers beyond 2^53 in them.
    const rows = `[${list[page].map((r) => typeof r === "string" ? r : JSON.stringify(r))}]`;
    return c.body(`{"rows":${rows},"next":${JSON.stringify(next)}}`, 200, {
      "Content-Type": "application/json",
    });
  });
  return (input: Request | URL | string, init?: RequestInit) => app.request(input, init);
}

function itemsYaml(asset = ""): string {
  return `name: items
base_url: ${BASE_URL}
retry: { max_attempts: 2, base_ms: 1, cap_ms: 5, timeout_s: 10 }
assets:
  - name: items
    path: /items
    pagination: { type: cursor, param: page, response_path: next }
    data_path: rows
${asset.split("\n").filter((l) => l.trim()).map((l) => `    ${l}`).join("\n")}
`;
}

async function withOut(fn: (out: string) => Promise<void>): Promise<void> {
  const out = await tempOut();
  try {
    await fn(out);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

Deno.test("a value that does not fit its declared column goes to rejects with the column and the reason; the run succeeds", async () => {
  await withOut(async (out) => {
    const fetch = pagesApp(
      () => [[{ id: 1, qty: "3" }, { id: 2, qty: "three" }, { id: 3, qty: 4 }]],
    );
    const loaded = yamlConfig(itemsYaml("columns: { qty: int }\nmin_rejects_to_fail: 2"));
    const result = await harvest(loaded, { ...SILENT, out, fetch });
    assertEquals(result.exitCode, 0);
    assertEquals([result.assets[0].rows, result.assets[0].rejected], [2, 1]);
    const lines = await readRejects(rejectsPath(out, "items", result.runId));
    assertEquals(lines.length, 1);
    assertEquals(lines[0].reason, "column_type");
    assertEquals(lines[0].row, { id: 2, qty: "three" });
    assertEquals(lines[0].issues[0].path, "qty");
    assertStringIncludes(lines[0].issues[0].message, '"three" is not a whole number');
    const frame = (await parquetFrame(out, "items"))!;
    assertEquals(frame.getColumn("qty").toArray(), [3, 4]);
  });
});

Deno.test("a later page's value that does not parse as the inferred timestamp is a reject, not a text column", async () => {
  await withOut(async (out) => {
    const fetch = pagesApp(() => [
      [{ id: 1, at: "2026-01-01T10:00:00Z" }, { id: 2, at: "2026-01-02T10:00:00+02:00" }],
      [{ id: 3, at: "next tuesday" }, { id: 4, at: "2026-01-03T00:00:00Z" }],
    ]);
    const result = await harvest(yamlConfig(itemsYaml("min_rejects_to_fail: 2")), {
      ...SILENT,
      out,
      fetch,
    });
    assertEquals(result.exitCode, 0);
    assertEquals(result.assets[0].rejected, 1);
    const [line] = await readRejects(rejectsPath(out, "items", result.runId));
    assertEquals([line.reason, line.issues[0].path, line.row.id], ["column_type", "at", 3]);
    const frame = (await parquetFrame(out, "items"))!;
    assertEquals(Object.fromEntries(dtypes(frame)).at, "DataType(Datetime(us,UTC))");
    assertEquals(frame.getColumn("id").toArray(), [1, 2, 4]);
  });
});

Deno.test("an integer beyond 2^53 in the response (9007199254740993) is never rounded", async () => {
  await withOut(async (out) => {
    const rows = ['{"id":9007199254740993,"ref":9007199254740993}', '{"id":2,"ref":1}'];
    const fetch = pagesApp(() => [rows]);
    const result = await harvest(yamlConfig(itemsYaml("columns: { ref: int }")), {
      ...SILENT,
      out,
      fetch,
    });
    assertEquals(result.exitCode, 0);
    const frame = (await parquetFrame(out, "items"))!;
    // Undeclared: kept as the exact digits (text); declared int: an exact Int64.
    assertEquals(frame.getColumn("id").toArray(), ["9007199254740993", "2"]);
    assertEquals(Object.fromEntries(dtypes(frame)).ref, "DataType(Int64)");
    assertEquals(frame.getColumn("ref").cast(pl.Utf8).toArray(), ["9007199254740993", "1"]);
  });
});

Deno.test("schema change: a column that was int and is now float is widened, and the run report says so", async () => {
  await withOut(async (out) => {
    let amounts = [1, 2];
    const fetch = pagesApp(() => [amounts.map((amount, id) => ({ id, amount }))]);
    const loaded = yamlConfig(itemsYaml());
    assertEquals((await harvest(loaded, { ...SILENT, out, fetch })).exitCode, 0);
    amounts = [1.5, 2];
    const second = await harvest(loaded, { ...SILENT, out, fetch });
    assertEquals(second.exitCode, 0);
    const notes = second.report.assets[0].notes;
    assert(
      notes.includes("schema change: column amount widened from int64 to float64"),
      notes.join("; "),
    );
    const frame = (await parquetFrame(out, "items"))!;
    assertEquals(Object.fromEntries(dtypes(frame)).amount, "DataType(Float64)");
    const recorded = await withState(out, (state) => readColumnTypes(state, "items"));
    assertEquals(recorded.amount, "float64");
  });
});

Deno.test("schema change: a narrowing stops the asset naming the column, both types and the fix, and rewrites nothing", async () => {
  await withOut(async (out) => {
    const fetch = pagesApp(() => [[{ id: 1, amount: 1.5 }, { id: 2, amount: 2 }]]);
    assertEquals((await harvest(yamlConfig(itemsYaml()), { ...SILENT, out, fetch })).exitCode, 0);
    const folder = join(out, "parquet", "items");
    const before = await snapshotFiles(folder);
    const narrowed = yamlConfig(itemsYaml("columns: { amount: int }"));
    const second = await harvest(narrowed, { ...SILENT, out, fetch });
    assertEquals(second.exitCode, 1);
    const error = second.assets[0].error ?? "";
    assertStringIncludes(error, "column amount was float64 in earlier runs");
    assertStringIncludes(error, "int64, a narrowing change; nothing was written");
    assertStringIncludes(error, "--full-refresh");
    assertEquals(await snapshotFiles(folder), before);
    // The way out the message names: a full refresh decides the types anew.
    const refreshed = await harvest(narrowed, { ...SILENT, out, fetch, fullRefresh: true });
    assertEquals(refreshed.exitCode, 0);
    assertEquals(refreshed.assets[0].rejected, 1, "1.5 does not fit int: a reject");
    // Replay rebuilds the same outputs: the full refresh's types were decided anew there too.
    const to = join(out, "..", `${out.split("/").pop()}-replayed`);
    try {
      const replayed = await replayOut(out, to);
      assertEquals(replayed.assets.find((a) => a.asset === "items")?.rows, 3);
      assertEquals(await compareOuts(out, to, replayed.assets).then((c) => c.identical), true);
    } finally {
      await Deno.remove(to, { recursive: true }).catch(() => {});
    }
  });
});

Deno.test("schema change: a new column in a later run is written and reported", async () => {
  await withOut(async (out) => {
    let rows: Record<string, unknown>[] = [{ id: 1 }];
    const fetch = pagesApp(() => [rows]);
    const loaded = yamlConfig(itemsYaml());
    assertEquals((await harvest(loaded, { ...SILENT, out, fetch })).exitCode, 0);
    rows = [{ id: 1, color: "red" }];
    const second = await harvest(loaded, { ...SILENT, out, fetch });
    assertEquals(second.exitCode, 0);
    assertEquals(second.report.assets[0].notes, ["schema change: new column color (string)"]);
    assertEquals((await parquetFrame(out, "items"))!.getColumn("color").toArray(), ["red"]);
  });
});

Deno.test("unreadable stored column types stop the asset with the reset command for its out folder, or --full-refresh", async () => {
  await withOut(async (out) => {
    const fetch = pagesApp(() => [[{ id: 1 }]]);
    const loaded = yamlConfig(itemsYaml());
    assertEquals((await harvest(loaded, { ...SILENT, out, fetch })).exitCode, 0);
    await withState(
      out,
      (state) => state.setWatermark({ assetId: "items", dataType: COLUMNS_DATA_TYPE, lastId: "{" }),
    );
    const second = await harvest(loaded, { ...SILENT, out, fetch });
    assertEquals(second.exitCode, 1);
    assertStringIncludes(
      second.assets[0].error ?? "",
      `the stored column typing of asset "items" is unreadable; the asset's next run starts over ` +
        `once you forget it: tidemark state reset --out ${out} --asset items, or run it with ` +
        `--full-refresh`,
    );
    const refreshed = await harvest(loaded, { ...SILENT, out, fetch, fullRefresh: true });
    assertEquals(refreshed.exitCode, 0);
  });
});

/** Every file under `folder` with its bytes, to tell that nothing was rewritten. */
async function snapshotFiles(folder: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of await filesUnder(folder)) {
    out[file] = String(await Deno.readFile(join(folder, file)));
  }
  return out;
}
