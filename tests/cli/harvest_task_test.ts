/**
 * `deno task harvest` (`lib/cli/harvest_task.ts`): a harvest gets only the permissions its config
 * needs — its hosts, its out folder, its state and log folders — and says why when one cannot
 * be scoped; a bad command line fails before anything starts.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseHarvestArgs } from "../../lib/cli/harvest_args.ts";
import {
  HARVEST_MAIN,
  HARVEST_V8_FLAGS,
  harvestPermissions,
  launchHarvest,
} from "../../lib/cli/harvest_task.ts";
import { npmReadFolders } from "../../lib/cli/npm_folder.ts";
import { startMockServer } from "../../mock_api/server.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { capture } from "./capture.ts";
import { tempFolders } from "../temp_dir.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const withDir = tempFolders("tidemark-task-");

/** Writes a config with `assets` (and `top` lines) and reads its command line. */
async function invocation(dir: string, top: string, assets: string, args: string[] = []) {
  const config = join(dir, "job.yaml");
  await Deno.writeTextFile(
    config,
    `name: job\nbase_url: http://127.0.0.1:9000\n${top}assets:\n${assets}`,
  );
  return await parseHarvestArgs(["--config", config, "--out", join(dir, "out"), ...args]);
}

/** Append: the one write mode whose files can be scoped (replace and merge need Deno.symlink). */
const ORDERS = `  - name: Orders
    path: /northwind/Orders.json
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    output: { mode: append }
`;

Deno.test("harvest task: network to the config's host, read and write to its out folder", async () => {
  await withDir(async (dir) => {
    const permissions = harvestPermissions(await invocation(dir, "", ORDERS), { env: {} });
    const out = resolve(dir, "out");
    assertEquals(permissions.net, ["127.0.0.1:9000"]);
    assertEquals(permissions.write, [out]);
    assertEquals(permissions.read, [
      out,
      join(ROOT, "lib"),
      ...npmReadFolders(),
      resolve(dir, "job.yaml"),
    ]);
    assertEquals(permissions.notes, []);
    assertEquals(permissions.flags, [
      "--allow-net=127.0.0.1:9000",
      `--allow-read=${permissions.read!.join(",")}`,
      `--allow-write=${out}`,
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
    ]);
  });
});

Deno.test("harvest task: token URLs, absolute asset paths, --base-url, state and log folders are added", async () => {
  await withDir(async (dir) => {
    const permissions = harvestPermissions(
      await invocation(
        dir,
        `auth: { type: oauth2, token_url: "https://auth.example.com/token", client_id: id, client_secret: "\${CLIENT_SECRET:-dev-secret}" }
state: { backend: kv, path: ${join(dir, "state", "job.kv")} }
`,
        `${ORDERS}  - name: Remote
    path: https://api.example.org:8443/v1/items
    data_path: items
    output: { mode: append }
`,
        ["--base-url", "http://localhost:9100", "--log-file", join(dir, "logs", "job.log")],
      ),
      { env: {} },
    );
    assertEquals(permissions.net, ["localhost:9100", "api.example.org:8443", "auth.example.com"]);
    assertEquals(permissions.write, [
      resolve(dir, "out"),
      join(dir, "logs"),
      join(dir, "state"),
    ]);
    assert(permissions.flags.includes("--unstable-kv"), "a KV state needs --unstable-kv");
  });
});

Deno.test("harvest task: a PostgreSQL state adds its server, and no state folder", async () => {
  await withDir(async (dir) => {
    const permissions = harvestPermissions(
      await invocation(dir, 'state: { path: "postgres://etl@db.example.org/ops" }\n', ORDERS),
      { env: {} },
    );
    assertEquals(permissions.net, ["127.0.0.1:9000", "db.example.org:5432"]);
    assertEquals(permissions.write, [resolve(dir, "out")]);
    assert(!permissions.flags.includes("--unstable-kv"));
    const port = harvestPermissions(
      await invocation(
        dir,
        'state: { backend: postgres, path: "postgresql://etl@10.0.0.7:6432/ops?schema=etl" }\n',
        ORDERS,
      ),
      { env: {} },
    );
    assertEquals(port.net, ["127.0.0.1:9000", "10.0.0.7:6432"]);
  });
});

