/**
 * Scheduled runs of the jobs: `tidemark schedule --once` fires the real engine with change
 * detection, so a second fire against an unchanged source sends exactly one request; on Deno
 * Deploy (`DENO_DEPLOYMENT_ID`) `main.ts` is the deployment of deploy.ts.
 */
import { join } from "node:path";
import { scheduleCommand } from "../../lib/cli/schedule.ts";
import { createLogger } from "../../lib/report/logger.ts";
import { assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { captureOutput, requestCount, withServedMock } from "./job_fixture.ts";

const SILENT = createLogger({ output: null });

function postsConfig(baseUrl: string, out: string): string {
  return `name: posts
base_url: ${baseUrl}
out: ${out}
schedule: "0 10 * * *"
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: posts
    path: /wp-json/wp/v2/posts
    params: { orderby: id, order: asc }
    pagination: { type: page, limit: 50, total_pages_header: X-WP-TotalPages, end_statuses: [400] }
    data_path: ""
    primary_key: [id]
    incremental: { cursor_field: modified_gmt, param: modified_after }
    change_detection: { params: { orderby: modified, order: desc, per_page: 1 } }
    output: { format: raw }
`;
}

Deno.test("schedule: the second scheduled run of an unchanged source sends exactly one request", async () => {
  await withServedMock(async (server, dir) => {
    const config = join(dir, "posts.yaml");
    await Deno.writeTextFile(config, postsConfig(server.url, join(dir, "out")));
    const command = scheduleCommand({ env: { API_TOKEN: "super-secret-token" }, logger: SILENT });
    const first = await captureOutput(() => command.run(["--config", config, "--once"]));
    assertEquals([first.value, first.stdout], [0, ["posts: succeeded"]]);
    const before = await requestCount(server);
    const second = await captureOutput(() => command.run(["--config", config, "--once"]));
    assertEquals([second.value, second.stdout], [0, ["posts: succeeded"]]);
    assertEquals(await requestCount(server) - before, 1);
  }, { auth: "bearer" });
});

Deno.test("deploy: main.ts as the Deploy entry is deploy.ts (it does not print help and exit)", async () => {
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const run = (env: Record<string, string>) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--unstable-cron", "--unstable-kv", "--allow-read", "--allow-env", main],
      env: { NO_COLOR: "1", TIDEMARK_OUT: "", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
  // Without TIDEMARK_OUT deploy.ts stops at once with the line that names it: proof that the
  // deployment, not the CLI, started.
  const deployed = await run({ DENO_DEPLOYMENT_ID: "test-deployment" });
  const stderr = new TextDecoder().decode(deployed.stderr);
  assertEquals(deployed.code, 2, stderr);
  assertMatch(stderr, /^tidemark deploy: TIDEMARK_OUT/m);
  assertEquals(new TextDecoder().decode(deployed.stdout).includes("Usage: tidemark"), false);
  const local = await run({});
  assertStringIncludes(new TextDecoder().decode(local.stdout), "Usage: tidemark");
});
