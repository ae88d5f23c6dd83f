/** A user adds an auth scheme Tidemark does not know; a config names it and a harvest uses it. */
import { z } from "zod";
import { parseConfig } from "../../lib/config/load.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import { harvest } from "../../lib/harvest/run.ts";
import { authKinds, registerAuth } from "../../lib/http/mod.ts";
import { assertEquals, assertThrows } from "../assert.ts";
import { SILENT, tempOut } from "../harvest/fixture.ts";

const KEY = "hmac-key-9f3b2c";

/** Signs each request's path with a key: a dozen lines. */
const signed = {
  schema: z.strictObject({ type: z.literal("signed"), key: z.string().min(1) }),
  create: (config: { key: string }) => ({
    alias: "signed:SIGNING_KEY",
    maxRefreshes: 0,
    apply: (target: { url: URL; headers: Headers }) => {
      target.headers.set("X-Signature", `${config.key.length}:${target.url.pathname}`);
      target.headers.set("X-Key", config.key);
      return Promise.resolve(0);
    },
    refresh: () => Promise.resolve(),
    secrets: () => [config.key],
  }),
};

const yaml = (auth: string) =>
  `name: signed
base_url: http://127.0.0.1:9000
auth: ${auth}
assets:
  - name: items
    path: /items
    data_path: rows
`;

Deno.test("a registered auth kind is named in a config, signs every request, and its key stays secret", async () => {
  const unregister = registerAuth("signed", signed);
  const out = await tempOut();
  try {
    assertEquals(authKinds().slice(0, 7), [
      "none",
      "bearer",
      "header",
      "query",
      "basic",
      "oauth2",
      "login",
    ]);
    const loaded = parseConfig(yaml("{ type: signed, key: ${SIGNING_KEY} }"), {
      env: { SIGNING_KEY: KEY },
    });
    const seen: string[] = [];
    const fetch = (_input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      seen.push(headers.get("X-Signature") ?? "");
      return Promise.resolve(
        headers.get("X-Key") === KEY
          ? Response.json({ rows: [{ id: 1 }, { id: 2 }] })
          : Response.json({ error: "bad signature" }, { status: 401 }),
      );
    };
    const result = await harvest(loaded, { ...SILENT, out, fetch });
    assertEquals(result.exitCode, 0);
    assertEquals(result.assets[0].rows, 2);
    assertEquals(seen, [`${KEY.length}:/items`]);
    const manifest = await Deno.readTextFile(`${out}/manifest.jsonl`);
    assertEquals(manifest.includes(KEY), false, "the key is a secret");
  } finally {
    unregister();
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a registered auth kind's options are checked; an unknown kind lists every kind", () => {
  const unregister = registerAuth("signed", signed);
  try {
    const bad = assertThrows(
      () => parseConfig(yaml("{ type: signed }"), { env: {} }),
      ConfigError,
    );
    assertEquals(bad.issues.map((i) => i.path), ["auth.key"]);
    const unknown = assertThrows(
      () => parseConfig(yaml("{ type: signd }"), { env: {} }),
      ConfigError,
    );
    assertEquals(unknown.issues, [{
      path: "auth.type",
      message:
        'expected one of none, bearer, header, query, basic, oauth2, login, signed; got "signd"',
    }]);
  } finally {
    unregister();
  }
});
