/**
 * Logs, progress and reports of `tidemark harvest` as a process started from a script or cron
 * sees them: off a terminal, stderr carries JSON lines (the documented fields, no secret) and no
 * progress display; `--log-format human` gives readable lines; `--log-file` writes the same
 * records to a file rotated by size, keeping `--log-keep` old files; every run writes
 * `<out>/reports/<run_id>.{json,html}`.
 */
import { join } from "node:path";
import { logRecordSchema } from "../../lib/report/logger.ts";
import type { MockServer } from "../../mock_api/server.ts";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { withServedMock } from "./job_fixture.ts";
import { HARVEST_PROCESS_ARGS } from "../harvest/fixture.ts";

const TOKEN = "cli-logs-secret-token-1234";

async function harvest(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [...HARVEST_PROCESS_ARGS, ...args],
    env: { API_TOKEN: TOKEN, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

async function withServer(fn: (server: MockServer, dir: string, config: string) => Promise<void>) {
  await withServedMock(async (server, dir) => {
    const config = join(dir, "orders.yaml");
    await Deno.writeTextFile(
      config,
      `name: orders
base_url: ${server.url}
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: 50 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    output: { format: jsonl }
`,
    );
    await fn(server, dir, config);
  }, { auth: "bearer", token: TOKEN });
}

Deno.test("cli logs: off a terminal, stderr is JSON lines with the documented fields, no secret, no progress", async () => {
  await withServer(async (_server, dir, config) => {
    const out = join(dir, "out");
    const run = await harvest(["--config", config, "--out", out]);
    assertEquals(run.code, 0, run.stderr);
    const lines = run.stderr.trim().split("\n");
    assert(lines.length >= 3);
    for (const line of lines) logRecordSchema.parse(JSON.parse(line));
    assert(!run.stderr.includes(TOKEN), "no token in the log");
    assert(!run.stderr.includes("\r") && !run.stderr.includes("\x1b["), "no progress display");
    const runId = JSON.parse(lines[0]).run_id as string;
    for (const ext of ["json", "html"]) {
      const text = await Deno.readTextFile(join(out, "reports", `${runId}.${ext}`));
      assert(!text.includes(TOKEN));
    }
  });
});

Deno.test("cli logs: --log-format human gives readable lines instead", async () => {
  await withServer(async (_server, dir, config) => {
    const run = await harvest([
      "--config",
      config,
      "--out",
      join(dir, "out"),
      "--log-format",
      "human",
    ]);
    assertEquals(run.code, 0, run.stderr);
    const first = run.stderr.trim().split("\n")[0];
    assertMatch(first, /^\d{2}:\d{2}:\d{2}\.\d{3} INFO {2}harvest\.start/);
  });
});

Deno.test("cli logs: --log-file rotates by size and keeps --log-keep files", async () => {
  await withServer(async (_server, dir, config) => {
    const log = join(dir, "logs", "app.log");
    const args = ["--config", config, "--out", join(dir, "out"), "--log-file", log];
    const rotate = ["--log-max-bytes", "1024", "--log-keep", "2"];
    for (let i = 0; i < 4; i++) {
      const run = await harvest([...args, ...rotate, "--full-refresh"]);
      assertEquals(run.code, 0, run.stderr);
    }
    const names = [...Deno.readDirSync(join(dir, "logs"))].map((e) => e.name).sort();
    assertEquals(names, ["app.log", "app.log.1", "app.log.2"]);
    for (const name of names) {
      const text = await Deno.readTextFile(join(dir, "logs", name));
      assert(!text.includes(TOKEN));
      for (const line of text.trim().split("\n")) logRecordSchema.parse(JSON.parse(line));
    }
    const orphan = await harvest([...args.slice(0, 4), "--log-keep", "2"]);
    assertEquals(orphan.code, 2);
    assertMatch(
      orphan.stderr,
      /--log-keep and --log-max-bytes rotate the log file; add --log-file/,
    );
  });
});
