import { join } from "node:path";
import { ConfigError } from "../../lib/core/errors.ts";
import { loadScheduledJobs } from "../../lib/schedule/jobs.ts";
import { assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { configYaml } from "./fake_time.ts";

async function withFiles(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-jobs-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a config with schedule: is one job over every asset, in UTC", async () => {
  await withFiles(
    { "nw.yaml": configYaml("northwind", ['schedule: "*/15 * * * *"']) },
    async (dir) => {
      const jobs = await loadScheduledJobs(join(dir, "nw.yaml"), { env: {} });
      assertEquals(jobs.map((j) => [j.name, j.schedule, j.timezone, j.assets]), [
        ["northwind", "*/15 * * * *", "UTC", undefined],
      ]);
      assertEquals(jobs[0].loaded.config.assets[0].name, "Orders");
    },
  );
});

Deno.test("a jobs file lists configs relative to itself; an entry's schedule overrides the config's", async () => {
  await withFiles({
    "jobs.yaml": [
      "timezone: Europe/Paris",
      "jobs:",
      "  - nw.yaml",
      '  - { config: wp.yaml, schedule: "0 * * * *" }',
    ].join("\n"),
    "nw.yaml": configYaml("northwind", ['schedule: "*/15 * * * *"']),
    "wp.yaml": configYaml("wordpress", ['schedule: "@daily"'], ["posts"]),
  }, async (dir) => {
    const jobs = await loadScheduledJobs(join(dir, "jobs.yaml"), { env: {} });
    assertEquals(jobs.map((j) => [j.name, j.schedule, j.timezone, j.configPath]), [
      ["northwind", "*/15 * * * *", "Europe/Paris", join(dir, "nw.yaml")],
      ["wordpress", "0 * * * *", "Europe/Paris", join(dir, "wp.yaml")],
    ]);
    const utc = await loadScheduledJobs(join(dir, "jobs.yaml"), { env: {}, timezone: "UTC" });
    assertEquals(utc.map((j) => j.timezone), ["UTC", "UTC"]);
  });
});

Deno.test("assets with their own schedule become their own job; the rest stay with the config", async () => {
  const yaml = configYaml("shop", ['schedule: "0 * * * *"'], ["Orders", "Customers", "Products"])
    .replace(
      "    path: /northwind/Products.json",
      '    path: /northwind/Products.json\n    schedule: "@daily"',
    );
  await withFiles({ "shop.yaml": yaml }, async (dir) => {
    const jobs = await loadScheduledJobs(join(dir, "shop.yaml"), { env: {} });
    assertEquals(jobs.map((j) => [j.name, j.schedule, j.assets]), [
      ["shop", "0 * * * *", ["Orders", "Customers"]],
      ["shop:Products", "@daily", ["Products"]],
    ]);
  });
});

Deno.test("every schedule problem is listed at once, by path", async () => {
  await withFiles({
    "jobs.yaml":
      "jobs:\n  - a.yaml\n  - b.yaml\n  - { config: c.yaml, schedule: '*/15 * * *' }\n  - a.yaml\n",
    "a.yaml": configYaml("alpha", ['schedule: "@hourly"']),
    "b.yaml": configYaml("beta"),
    "c.yaml": configYaml("gamma"),
  }, async (dir) => {
    const error = await assertRejects(
      () => loadScheduledJobs(join(dir, "jobs.yaml"), { env: {} }),
      ConfigError,
      "3 problems",
    );
    const issues = (error as ConfigError).issues;
    assertEquals(issues.map((i) => i.path), [
      "jobs[1] (b.yaml): schedule",
      "jobs[2].schedule",
      "jobs",
    ]);
    assertStringIncludes(
      issues[0].message,
      'config "beta" has no schedule; add schedule: "<cron>" (e.g. "*/15 * * * *") to it or to its jobs entry',
    );
    assertStringIncludes(issues[1].message, '"*/15 * * *" is not a valid cron pattern');
    assertStringIncludes(issues[2].message, 'two jobs are named "alpha"');
  });
});

Deno.test("a config that fails validation is reported under its jobs entry", async () => {
  await withFiles({
    "jobs.yaml": "jobs: [broken.yaml]\n",
    "broken.yaml": "name: broken\nassets: []\n",
  }, async (dir) => {
    const error = await assertRejects(
      () => loadScheduledJobs(join(dir, "jobs.yaml"), { env: {} }),
      ConfigError,
    );
    assertEquals((error as ConfigError).issues[0].path, "jobs[0]");
    assertStringIncludes((error as ConfigError).issues[0].message, "at least one asset");
  });
});

Deno.test("a jobs file with an unknown key or no jobs is refused", async () => {
  await withFiles({ "jobs.yaml": "jobs: []\ntimezon: UTC\n" }, async (dir) => {
    const error = await assertRejects(
      () => loadScheduledJobs(join(dir, "jobs.yaml"), { env: {} }),
      ConfigError,
    );
    const paths = (error as ConfigError).issues.map((i) => i.path).sort();
    assertEquals(paths.length, 2);
    assertStringIncludes(error.message, "timezon");
  });
});

Deno.test("a for_each child on another schedule than its parent is refused", async () => {
  const yaml = [
    "name: pipeline",
    "base_url: http://127.0.0.1:9000",
    'schedule: "@hourly"',
    "assets:",
    "  - { name: customers, path: /c, data_path: rows }",
    '  - { name: orders, path: /o, data_path: rows, for_each: customers, params: { id: "{record.id}" }, schedule: "@daily" }',
  ].join("\n");
  await withFiles({ "p.yaml": yaml }, async (dir) => {
    await assertRejects(
      () => loadScheduledJobs(join(dir, "p.yaml"), { env: {} }),
      ConfigError,
      "must run in the same job",
    );
  });
});

Deno.test("a missing schedule file is a ConfigError naming it", async () => {
  await assertRejects(
    () => loadScheduledJobs("/nonexistent/jobs.yaml"),
    ConfigError,
    "/nonexistent/jobs.yaml",
  );
});

Deno.test("when only some assets have a schedule, the others are named", async () => {
  const yaml = configYaml("shop", [], ["Orders", "Customers"])
    .replace(
      "    path: /northwind/Orders.json",
      '    path: /northwind/Orders.json\n    schedule: "@daily"',
    );
  await withFiles({ "shop.yaml": yaml }, async (dir) => {
    const error = await assertRejects(
      () => loadScheduledJobs(join(dir, "shop.yaml"), { env: {} }),
      ConfigError,
    );
    assertEquals((error as ConfigError).issues.map((i) => [i.path, i.message]), [[
      "assets[1].schedule",
      'asset "Customers" has no schedule; add schedule: "<cron>" to the config (every asset) or to the asset',
    ]]);
  });
});
