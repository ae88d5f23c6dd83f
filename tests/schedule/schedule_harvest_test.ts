import { join } from "node:path";
import { scheduleCommand } from "../../lib/cli/schedule.ts";
import { openSqliteState } from "../../lib/state/mod.ts";
import { startMockServer } from "../../mock_api/server.ts";
import { assertEquals, assertMatch } from "../assert.ts";
import { memoryLogger } from "./fake_time.ts";

const TOKEN = "schedule-test-token";

Deno.test("schedule --once runs a job through the real harvest engine; the next run is incremental", async () => {
  const server = await startMockServer({ auth: "bearer", token: TOKEN, scale: 0.2 });
  const dir = await Deno.makeTempDir({ prefix: "tidemark-schedule-harvest-" });
  const stderr = Deno.stderr.writeSync; // the engine logs to stderr: keep the test output clean
  try {
    const out = join(dir, "out");
    await Deno.writeTextFile(
      join(dir, "orders.yaml"),
      `name: orders
base_url: ${server.url}
out: ${out}
schedule: "*/15 * * * *"
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: 100 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    incremental: { cursor_field: OrderDate, param: OrderDate__gte, param_format: datetime }
    output: { format: jsonl }
`,
    );
    await Deno.writeTextFile(join(dir, "jobs.yaml"), "jobs: [orders.yaml]\n");
    Deno.stderr.writeSync = (bytes: Uint8Array) => bytes.length;
    const command = scheduleCommand({ env: { API_TOKEN: TOKEN }, logger: memoryLogger().logger });
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => lines.push(a.join(" "));
    let codes: number[];
    try {
      codes = [
        await command.run(["--config", join(dir, "jobs.yaml"), "--once"]),
        await command.run(["--config", join(dir, "jobs.yaml"), "--once"]),
      ];
    } finally {
      console.log = log;
      Deno.stderr.writeSync = stderr;
    }
    assertEquals([codes, lines], [[0, 0], ["orders: succeeded", "orders: succeeded"]]);
    const state = openSqliteState(join(out, "state.sqlite"));
    try {
      const runs = await state.listRuns();
      assertEquals(runs.map((r) => r.status), ["succeeded", "succeeded"]);
      const [second, first] = runs;
      assertEquals(first.counts.records > 100, true);
      // The watermark boundary is re-read (>=), so the second run fetches a page, not the table.
      assertEquals(second.counts.records < first.counts.records, true);
      assertMatch((await state.getWatermark("Orders"))?.lastTimestamp ?? "", /^199\d-/);
    } finally {
      await state.close();
    }
  } finally {
    Deno.stderr.writeSync = stderr;
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