Deno.test("harvest task: an S3 destination adds its endpoint; on AWS the network cannot be scoped, and says so", async () => {
  await withDir(async (dir) => {
    const asset = ORDERS.replace(
      "{ mode: append }",
      '{ mode: append, destination: "s3://lake/orders" }',
    );
    const env = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret-key-1234" };
    const local = harvestPermissions(await invocation(dir, "", asset), {
      env: { ...env, S3_ENDPOINT: "http://127.0.0.1:4569" },
    });
    assertEquals(local.net, ["127.0.0.1:9000", "127.0.0.1:4569"]);
    const aws = harvestPermissions(await invocation(dir, "", asset), { env });
    assertEquals(aws.net, null);
    assertEquals(aws.flags[0], "--allow-net");
    assertStringIncludes(
      aws.notes.join("\n"),
      "network not scoped: Orders uploads to s3://lake/orders",
    );
  });
});

Deno.test("harvest task: an asset without incremental replaces by default, so its files are not scoped, and says why", async () => {
  await withDir(async (dir) => {
    const full = harvestPermissions(
      await invocation(dir, "", ORDERS.replace("    output: { mode: append }\n", "")),
      { env: {} },
    );
    assertEquals([full.read, full.write], [null, null]);
    assertMatch(full.notes[0], /Orders \(output.mode replace\/merge\).*Deno.symlink/);
  });
});

Deno.test("harvest task: replace/merge assets and derive steps get unscoped files, and say why", async () => {
  await withDir(async (dir) => {
    const merged = harvestPermissions(
      await invocation(dir, "", ORDERS.replace("mode: append", "mode: merge")),
      { env: {} },
    );
    assertEquals([merged.read, merged.write], [null, null]);
    assertEquals(merged.flags.slice(1, 3), ["--allow-read", "--allow-write"]);
    assertMatch(
      merged.notes[0],
      /read and write not scoped: Orders \(output.mode replace\/merge\).*Deno.symlink/,
    );
    assertEquals(merged.net, ["127.0.0.1:9000"], "the network stays scoped");
    const derived = harvestPermissions(
      await invocation(dir, "derive:\n  - name: copy\n    from: [Orders]\n", ORDERS),
      { env: {} },
    );
    assertEquals([derived.read, derived.write], [null, null]);
    assertMatch(derived.notes[0], /copy \(derive\) switch folders/);
  });
});

Deno.test("harvest task: a bad command line exits 2 before anything starts; the launcher's own flag is not passed on", async () => {
  await withDir(async (dir) => {
    const started: string[][] = [];
    const spawn = (args: string[]) => {
      started.push(args);
      return Promise.resolve(0);
    };
    const bad = await capture(() => launchHarvest(["--config", join(dir, "nope.yaml")], spawn));
    assertEquals(bad.result, 2);
    assertStringIncludes(bad.stderr, "nope.yaml");
    assertEquals(started, []);

    await invocation(dir, "", ORDERS);
    const args = ["--config", join(dir, "job.yaml"), "--out", join(dir, "out")];
    const shown = await capture(() => launchHarvest([...args, "--show-permissions"], spawn));
    assertEquals(shown.result, 0);
    assertStringIncludes(shown.stdout, "deno run --allow-net=127.0.0.1:9000 ");
    assertEquals(started, [], "--show-permissions only prints");
    const ok = await capture(() => launchHarvest(args, spawn));
    assertEquals(ok.result, 0);
    assertEquals(started.length, 1);
    assertEquals(started[0].slice(-5), [HARVEST_MAIN, ...args]);
  });
});

Deno.test("harvest task: the child runs with the harvest's V8 flags (no heap limit), and --show-permissions prints them", async () => {
  await withDir(async (dir) => {
    const started: string[][] = [];
    const spawn = (args: string[]) => {
      started.push(args);
      return Promise.resolve(0);
    };
    await invocation(dir, "", ORDERS);
    const args = ["--config", join(dir, "job.yaml"), "--out", join(dir, "out")];
    const shown = await capture(() => launchHarvest([...args, "--show-permissions"], spawn));
    assertStringIncludes(shown.stdout, ` ${HARVEST_V8_FLAGS} `);
    await capture(() => launchHarvest(args, spawn));
    assert(started[0].includes(HARVEST_V8_FLAGS));
    // A hard heap limit could fail a run on one large page: only the young space is bounded.
    assert(!HARVEST_V8_FLAGS.includes("max-old-space") && !HARVEST_V8_FLAGS.includes("max-heap"));
  });
});

