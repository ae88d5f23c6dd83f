import { HttpError } from "../../lib/http/http_error.ts";
import type { FetchFunction } from "../../lib/http/fetch_resilient.ts";
import { LoginAuth } from "../../lib/http/auth_login.ts";
import { OAuth2ClientCredentialsAuth } from "../../lib/http/auth_oauth2.ts";
import { HttpClient } from "../../lib/http/client.ts";
import { createApp } from "../../mock_api/app.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { ManualClock } from "./manual_clock.ts";
import { BASE_URL, northwind, ORDERS, setup, START } from "./mock_setup.ts";

const PAGE = (n: number) => ({ url: ORDERS.url, params: { _size: 1, _next: 10248 + n } });

Deno.test("bearer auth works against the mock and is recorded by alias", async () => {
  const { client } = setup(
    { auth: "bearer", token: "bearer-secret-1" },
    { auth: { type: "bearer", token: "bearer-secret-1", alias: "API_TOKEN" } },
  );
  const result = await client.fetch(ORDERS);
  assertEquals([result.status, result.auth], [200, "bearer:API_TOKEN"]);
});

Deno.test("an API key in a header works against the mock", async () => {
  const { client } = setup(
    { auth: "header", token: "header-secret-1" },
    { auth: { type: "header", key: "header-secret-1" } },
  );
  const result = await client.fetch(ORDERS);
  assertEquals([result.status, result.auth], [200, "header:X-API-Key"]);
});

Deno.test("an API key in the query works and never shows in the result URL", async () => {
  const { client } = setup(
    { auth: "query", token: "query-secret-1" },
    { auth: { type: "query", key: "query-secret-1" } },
  );
  const result = await client.fetch(ORDERS);
  assertEquals(result.status, 200);
  assertEquals(result.url, `${BASE_URL}${ORDERS.url}?_size=5&api_key=***`);
});

Deno.test("basic auth works against the mock", async () => {
  const { client } = setup(
    { auth: "basic", username: "ada", password: "basic-pass-1" },
    { auth: { type: "basic", username: "ada", password: "basic-pass-1" } },
  );
  const result = await client.fetch(ORDERS);
  assertEquals([result.status, result.auth], [200, "basic:ada"]);
});

Deno.test("oauth2 client credentials: one token, fetched once, reused", async () => {
  const { client, counts } = setup(
    { auth: "oauth2", clientId: "cid", clientSecret: "oauth-secret-1" },
    {
      auth: {
        type: "oauth2",
        token_url: "/oauth/token",
        client_id: "cid",
        client_secret: "oauth-secret-1",
      },
    },
  );
  for (let i = 0; i < 3; i++) assertEquals((await client.fetch(PAGE(i))).status, 200);
  assertEquals(client.auth.alias, "oauth2:cid");
  assertEquals(await counts("/oauth/token"), { "200": 1 });
});

Deno.test("oauth2 replaces its token before expires_in runs out", async () => {
  const { clock, client, counts } = setup(
    { auth: "oauth2", tokenTtlMs: 100_000 },
    {
      auth: {
        type: "oauth2",
        token_url: "/oauth/token",
        client_id: "tidemark-client",
        client_secret: "tidemark-secret",
      },
    },
  );
  await client.fetch(PAGE(0));
  // The margin is a tenth of the lifetime: at 90 s the token is replaced, 10 s before expiry.
  await clock.advance(89_999);
  await client.fetch(PAGE(1));
  assertEquals(await counts("/oauth/token"), { "200": 1 });
  await clock.advance(1);
  const result = await client.fetch(PAGE(2));
  assertEquals(await counts("/oauth/token"), { "200": 2 });
  assertEquals(result.attempts.map((a) => a.status), [200]);
});

Deno.test("oauth2 with a wrong client secret fails with an auth error that hides it", async () => {
  const { client } = setup(
    { auth: "oauth2" },
    {
      auth: {
        type: "oauth2",
        token_url: "/oauth/token",
        client_id: "tidemark-client",
        client_secret: "wrong-secret-value",
      },
    },
  );
  const error = await assertRejects(() => client.fetch(ORDERS), HttpError);
  assertEquals([error.reason, error.status], ["auth", 401]);
  assertStringIncludes(error.message, "auth.client_id and auth.client_secret");
  assert(!error.message.includes("wrong-secret-value"));
});

Deno.test("login auth logs in once and sends the access token", async () => {
  const { client, counts } = setup(
    { auth: "jwt" },
    {
      auth: {
        type: "login",
        login_url: "/auth/login",
        username: "tidemark",
        password: "tidemark-password",
      },
    },
  );
  for (let i = 0; i < 3; i++) assertEquals((await client.fetch(PAGE(i))).status, 200);
  assertEquals(client.auth.alias, "login:tidemark");
  assertEquals(await counts("/auth/login"), { "200": 1 });
});

Deno.test("login with a wrong password fails with an auth error that hides it", async () => {
  const { client } = setup(
    { auth: "jwt" },
    {
      auth: {
        type: "login",
        login_url: "/auth/login",
        username: "tidemark",
        password: "not-the-password",
      },
    },
  );
  const error = await assertRejects(() => client.fetch(ORDERS), HttpError);
  assertEquals([error.reason, error.status], ["auth", 401]);
  assertStringIncludes(error.message, "check auth.username and auth.password");
  assert(!error.message.includes("not-the-password"));
});

