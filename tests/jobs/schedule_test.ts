/**
 * Scheduled runs of the jobs: `tidemark schedule --once` fires the real engine with change
 * detection, so a second fire against an unchanged source sends exactly one request; on Deno
 * Deploy (`DENO_DEPLOYMENT_ID`) `main.ts` registers the schedule file's jobs with `Deno.cron`, and
 * a fire is the same scheduled harvest.
 */
import { join } from "node:path";
import { scheduleCommand } from "../../lib/cli/schedule.ts";
import { createLogger } from "../../lib/report/logger.ts";
import type { DenoCronFunction } from "../../lib/schedule/deploy.ts";
import { registerDeployJobs } from "../../lib/schedule/deploy_jobs.ts";
import { assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { captureOutput, requestCount, tempDir, withServedMock } from "./job_fixture.ts";

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

Deno.test("deploy: the schedule file's jobs register with Deno.cron, and a fire runs the harvest", async () => {
  await withServedMock(async (server, dir) => {
    const config = join(dir, "posts.yaml");
    await Deno.writeTextFile(config, postsConfig(server.url, join(dir, "out")));
    await Deno.writeTextFile(join(dir, "schedule.yaml"), "jobs: [posts.yaml]\n");
    const handlers: (() => Promise<void>)[] = [];
    const registered: string[] = [];
    const cron: DenoCronFunction = (name, schedule, _options, handler) => {
      registered.push(`${name} ${schedule}`);
      handlers.push(handler);
      return new Promise(() => {});
    };
    const entries = await registerDeployJobs({
      env: { TIDEMARK_SCHEDULE: join(dir, "schedule.yaml"), API_TOKEN: "super-secret-token" },
      cron,
      logger: SILENT,
    });
    assertEquals(entries.map((e) => e.job), ["posts"]);
    assertEquals(registered, ["posts 0 10 * * *"]);
    await captureOutput(() => handlers[0]());
    const reports = [...Deno.readDirSync(join(dir, "out", "reports"))].map((e) => e.name);
    assertEquals(reports.filter((n) => n.endsWith(".json")).length, 1, "one run written");
  }, { auth: "bearer" });
});

Deno.test("deploy: main.ts registers the jobs with Deno.cron when DENO_DEPLOYMENT_ID is set", async () => {
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "posts.yaml"),
      postsConfig("http://127.0.0.1:9", join(dir, "out")),
    );
    await Deno.writeTextFile(join(dir, "schedule.yaml"), "jobs: [posts.yaml]\n");
    const main = new URL("../../main.ts", import.meta.url).pathname;
    const run = (env: Record<string, string>, unstable: boolean) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...(unstable ? ["--unstable-cron"] : []),
          "--allow-read",
          "--allow-env",
          "--allow-net=127.0.0.1",
          "--allow-ffi",
          "--allow-sys",
          main,
          "--version",
        ],
        env: {
          TIDEMARK_SCHEDULE: join(dir, "schedule.yaml"),
          API_TOKEN: "super-secret-token",
          NO_COLOR: "1",
          ...env,
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const deployed = await run({ DENO_DEPLOYMENT_ID: "test-deployment" }, true);
    const stderr = new TextDecoder().decode(deployed.stderr);
    assertEquals(deployed.code, 0, stderr);
    assertMatch(stderr, /registered with Deno\.cron as \\"posts\\"/);
    assertStringIncludes(new TextDecoder().decode(deployed.stdout), "tidemark");
    const local = await run({}, true);
    assertEquals(new TextDecoder().decode(local.stderr).includes("Deno.cron"), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
