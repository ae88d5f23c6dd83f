import { join } from "node:path";
import { loadConfig, parseConfig } from "../../lib/config/load.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import { configSha256 } from "../../lib/core/stamps.ts";
import { assertEquals, assertRejects, assertThrows } from "../assert.ts";

const minimal = (auth: string, extra = "") =>
  `name: job
base_url: \${API_HOST:-http://127.0.0.1:9000}
auth: ${auth}
assets:
  - name: Orders
    path: /northwind/Orders.json
    data_path: rows
${extra}`;

Deno.test("load: ${VAR} takes the value from the injected environment", () => {
  const loaded = parseConfig(minimal("{ type: bearer, token: ${API_TOKEN} }"), {
    env: { API_TOKEN: "tok-123", API_HOST: "http://127.0.0.1:9100" },
  });
  assertEquals(loaded.config.auth, { type: "bearer", token: "tok-123" });
  assertEquals(loaded.config.base_url, "http://127.0.0.1:9100");
});

Deno.test("load: ${VAR:-default} uses the default when the variable is unset or empty", () => {
  const unset = parseConfig(minimal("{ type: none }"), { env: {} });
  assertEquals(unset.config.base_url, "http://127.0.0.1:9000");
  const empty = parseConfig(minimal("{ type: none }"), { env: { API_HOST: "" } });
  assertEquals(empty.config.base_url, "http://127.0.0.1:9000");
});

Deno.test("load: $${ writes a literal ${ and is not a variable", () => {
  const loaded = parseConfig(
    minimal("{ type: none }", "    headers: { X-Note: 'cost$${USD}' }\n"),
    {
      env: {},
    },
  );
  assertEquals(loaded.config.assets[0].headers, { "X-Note": "cost${USD}" });
});

Deno.test("load: a value with YAML syntax in it cannot change the document's structure", () => {
  const loaded = parseConfig(minimal("{ type: bearer, token: ${API_TOKEN} }"), {
    env: { API_TOKEN: "a: b, c: }\n- d # e" },
  });
  assertEquals(loaded.config.auth, { type: "bearer", token: "a: b, c: }\n- d # e" });
});

Deno.test("load: a whole-value variable holding a number validates as a number", () => {
  const loaded = parseConfig(
    minimal("{ type: none }").replace("name: job", "name: job\nworkers: ${WORKERS}"),
    {
      env: { WORKERS: "8" },
    },
  );
  assertEquals(loaded.config.workers, 8);
});

Deno.test("load: every unset variable is reported, each with its field", () => {
  const text = minimal("{ type: basic, username: ${API_USER}, password: ${API_PASSWORD} }");
  const error = assertThrows(() => parseConfig(text, { env: {} }), ConfigError);
  assertEquals(error.issues, [
    {
      path: "auth.username",
      message: "environment variable API_USER is not set; export it or write ${API_USER:-default}",
    },
    {
      path: "auth.password",
      message:
        "environment variable API_PASSWORD is not set; export it or write ${API_PASSWORD:-default}",
    },
  ]);
});

Deno.test("load: the auth alias names the variable, never the secret", () => {
  const env = { API_TOKEN: "super-secret-token", KEY: "k-999", PW: "pw", SECRET: "s" };
  const alias = (auth: string) => parseConfig(minimal(auth), { env }).authAlias;
  assertEquals(alias("{ type: bearer, token: ${API_TOKEN} }"), "bearer:API_TOKEN");
  assertEquals(alias("{ type: header, key: ${KEY} }"), "header:KEY");
  assertEquals(alias("{ type: basic, username: tidemark, password: ${PW} }"), "basic:PW");
  assertEquals(
    alias("{ type: oauth2, token_url: /oauth/token, client_id: c, client_secret: ${SECRET} }"),
    "oauth2:SECRET",
  );
  assertEquals(alias("{ type: bearer, token: ${API_TOKEN}, alias: prod-reader }"), "prod-reader");
  assertEquals(alias("{ type: none }"), "none");
});

Deno.test("load: secret values are collected for redaction; plain values are not", () => {
  const loaded = parseConfig(
    minimal(
      "{ type: bearer, token: ${API_TOKEN} }",
      "    headers: { X-Trace: ${TRACE} }\n    params: { region: ${REGION} }\n",
    ),
    {
      env: {
        API_TOKEN: "tok",
        TRACE: "trace-secret",
        REGION: "eu",
        API_HOST: "http://127.0.0.1:9",
      },
    },
  );
  assertEquals(loaded.secretValues.sort(), ["tok", "trace-secret"]);
  assertEquals(loaded.envFields["auth.token"], ["API_TOKEN"]);
  assertEquals(loaded.envFields["assets[0].params.region"], ["REGION"]);
});

Deno.test("load: the config sha256 is the hash of the file bytes, so it holds no secret", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "job.yaml");
    const text = minimal("{ type: bearer, token: ${API_TOKEN} }");
    await Deno.writeTextFile(path, text);
    const a = await loadConfig(path, { env: { API_TOKEN: "one" } });
    const b = await loadConfig(path, { env: { API_TOKEN: "two" } });
    assertEquals(a.sha256, configSha256(new TextEncoder().encode(text)));
    assertEquals(a.sha256, b.sha256);
    assertEquals(a.source, path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("load: a missing file is a ConfigError naming the path", async () => {
  await assertRejects(
    () => loadConfig("/nonexistent/tidemark.yaml", { env: {} }),
    ConfigError,
    "/nonexistent/tidemark.yaml: no such file",
  );
});

Deno.test("load: a variable in a key is refused", () => {
  const error = assertThrows(
    () =>
      parseConfig(minimal("{ type: none }", "    params: { ${NAME}: 1 }\n"), {
        env: { NAME: "x" },
      }),
    ConfigError,
  );
  assertEquals(error.issues[0].message, "variables are not allowed in keys; use them in values");
});

Deno.test("load: JSON is YAML too", () => {
  const loaded = parseConfig(
    JSON.stringify({
      name: "j",
      base_url: "http://127.0.0.1:1",
      assets: [{ name: "A", path: "/a", data_path: "" }],
    }),
    { env: {} },
  );
  assertEquals(loaded.config.assets[0].pagination, { type: "none" });
});

Deno.test("load: header values may be numbers in YAML or come whole from a variable", () => {
  const loaded = parseConfig(
    minimal("{ type: none }", "    headers: { X-Version: 2, X-Build: ${BUILD} }\n"),
    { env: { BUILD: "42" } },
  );
  assertEquals(loaded.config.assets[0].headers, { "X-Version": "2", "X-Build": "42" });
});