Deno.test("a wrong bearer token fails fast with the alias, not the token", async () => {
  const { client } = setup(
    { auth: "bearer" },
    { auth: { type: "bearer", token: "wrong-token-value", alias: "API_TOKEN" } },
  );
  const error = await assertRejects(() => client.fetch(ORDERS), HttpError);
  assertEquals([error.status, error.attempts.length], [403, 1]);
  assertStringIncludes(error.message, "bearer:API_TOKEN");
  assert(!error.message.includes("wrong-token-value"));
});

/** A jwt mock whose clock can run ahead of the client's, so the server expires tokens first. */
function jwtSetup(options: { tokenTtlMs?: number } = {}) {
  const clock = new ManualClock(START);
  let serverAhead = 0;
  const app = createApp({
    db: northwind(),
    auth: "jwt",
    tokenTtlMs: options.tokenTtlMs ?? 600_000,
    now: () => clock.now() + serverAhead,
  });
  let wrap = (fetch: FetchFunction): FetchFunction => fetch;
  const auth = new LoginAuth({
    loginUrl: `${BASE_URL}/auth/login`,
    username: "tidemark",
    password: "tidemark-password",
    send: (request, signal) => client.fetchAnonymous(request, { signal }),
    clock,
  });
  const client: HttpClient = new HttpClient({
    baseUrl: BASE_URL,
    fetch: (url, init) => wrap((u, i) => app.request(u, i))(url, init),
    clock,
    auth,
  });
  return {
    clock,
    client,
    auth,
    app,
    setServerAhead: (ms: number) => serverAhead = ms,
    setWrap: (w: typeof wrap) => wrap = w,
    async counts(path: string) {
      return (await (await app.request("/-/stats")).json()).by_path[path] ?? {};
    },
  };
}

Deno.test("a token that expires mid-run is refreshed exactly once by 8 concurrent requests", async () => {
  const t = jwtSetup();
  await t.client.fetch(PAGE(0));
  t.setServerAhead(700_000); // the server now sees the token as expired; the client does not
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) => t.client.fetch(PAGE(i + 1))),
  );
  assertEquals(results.map((r) => r.attempts.map((a) => a.status)), Array(8).fill([401, 200]));
  assertEquals([t.auth.refreshes, t.auth.logins], [1, 1]);
  assertEquals(await t.counts("/auth/refresh"), { "200": 1 });
  assertEquals(await t.counts("/auth/login"), { "200": 1 });
});

Deno.test("a token about to expire is replaced once, before use, for 8 concurrent requests", async () => {
  const t = jwtSetup({ tokenTtlMs: 600_000 });
  await t.client.fetch(PAGE(0));
  await t.clock.advance(590_000);
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) => t.client.fetch(PAGE(i + 1))),
  );
  assertEquals(results.map((r) => r.attempts.map((a) => a.status)), Array(8).fill([200]));
  assertEquals([t.auth.refreshes, t.auth.logins], [1, 1]);
});

Deno.test("a refused refresh token leads to a new login", async () => {
  const t = jwtSetup();
  await t.client.fetch(PAGE(0));
  t.setServerAhead(3 * 86_400_000); // past the refresh token's lifetime too
  const result = await t.client.fetch(PAGE(1));
  assertEquals(result.attempts.map((a) => a.status), [401, 200]);
  assertEquals([t.auth.refreshes, t.auth.logins], [1, 2]);
  assertEquals(await t.counts("/auth/refresh"), { "401": 1 });
});

Deno.test("a 401 that survives a refresh and a new login fails", async () => {
  const t = jwtSetup();
  await t.client.fetch(PAGE(0));
  t.setWrap((fetch) => async (url, init) => {
    const response = await fetch(url, init);
    if (!url.includes("/northwind/")) return response;
    await response.body?.cancel();
    return Response.json({ error: "token expired" }, { status: 401 });
  });
  const error = await assertRejects(() => t.client.fetch(PAGE(1)), HttpError);
  assertEquals([error.status, error.attempts.map((a) => a.status)], [401, [401, 401, 401]]);
  assertEquals([t.auth.refreshes, t.auth.logins], [1, 2]);
  assertStringIncludes(error.message, "after 2 credential refresh(es)");
});

Deno.test("oauth2 refetches its token once when 8 concurrent requests get 401", async () => {
  const clock = new ManualClock(START);
  let serverAhead = 0;
  const app = createApp({ db: northwind(), auth: "oauth2", now: () => clock.now() + serverAhead });
  const auth: OAuth2ClientCredentialsAuth = new OAuth2ClientCredentialsAuth({
    tokenUrl: `${BASE_URL}/oauth/token`,
    clientId: "tidemark-client",
    clientSecret: "tidemark-secret",
    send: (request, signal) => client.fetchAnonymous(request, { signal }),
    clock,
  });
  const client: HttpClient = new HttpClient({
    baseUrl: BASE_URL,
    fetch: (url, init) => app.request(url, init),
    clock,
    auth,
  });
  await client.fetch(PAGE(0));
  serverAhead = 7_200_000;
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => client.fetch(PAGE(i + 1))));
  assertEquals(results.map((r) => r.attempts.map((a) => a.status)), Array(8).fill([401, 200]));
  assertEquals(auth.tokensFetched, 2);
});
