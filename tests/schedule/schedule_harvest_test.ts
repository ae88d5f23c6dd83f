import { join } from "node:path";
import { scheduleCommand } from "../../lib/cli/schedule.ts";
import { assertEquals, assertMatch } from "../assert.ts";
import { memoryLogger } from "./fake_time.ts";
import { captureOutput, withServedMock } from "../jobs/job_fixture.ts";
import { withState } from "../harvest/fixture.ts";

const TOKEN = "schedule-test-token";

Deno.test("schedule --once runs a job through the real harvest engine; the next run is incremental", async () => {
  await withServedMock(async (server, dir) => {
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
    const command = scheduleCommand({ env: { API_TOKEN: TOKEN }, logger: memoryLogger().logger });
    // The engine logs to stderr: captured, to keep the test output clean.
    const { value: codes, stdout: lines } = await captureOutput(async () => [
      await command.run(["--config", join(dir, "jobs.yaml"), "--once"]),
      await command.run(["--config", join(dir, "jobs.yaml"), "--once"]),
    ]);
    assertEquals([codes, lines], [[0, 0], ["orders: succeeded", "orders: succeeded"]]);
    await withState(out, async (state) => {
      const runs = await state.listRuns();
      assertEquals(runs.map((r) => r.status), ["succeeded", "succeeded"]);
      const [second, first] = runs;
      assertEquals(first.counts.records > 100, true);
      // The watermark boundary is re-read (>=), so the second run fetches a page, not the table.
      assertEquals(second.counts.records < first.counts.records, true);
      assertMatch((await state.getWatermark("Orders"))?.lastTimestamp ?? "", /^199\d-/);
    });
  }, { auth: "bearer", token: TOKEN, scale: 0.2 });
});
