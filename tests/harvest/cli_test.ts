/**
 * `tidemark harvest` from the command line, against a mock served on a free port: bad input
 * exits 2 before any request (counted by the mock's `/-/stats`), a failing asset exits 1 while
 * the others complete, and the one-asset flag form needs no config file.
 */
import { runCli } from "../../main.ts";
import type { MockServer } from "../../mock_api/server.ts";
import { assert, assertEquals } from "../assert.ts";
import { parquetKeys, TOKEN } from "./fixture.ts";
import { requestCount, withServedMock } from "../jobs/job_fixture.ts";

/** The served mock and a folder, with `API_TOKEN` set for the configs' `${API_TOKEN}`. */
async function withServer(fn: (server: MockServer, dir: string) => Promise<void>) {
  await withServedMock(async (server, dir) => {
    Deno.env.set("API_TOKEN", TOKEN);
    try {
      await fn(server, dir);
    } finally {
      Deno.env.delete("API_TOKEN");
    }
  }, { auth: "bearer", rateLimit: 0 });
}

/** Writes `<dir>/<name>.yaml`: a config called `name` for the served mock, with `assets`. */
async function writeConfig(
  server: MockServer,
  dir: string,
  config: { name: string; assets: string },
): Promise<string> {
  const path = `${dir}/${config.name}.yaml`;
  await Deno.writeTextFile(
    path,
    `name: ${config.name}
base_url: ${server.url}
auth: { type: bearer, token: \${API_TOKEN} }
assets:
${config.assets}`,
  );
  return path;
}

function asset(name: string, path: string, extra = ""): string {
  return `  - name: ${name}
    path: ${path}
    params: { _size: 500 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
${extra}`;
}

Deno.test("cli: a config error exits 2 with its field path, before any request and any file", async () => {
  await withServer(async (server, dir) => {
    const config = await writeConfig(server, dir, {
      name: "bad",
      assets: `${asset("Orders", "/northwind/Orders.json")}
  - name: Lines
    path: /northwind/Order%20Details.json
    pagination: { type: cursr }
    data_path: rows
`,
    });
    assertEquals(await runCli(["harvest", "--config", config, "--out", `${dir}/out`]), 2);
    assertEquals(await requestCount(server), 0);
    assertEquals(await Deno.stat(`${dir}/out`).catch(() => null), null, "no out folder");
  });
});

Deno.test("cli: problems found after loading (unknown contract, bad partition_by) exit 2 before any request", async () => {
  await withServer(async (server, dir) => {
    const config = await writeConfig(server, dir, {
      name: "bad",
      assets: `${asset("Orders", "/northwind/Orders.json", "    contract: no_such_contract\n")}
${asset("Lines", "/northwind/Order%20Details.json", "    output: { partition_by: [year(] }\n")}`,
    });
    assertEquals(await runCli(["harvest", "--config", config, "--out", `${dir}/out`]), 2);
    assertEquals(await requestCount(server), 0);
    assertEquals(await runCli(["harvest", "--config", config, "--asset", "Nope"]), 2);
    assertEquals(await requestCount(server), 0);
  });
});

Deno.test("cli: a failing asset exits 1 while the other completes and commits", async () => {
  await withServer(async (server, dir) => {
    const config = await writeConfig(server, dir, {
      name: "mixed",
      assets: `${asset("Orders", "/northwind/Orders.json", "    primary_key: [OrderID]\n")}
${asset("Missing", "/northwind/NoSuchTable.json")}`,
    });
    const out = `${dir}/out`;
    assertEquals(await runCli(["harvest", "--config", config, "--out", out, "--quiet"]), 1);
    const keys = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(keys.length, 830);
  });
});

Deno.test("cli: one asset from flags, no config file", async () => {
  await withServer(async (server, dir) => {
    const out = `${dir}/out`;
    const code = await runCli([
      "harvest",
      "--url",
      `${server.url}/northwind/Orders.json?_size=300`,
      "--data-path",
      "rows",
      "--pagination",
      "cursor",
      "--next-path",
      "next",
      "--next-param",
      "_next",
      "--primary-key",
      "OrderID",
      "--out",
      out,
      "--bearer-env",
      "API_TOKEN",
      "--quiet",
    ]);
    assertEquals(code, 0);
    const keys = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(keys.length, 830);
    assertEquals(new Set(keys).size, 830);
    assert((await Deno.stat(`${out}/manifest.jsonl`)).isFile);
  });
});
