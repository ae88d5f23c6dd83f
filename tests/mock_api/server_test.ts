import { startMockServer } from "../../mock_api/server.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";

const AUTH = { Authorization: "Bearer super-secret-token" };

Deno.test("startMockServer serves on 127.0.0.1 on a free port and closes", async () => {
  const server = await startMockServer();
  try {
    assertMatch(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${server.url}/-/health`);
    assertEquals(res.status, 200);
    assertEquals((await res.json()).ok, true);
  } finally {
    await server.close();
  }
});

Deno.test("over HTTP a truncate fault is a 200 with unparsable JSON", async () => {
  const server = await startMockServer({ faultScript: ["truncate"] });
  try {
    const res = await fetch(`${server.url}/northwind/Orders.json?_size=50`, { headers: AUTH });
    assertEquals(res.status, 200);
    const text = await res.text();
    assert(text.length > 0);
    let parsed = true;
    try {
      JSON.parse(text);
    } catch {
      parsed = false;
    }
    assertEquals(parsed, false);
  } finally {
    await server.close();
  }
});

Deno.test("over HTTP a reset fault breaks the connection mid-body", async () => {
  const server = await startMockServer({ faultScript: ["reset"] });
  try {
    const res = await fetch(`${server.url}/northwind/Orders.json?_size=50`, { headers: AUTH });
    await assertRejects(() => res.text(), TypeError);
  } finally {
    await server.close();
  }
});

Deno.test("over HTTP a timeout fault holds until the client gives up, and is counted", async () => {
  const server = await startMockServer({ faultScript: ["timeout"], timeoutHoldMs: 60_000 });
  try {
    const abort = new AbortController();
    const pending = fetch(`${server.url}/northwind/Orders.json`, {
      headers: AUTH,
      signal: abort.signal,
    });
    // Give up once the server holds the request (it shows in no count until it ends).
    const health = await fetch(`${server.url}/-/health`);
    await health.body?.cancel();
    abort.abort();
    await assertRejects(() => pending);
    let aborted = 0;
    for (let i = 0; i < 50 && aborted === 0; i++) {
      const stats = await (await server.app.request("/-/stats")).json();
      aborted = stats.by_status.aborted ?? 0;
      if (aborted === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assertEquals(aborted, 1);
  } finally {
    await server.close();
  }
});

Deno.test("close() ends a held request at once instead of after timeoutHoldMs", async () => {
  const server = await startMockServer({ faultScript: ["timeout"], timeoutHoldMs: 600_000 });
  const pending = fetch(`${server.url}/northwind/Orders.json`, { headers: AUTH })
    .then((res) => res.body?.cancel(), (error) => error);
  const health = await fetch(`${server.url}/-/health`);
  await health.body?.cancel();
  await server.close();
  await pending;
});

Deno.test("an aborted signal option stops the server", async () => {
  const stop = new AbortController();
  const server = await startMockServer({ signal: stop.signal });
  stop.abort();
  await server.close();
  await assertRejects(() => fetch(`${server.url}/-/health`));
});
