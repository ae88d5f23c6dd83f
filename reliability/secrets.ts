/**
 * Check (d): harvests under each of the six auth kinds — bearer, header, query, basic, oauth2
 * client credentials and login (JWT) — leave no secret anywhere: not in any byte of the out folder
 * (raw snapshots, manifest, state database, reports, Parquet), not in stdout, stderr or the log
 * file.
 * @module
 */
import { join } from "node:path";
import { filesUnder, runCli, serveMock } from "./harness.ts";

interface AuthCase {
  kind: string;
  mock: string[];
  auth: string;
  env: Record<string, string>;
  secrets: string[];
}

const CASES: AuthCase[] = [
  {
    kind: "bearer",
    mock: ["--auth", "bearer", "--token", "sekrit-bearer-71c4"],
    auth: "{ type: bearer, token: ${API_TOKEN} }",
    env: { API_TOKEN: "sekrit-bearer-71c4" },
    secrets: ["sekrit-bearer-71c4"],
  },
  {
    kind: "header",
    mock: ["--auth", "header", "--token", "sekrit-header-92ad"],
    auth: "{ type: header, name: X-API-Key, key: ${API_KEY} }",
    env: { API_KEY: "sekrit-header-92ad" },
    secrets: ["sekrit-header-92ad"],
  },
  {
    kind: "query",
    mock: ["--auth", "query", "--token", "sekrit-query-3b7e"],
    auth: "{ type: query, name: api_key, key: ${API_KEY} }",
    env: { API_KEY: "sekrit-query-3b7e" },
    secrets: ["sekrit-query-3b7e"],
  },
  {
    kind: "basic",
    mock: ["--auth", "basic", "--username", "ana", "--password", "sekrit-basic-5d1f"],
    auth: "{ type: basic, username: ana, password: ${API_PASSWORD} }",
    env: { API_PASSWORD: "sekrit-basic-5d1f" },
    secrets: ["sekrit-basic-5d1f", btoa("ana:sekrit-basic-5d1f")],
  },
  {
    kind: "oauth2",
    mock: ["--auth", "oauth2", "--client-id", "cid", "--client-secret", "sekrit-oauth-8e2a"],
    auth:
      '{ type: oauth2, token_url: "/oauth/token", client_id: cid, client_secret: ${CLIENT_SECRET} }',
    env: { CLIENT_SECRET: "sekrit-oauth-8e2a" },
    secrets: ["sekrit-oauth-8e2a"],
  },
  {
    kind: "login",
    mock: ["--auth", "jwt", "--username", "ana", "--password", "sekrit-login-6c0b"],
    auth: '{ type: login, login_url: "/auth/login", username: ana, password: ${API_PASSWORD} }',
    env: { API_PASSWORD: "sekrit-login-6c0b" },
    secrets: ["sekrit-login-6c0b"],
  },
];

/** Runs check (d); resolves to null when no secret leaked, else where one did. */
export async function secretsCheck(dir: string): Promise<string | null> {
  const problems: string[] = [];
  for (const c of CASES) {
    const mock = await serveMock(["--rate-limit", "0", ...c.mock]);
    try {
      const config = join(dir, `${c.kind}.yaml`);
      await Deno.writeTextFile(
        config,
        `name: secrets
base_url: ${mock.url}
auth: ${c.auth}
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: 300 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
`,
      );
      const out = join(dir, `secrets-${c.kind}`);
      const log = join(dir, `secrets-${c.kind}.log`);
      const run = await runCli(
        ["harvest", "--config", config, "--out", out, "--log-file", log, "--log-level", "debug"],
        { env: c.env },
      );
      if (run.code !== 0) {
        problems.push(`${c.kind}: harvest exited ${run.code}: ${run.stderr.slice(-300)}`);
        continue;
      }
      const places: [string, Uint8Array][] = [
        ["stdout", new TextEncoder().encode(run.stdout)],
        ["stderr", new TextEncoder().encode(run.stderr)],
        ["log file", await Deno.readFile(log)],
      ];
      for (const file of await filesUnder(out)) {
        places.push([`out/${file}`, await Deno.readFile(join(out, file))]);
      }
      for (const [where, bytes] of places) {
        const text = new TextDecoder("latin1").decode(bytes);
        for (const secret of c.secrets) {
          if (text.includes(secret)) problems.push(`${c.kind}: a secret is in ${where}`);
        }
      }
    } finally {
      await mock.stop();
    }
  }
  return problems.length === 0 ? null : problems.join("; ");
}
