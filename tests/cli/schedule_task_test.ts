/**
 * `deno task schedule`: network to the union of its jobs' hosts (harvest hosts, a PostgreSQL
 * state's server, and extract steps' PostgreSQL servers); `--show-permissions` prints and runs
 * nothing.
 */
import { join } from "node:path";
import { launchSchedule, schedulePermissions } from "../../lib/cli/schedule_task.ts";
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { capture } from "./capture.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark-schedule-task-");

async function jobsFile(dir: string, bTop = ""): Promise<string> {
  await Deno.writeTextFile(
    join(dir, "a.yaml"),
    `name: a
base_url: http://api.example.org:8443
auth: { type: none }
schedule: "0 * * * *"
assets:
  - name: items
    path: /items
    data_path: items
extract:
  - name: orders
    db: postgres://etl@db.example.org/shop
    query: SELECT 1
`,
  );
  await Deno.writeTextFile(
    join(dir, "b.yaml"),
    `name: b
base_url: http://127.0.0.1:9000
auth: { type: none }
schedule: "*/5 * * * *"
${bTop}assets:
  - name: things
    path: /things
    data_path: rows
`,
  );
  const file = join(dir, "jobs.yaml");
  await Deno.writeTextFile(file, "jobs:\n  - config: a.yaml\n  - config: b.yaml\n");
  return file;
}

Deno.test("schedule task: network to every job's hosts and its extract steps' databases", async () => {
  await withDir(async (dir) => {
    const flags = await schedulePermissions(["--config", await jobsFile(dir)]);
    assertEquals(
      flags[0],
      "--allow-net=api.example.org:8443,db.example.org:5432,127.0.0.1:9000",
    );
  });
});

Deno.test("schedule task: a job's PostgreSQL state adds its server", async () => {
  await withDir(async (dir) => {
    const file = await jobsFile(
      dir,
      'state: { path: "postgres://etl@state.example.org:6432/ops" }\n',
    );
    const flags = await schedulePermissions(["--config", file]);
    assertEquals(
      flags[0],
      "--allow-net=api.example.org:8443,db.example.org:5432,127.0.0.1:9000,state.example.org:6432",
    );
  });
});

Deno.test("schedule task: --show-permissions prints the command and starts nothing", async () => {
  await withDir(async (dir) => {
    const started: string[][] = [];
    const file = await jobsFile(dir);
    const shown = await capture(() =>
      launchSchedule(["--config", file, "--once", "--show-permissions"], (args) => {
        started.push(args);
        return Promise.resolve(0);
      })
    );
    assertEquals([shown.result, started.length], [0, 0]);
    assertStringIncludes(shown.stdout, "schedule --config");
  });
});
