import { Buffer } from "node:buffer";
import { Hono } from "hono";
import type { MockEnv } from "../../mock_api/context.ts";
import { type AuthOptions, createAuth } from "../../mock_api/middleware/auth.ts";
import { assert, assertEquals, assertMatch, assertNotEquals } from "../assert.ts";

/** A tiny app behind the auth middleware: echoes who was let in and what they may do. */
function authedApp(options: AuthOptions) {
  const auth = createAuth(options);
  const app = new Hono<MockEnv>();
  app.route("/", auth.routes);
  app.use("*", auth.middleware);
  app.get("/data", (c) =>
    c.json({
      credential: c.get("credential"),
      canWrite: c.get("canWrite"),
      url: c.req.url,
      query: c.req.query(),
    }));
  return app;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

Deno.test("bearer: the right token passes and may write by default", async () => {
  const res = await authedApp({ mode: "bearer", token: "t0k" }).request("/data", {
    headers: { Authorization: "Bearer t0k" },
  });
  assertEquals(res.status, 200);
  assertEquals((await res.json()).canWrite, true);
});

Deno.test("bearer: no Authorization header is 401 missing bearer token", async () => {
  const res = await authedApp({ mode: "bearer" }).request("/data");
  assertEquals(res.status, 401);
  assertEquals(await res.json(), { error: "missing bearer token" });
});

Deno.test("bearer: another scheme is 401 missing bearer token", async () => {
  const res = await authedApp({ mode: "bearer" }).request("/data", {
    headers: { Authorization: basic("a", "b") },
  });
  assertEquals(res.status, 401);
  assertEquals(await res.json(), { error: "missing bearer token" });
});

Deno.test("bearer: a wrong token is 403 invalid token", async () => {
  const res = await authedApp({ mode: "bearer", token: "right" }).request("/data", {
    headers: { Authorization: "Bearer wrong" },
  });
  assertEquals(res.status, 403);
  assertEquals(await res.json(), { error: "invalid token" });
});

Deno.test("bearer: the default token is super-secret-token", async () => {
  const res = await authedApp({}).request("/data", {
    headers: { Authorization: "Bearer super-secret-token" },
  });
  assertEquals(res.status, 200);
});

Deno.test("write token: the read token may read but not write; the write token may both", async () => {
  const app = authedApp({ mode: "bearer", token: "read", writeToken: "write" });
  const reader = await app.request("/data", { headers: { Authorization: "Bearer read" } });
  const writer = await app.request("/data", { headers: { Authorization: "Bearer write" } });
  assertEquals([reader.status, (await reader.json()).canWrite], [200, false]);
  assertEquals([writer.status, (await writer.json()).canWrite], [200, true]);
});

Deno.test("header: X-API-Key passes; missing or wrong is 401", async () => {
  const app = authedApp({ mode: "header", token: "k" });
  assertEquals((await app.request("/data", { headers: { "X-API-Key": "k" } })).status, 200);
  const missing = await app.request("/data");
  const wrong = await app.request("/data", { headers: { "X-API-Key": "nope" } });
  assertEquals([missing.status, wrong.status], [401, 401]);
  assertEquals(await wrong.json(), { error: "invalid api key" });
});

Deno.test("query: ?api_key= passes and is removed before the routes see the URL", async () => {
  const app = authedApp({ mode: "query", token: "k y" });
  const res = await app.request("/data?_size=5&api_key=k%20y&_next=a~2Cb");
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(body.query, { _size: "5", _next: "a~2Cb" });
  assertEquals(body.url, "http://localhost/data?_size=5&_next=a~2Cb");
});

Deno.test("query: missing or wrong api_key is 401", async () => {
  const app = authedApp({ mode: "query", token: "k" });
  const missing = await app.request("/data?x=1");
  const wrong = await app.request("/data?api_key=z");
  assertEquals([missing.status, wrong.status], [401, 401]);
  assertEquals(await missing.json(), { error: "missing api_key" });
});

Deno.test("basic: right user and password pass", async () => {
  const res = await authedApp({ mode: "basic", username: "u", password: "p:w" }).request("/data", {
    headers: { Authorization: basic("u", "p:w") },
  });
  assertEquals(res.status, 200);
  assertEquals((await res.json()).credential, "basic:u");
});

Deno.test("basic: wrong password is 401 with WWW-Authenticate: Basic", async () => {
  const res = await authedApp({ mode: "basic", username: "u", password: "p" }).request("/data", {
    headers: { Authorization: basic("u", "x") },
  });
  assertEquals(res.status, 401);
  assertMatch(res.headers.get("www-authenticate") ?? "", /^Basic /);
  await res.body?.cancel();
});

Deno.test("basic: no credentials is 401 with WWW-Authenticate: Basic", async () => {
  const res = await authedApp({ mode: "basic" }).request("/data");
  assertEquals(res.status, 401);
  assertMatch(res.headers.get("www-authenticate") ?? "", /^Basic /);
  await res.body?.cancel();
});

function login(app: Hono<MockEnv>, body: unknown) {
  return app.request("/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("jwt: login returns an HS256 access token, a refresh token and expires_in", async () => {
  const app = authedApp({ mode: "jwt", username: "u", password: "p", tokenTtlMs: 30_000 });
  const res = await login(app, { username: "u", password: "p" });
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(Object.keys(body).sort(), ["access_token", "expires_in", "refresh_token"]);
  assertEquals(body.expires_in, 30);
  const header = JSON.parse(Buffer.from(body.access_token.split(".")[0], "base64url").toString());
  assertEquals(header, { alg: "HS256", typ: "JWT" });
  const data = await app.request("/data", {
    headers: { Authorization: `Bearer ${body.access_token}` },
  });
  assertEquals(data.status, 200);
  assertEquals((await data.json()).credential, "jwt:u");
});

Deno.test("jwt: a wrong password is 401", async () => {
  const res = await login(authedApp({ mode: "jwt" }), { username: "tidemark", password: "x" });
  assertEquals(res.status, 401);
  await res.body?.cancel();
});

Deno.test("jwt: a malformed login body is 400, not 500", async () => {
  const res = await authedApp({ mode: "jwt" }).request("/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "{not json",
  });
  assertEquals(res.status, 400);
  await res.body?.cancel();
});

Deno.test("jwt: the access token expires exactly tokenTtlMs after login", async () => {
  let clock = 1_700_000_000_123;
  const app = authedApp({ mode: "jwt", tokenTtlMs: 30_000, now: () => clock });
  const { access_token } = await (await login(app, {
    username: "tidemark",
    password: "tidemark-password",
  })).json();
  const get = () => app.request("/data", { headers: { Authorization: `Bearer ${access_token}` } });
  clock += 29_999;
  assertEquals((await (await get()).json()).credential, "jwt:tidemark");
  clock += 1;
  const expired = await get();
  assertEquals(expired.status, 401);
  assertEquals(await expired.json(), { error: "token expired" });
});

Deno.test("jwt: refresh gives a new working access token after expiry", async () => {
  let clock = 1_700_000_000_000;
  const app = authedApp({ mode: "jwt", tokenTtlMs: 1_000, now: () => clock });
  const first = await (await login(app, { username: "tidemark", password: "tidemark-password" }))
    .json();
  clock += 5_000;
  const res = await app.request("/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: first.refresh_token }),
  });
  assertEquals(res.status, 200);
  const second = await res.json();
  assertNotEquals(second.access_token, first.access_token);
  const data = await app.request("/data", {
    headers: { Authorization: `Bearer ${second.access_token}` },
  });
  assertEquals(data.status, 200);
  await data.body?.cancel();
});