Deno.test("harvest task: every task that starts a harvest child, or runs harvests in one, runs its own process with the child's V8 flags", async () => {
  // V8 rejects code cached under other flags, and Deno then compiles and caches the modules
  // again: a launcher without the child's flags would make the two evict each other's cache of
  // the ~40 modules they share (config, zod), every run (~0.2 s more per run, measured).
  const { tasks } = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const launchers = [
    "harvest",
    "tidemark",
    "mock",
    "northwind",
    "wordpress",
    "timelines",
    "unstable",
    "generic",
    "schedule",
  ];
  for (const name of launchers) {
    const command: string = tasks[name].command;
    assertStringIncludes(command, ` ${HARVEST_V8_FLAGS} `, `deno task ${name}`);
  }
});

Deno.test("harvest task: the task's own command harvests a host that is not 127.0.0.1 into an out folder anywhere", async () => {
  const server = await startMockServer({ auth: "none", rateLimit: 0, hostname: "127.0.0.2" });
  try {
    await withDir(async (dir) => {
      const config = join(dir, "job.yaml");
      await Deno.writeTextFile(
        config,
        `name: job\nbase_url: ${server.url}\nassets:\n${ORDERS}    params: { _size: 200 }\n`,
      );
      const out = join(dir, "out");
      // `deno task harvest`, as its deno.json line starts it.
      const task = (...extra: string[]) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-read",
            "--allow-env",
            "--allow-run",
            join(ROOT, "jobs", "harvest_task.ts"),
            "--config",
            config,
            "--out",
            out,
            "--quiet",
            ...extra,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
      const shown = await task("--show-permissions");
      const printed = new TextDecoder().decode(shown.stdout);
      assertEquals(shown.code, 0);
      assertStringIncludes(printed, `--allow-net=${new URL(server.url).host} `);
      assertStringIncludes(printed, `--allow-write=${out} `);
      const stats = await (await fetch(`${server.url}/-/stats`)).json();
      assertEquals(stats.by_path["/northwind/Orders.json"], undefined, "no request was sent");
      assertEquals(await Deno.stat(out).catch(() => null), null, "nothing written");
      const ran = await task();
      assertEquals(ran.code, 0, new TextDecoder().decode(ran.stderr));
      assertMatch(new TextDecoder().decode(ran.stdout), /succeeded: 5 pages, 830 records/);
    });
  } finally {
    await server.close();
  }
});

Deno.test("harvest task: --queue adds the queue's server to the network, and passes the flags on", async () => {
  await withDir(async (dir) => {
    const started: string[][] = [];
    const spawn = (args: string[]) => {
      started.push(args);
      return Promise.resolve(0);
    };
    await invocation(dir, "", ORDERS);
    const args = [
      "--config",
      join(dir, "job.yaml"),
      "--out",
      join(dir, "out"),
      "--queue",
      "postgres://etl@db.example:5433/ops",
      "--detach",
    ];
    const shown = await capture(() => launchHarvest([...args, "--show-permissions"], spawn));
    assertEquals(shown.result, 0, shown.stderr);
    assertStringIncludes(shown.stdout, "--allow-net=127.0.0.1:9000,db.example:5433 ");
    assertEquals(started, []);
    assertEquals((await capture(() => launchHarvest(args, spawn))).result, 0);
    assertEquals(started[0].slice(-8), [HARVEST_MAIN, ...args]);
    assert(started[0].includes("--allow-net=127.0.0.1:9000,db.example:5433"));
  });
});

Deno.test("harvest task: a queued run into s3:// gets no local out folder (its workers write the bucket)", async () => {
  await withDir(async (dir) => {
    const permissions = harvestPermissions(
      await invocation(dir, "", ORDERS, ["--out", "s3://lake/runs/northwind"]),
      { env: {}, queue: "postgres://etl@127.0.0.1:5432/ops" },
    );
    assertEquals(permissions.write, []);
    assertEquals(permissions.read, [
      join(ROOT, "lib"),
      ...npmReadFolders(),
      resolve(dir, "job.yaml"),
    ]);
    assertEquals(permissions.net, ["127.0.0.1:9000", "127.0.0.1:5432"]);
  });
});
