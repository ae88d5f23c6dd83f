import FakeTimers from "@sinonjs/fake-timers";
import { Hono } from "hono";
import type { MockEnv } from "../../mock_api/context.ts";
import { type FaultOptions, faultsMiddleware } from "../../mock_api/middleware/faults.ts";
import { errorHandler } from "../../mock_api/middleware/json_errors.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";

const BODY = { rows: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `row ${i}` })) };

function faultyApp(options: FaultOptions) {
  const app = new Hono<MockEnv>();
  app.use("*", faultsMiddleware(options));
  app.get("/data", (c) => c.json(BODY));
  app.onError(errorHandler);
  return app;
}

async function outcomes(app: Hono<MockEnv>, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await app.request("/data");
    try {
      JSON.parse(await res.text());
      out.push(String(res.status));
    } catch {
      out.push(`${res.status}-broken`);
    }
  }
  return out;
}

const MIX = { "500": 0.2, "503": 0.2, "429": 0.1, truncate: 0.1, reset: 0.1 };

Deno.test("the same fault seed gives the same fault sequence", async () => {
  const a = await outcomes(faultyApp({ faults: MIX, seed: 7 }), 60);
  const b = await outcomes(faultyApp({ faults: MIX, seed: 7 }), 60);
  assertEquals(a, b);
  assert(new Set(a).size >= 4, `expected a mix of outcomes, got ${[...new Set(a)]}`);
});

Deno.test("another fault seed gives another sequence", async () => {
  const a = await outcomes(faultyApp({ faults: MIX, seed: 1 }), 60);
  const b = await outcomes(faultyApp({ faults: MIX, seed: 2 }), 60);
  assert(JSON.stringify(a) !== JSON.stringify(b));
});

Deno.test("fault frequencies follow the probabilities", async () => {
  const seen = await outcomes(faultyApp({ faults: { "503": 0.3 }, seed: 3 }), 1000);
  const rate = seen.filter((s) => s === "503").length / 1000;
  assert(rate > 0.25 && rate < 0.35, `503 rate ${rate}`);
});

Deno.test("scripted faults fail the next requests in order, then pass", async () => {
  const app = faultyApp({ script: ["503", "ok", "429", "500", "502", "504"] });
  assertEquals(await outcomes(app, 7), ["503", "200", "429", "500", "502", "504", "200"]);
});

Deno.test("the script is consumed in place, so entries pushed later apply", async () => {
  const script: string[] = [];
  const app = faultyApp({ script });
  assertEquals(await outcomes(app, 1), ["200"]);
  script.push("503");
  assertEquals(await outcomes(app, 2), ["503", "200"]);
  assertEquals(script, []);
});

Deno.test("an injected 429 asks to retry after one second", async () => {
  const res = await faultyApp({ script: ["429"] }).request("/data");
  assertEquals(res.headers.get("retry-after"), "1");
  assertEquals(await res.json(), { error: "rate limit exceeded" });
});

Deno.test("truncate: a 200 whose body is shorter than its Content-Length", async () => {
  const res = await faultyApp({ script: ["truncate"] }).request("/data");
  const bytes = new Uint8Array(await res.arrayBuffer());
  const full = new TextEncoder().encode(JSON.stringify(BODY)).length;
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-length"), String(full));
  assert(bytes.length < full, `${bytes.length} bytes of ${full}`);
  assertThrows(() => JSON.parse(new TextDecoder().decode(bytes)), SyntaxError);
});

Deno.test("reset: the body stream errors mid-way", async () => {
  const res = await faultyApp({ script: ["reset"] }).request("/data");
  assertEquals(res.status, 200);
  await assertRejects(() => res.text(), TypeError, "connection reset");
});

Deno.test("timeout: the response is held until the client aborts", async () => {
  const clock = FakeTimers.withGlobal(globalThis).install({
    toFake: ["setTimeout", "clearTimeout"],
  });
  try {
    const abort = new AbortController();
    let settled = false;
    const app = faultyApp({ script: ["timeout"], timeoutHoldMs: 60_000 });
    const pending = Promise.resolve(app.request("/data", { signal: abort.signal }))
      .finally(() => settled = true);
    await clock.tickAsync(59_999);
    assertEquals(settled, false);
    abort.abort();
    const error = await assertRejects(() => pending);
    assertEquals(error.name, "AbortError");
    assertEquals(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("timeout: a client's own timeout rejects the request as fetch would", async () => {
  const clock = FakeTimers.withGlobal(globalThis).install({
    toFake: ["setTimeout", "clearTimeout"],
  });
  try {
    const abort = new AbortController();
    const app = faultyApp({ script: ["timeout"] });
    const pending = Promise.resolve(app.request("/data", { signal: abort.signal }));
    await clock.tickAsync(1_000);
    abort.abort(new DOMException("client timeout", "TimeoutError"));
    const error = await assertRejects(() => pending);
    assertEquals([error.name, error.message], ["TimeoutError", "client timeout"]);
  } finally {
    clock.uninstall();
  }
});

Deno.test("timeout: a client that waits gets the answer after timeoutHoldMs", async () => {
  const clock = FakeTimers.withGlobal(globalThis).install({
    toFake: ["setTimeout", "clearTimeout"],
  });
  try {
    let settled = false;
    const app = faultyApp({ script: ["timeout"], timeoutHoldMs: 5_000 });
    const pending = Promise.resolve(app.request("/data")).finally(() => settled = true);
    await clock.tickAsync(4_999);
    assertEquals(settled, false);
    await clock.tickAsync(1);
    const res = await pending;
    assertEquals([res.status, await res.json()], [200, BODY]);
  } finally {
    clock.uninstall();
  }
});

Deno.test("bad fault settings are refused with the bad value named", () => {
  assertThrows(() => faultsMiddleware({ faults: { "500": 1.5 } }), RangeError, "1.5");
  assertThrows(() => faultsMiddleware({ faults: { "500": 0.6, "503": 0.6 } }), RangeError, "1.2");
  assertThrows(
    () => faultsMiddleware({ faults: { "418": 0.1 } as FaultOptions["faults"] }),
    RangeError,
    '"418"',
  );
  assertThrows(() => faultsMiddleware({ script: ["boom"] }), RangeError, '"boom"');
});