Deno.test("jwt: a refresh token is not accepted as an access token", async () => {
  const app = authedApp({ mode: "jwt" });
  const { refresh_token } = await (await login(app, {
    username: "tidemark",
    password: "tidemark-password",
  })).json();
  const res = await app.request("/data", { headers: { Authorization: `Bearer ${refresh_token}` } });
  assertEquals(res.status, 401);
  assertEquals(await res.json(), { error: "invalid token" });
});

Deno.test("jwt: a token signed with another secret is 401 invalid token", async () => {
  const other = authedApp({ mode: "jwt", jwtSecret: "other" });
  const { access_token } = await (await login(other, {
    username: "tidemark",
    password: "tidemark-password",
  })).json();
  const res = await authedApp({ mode: "jwt", jwtSecret: "mine" }).request("/data", {
    headers: { Authorization: `Bearer ${access_token}` },
  });
  assertEquals(res.status, 401);
  assertEquals(await res.json(), { error: "invalid token" });
});

Deno.test("jwt: a bad refresh token is 401", async () => {
  const res = await authedApp({ mode: "jwt" }).request("/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: "a.b.c" }),
  });
  assertEquals(res.status, 401);
  await res.body?.cancel();
});

function tokenRequest(app: Hono<MockEnv>, form: Record<string, string>) {
  return app.request("/oauth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

Deno.test("oauth2: client_credentials returns a bearer token that opens the data", async () => {
  const app = authedApp({ mode: "oauth2", clientId: "c", clientSecret: "s", tokenTtlMs: 60_000 });
  const res = await tokenRequest(app, {
    grant_type: "client_credentials",
    client_id: "c",
    client_secret: "s",
  });
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals([body.token_type, body.expires_in], ["bearer", 60]);
  const data = await app.request("/data", {
    headers: { Authorization: `Bearer ${body.access_token}` },
  });
  assertEquals((await data.json()).credential, "oauth2:c");
});

Deno.test("oauth2: client authentication by HTTP Basic is accepted", async () => {
  const app = authedApp({ mode: "oauth2", clientId: "c", clientSecret: "s" });
  const res = await app.request("/oauth/token", {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Authorization: basic("c", "s"),
    },
    body: "grant_type=client_credentials",
  });
  assertEquals(res.status, 200);
  await res.body?.cancel();
});

Deno.test("oauth2: a bad client secret is 401 invalid_client", async () => {
  const res = await tokenRequest(authedApp({ mode: "oauth2" }), {
    grant_type: "client_credentials",
    client_id: "tidemark-client",
    client_secret: "wrong",
  });
  assertEquals(res.status, 401);
  assertEquals(await res.json(), { error: "invalid_client" });
});

Deno.test("oauth2: another grant type is 400 unsupported_grant_type", async () => {
  const res = await tokenRequest(authedApp({ mode: "oauth2" }), { grant_type: "password" });
  assertEquals(res.status, 400);
  assertEquals((await res.json()).error, "unsupported_grant_type");
});

Deno.test("oauth2: the access token expires after tokenTtlMs", async () => {
  let clock = 0;
  const app = authedApp({ mode: "oauth2", tokenTtlMs: 10_000, now: () => clock });
  const { access_token } = await (await tokenRequest(app, {
    grant_type: "client_credentials",
    client_id: "tidemark-client",
    client_secret: "tidemark-secret",
  })).json();
  clock = 10_000;
  const res = await app.request("/data", { headers: { Authorization: `Bearer ${access_token}` } });
  assertEquals(res.status, 401);
  assertEquals(await res.json(), { error: "token expired" });
});

Deno.test("none: anything passes as anonymous", async () => {
  const res = await authedApp({ mode: "none" }).request("/data");
  assertEquals(res.status, 200);
  assertEquals(await res.json(), {
    credential: "anonymous",
    canWrite: true,
    url: "http://localhost/data",
    query: {},
  });
});

Deno.test("none with a write token: only Bearer <write token> may write", async () => {
  const app = authedApp({ mode: "none", writeToken: "w" });
  const anon = await (await app.request("/data")).json();
  const writer = await (await app.request("/data", { headers: { Authorization: "Bearer w" } }))
    .json();
  assertEquals([anon.canWrite, writer.canWrite], [false, true]);
});

Deno.test("token endpoints exist only in their mode", async () => {
  const res = await authedApp({ mode: "bearer" }).request("/auth/login", { method: "POST" });
  assert(res.status === 401, `expected the auth middleware to answer, got ${res.status}`);
  await res.body?.cancel();
});
