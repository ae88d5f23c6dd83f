import { HttpClient } from "../../lib/http/client.ts";
import { HttpError } from "../../lib/http/http_error.ts";
import { startMockServer } from "../../mock_api/server.ts";
import { assertEquals, assertRejects } from "../assert.ts";
import { northwind, ORDERS } from "./mock_setup.ts";

// Over real sockets a `reset` fault aborts the connection mid-body and a `truncate` fault gives
// unparsable JSON: the classification must hold there too. Backoff draws 0, so nothing sleeps.

Deno.test("over a real server, reset connections and cut bodies are retried and succeed", async () => {
  const faultScript = ["reset", "truncate", "503"];
  const server = await startMockServer({ db: northwind(), auth: "bearer", faultScript });
  try {
    const client = new HttpClient({
      baseUrl: server.url,
      auth: { type: "bearer", token: "super-secret-token" },
      random: () => 0,
    });
    const result = await client.fetch(ORDERS);
    assertEquals(result.attempts.map((a) => a.kind), ["reset", "truncated", "http", "http"]);
    assertEquals(result.attempts.map((a) => a.status), [200, 200, 503, 200]);
    assertEquals((result.json as { rows: unknown[] }).rows.length, 5);
  } finally {
    await server.close();
  }
});

Deno.test("over a real server, a 401 is final for a static token and names the alias", async () => {
  const server = await startMockServer({ db: northwind(), auth: "header" });
  try {
    const client = new HttpClient({
      baseUrl: server.url,
      auth: { type: "header", key: "wrong-key-value", alias: "API_KEY" },
    });
    const error = await assertRejects(() => client.fetch(ORDERS), HttpError);
    assertEquals([error.status, error.attempts.length, error.message.includes("header:API_KEY")], [
      401,
      1,
      true,
    ]);
  } finally {
    await server.close();
  }
});
