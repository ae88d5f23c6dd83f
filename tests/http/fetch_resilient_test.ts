import { HttpError, RateLimitedError } from "../../lib/http/http_error.ts";
import { type FetchFunction, fetchResilient } from "../../lib/http/fetch_resilient.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { ORDERS, setup, START } from "./mock_setup.ts";
import { macrotask } from "./manual_clock.ts";

// Another page: not answered 304 from the first one's ETag.
const OTHER_ORDERS = { url: ORDERS.url, params: { _size: 6 } };

// Rewrites the Retry-After of every 429 the mock sends.
function retryAfterOf(value: string) {
  return (fetch: FetchFunction): FetchFunction => async (url, init) => {
    const response = await fetch(url, init);
    if (response.status !== 429) return response;
    const headers = new Headers(response.headers);
    headers.set("Retry-After", value);
    return new Response(response.body, { status: 429, headers });
  };
}

Deno.test("a 429 with Retry-After: 3 waits exactly 3 s, then succeeds", async () => {
  const { clock, client, counts } = setup(
    { rateLimit: 1, rateWindowMs: 3000 },
    { rateLimit: { adaptive: false } },
  );
  await clock.run(client.fetch(ORDERS));
  const second = client.fetch(OTHER_ORDERS);
  await clock.advance(2999);
  assertEquals(await counts(), { "200": 1, "429": 1 });
  await clock.advance(1);
  const result = await second;
  assertEquals(result.status, 200);
  assertEquals(result.attempts.map((a) => [a.status, a.sleptMs, a.waitHeader, a.waitHeaderValue]), [
    [429, 3000, "Retry-After", "3"],
    [200, 0, undefined, undefined],
  ]);
  assertEquals(result.attempts[1].startedAt - result.attempts[0].startedAt, 3000);
});

Deno.test("a 429 with an HTTP-date Retry-After waits until that date", async () => {
  const { clock, client } = setup(
    { rateLimit: 1, rateWindowMs: 3000, retryAfter: "date" },
    { rateLimit: { adaptive: false } },
  );
  await clock.run(client.fetch(ORDERS));
  await clock.advance(1234);
  const result = await clock.run(client.fetch(OTHER_ORDERS));
  assertEquals(result.status, 200);
  const [refused, ok] = result.attempts;
  assertEquals(refused.waitHeader, "Retry-After");
  assertEquals(refused.waitHeaderValue, new Date(START + 3000).toUTCString());
  assertEquals(refused.sleptMs, 1766);
  assertEquals(ok.startedAt, START + 3000);
});

Deno.test("a 429 with Retry-After: 0 falls back to backoff, never a hot loop", async () => {
  const { clock, client } = setup({ faultScript: ["429"] }, { wrap: retryAfterOf("0") });
  const result = await clock.run(client.fetch(ORDERS));
  assertEquals(result.attempts.map((a) => [a.status, a.sleptMs, a.waitHeader]), [
    [429, 500, undefined],
    [200, 0, undefined],
  ]);
});

Deno.test("a 429 with a Retry-After date in the past falls back to backoff", async () => {
  const past = new Date(START - 60_000).toUTCString();
  const { clock, client } = setup({ faultScript: ["429", "429"] }, { wrap: retryAfterOf(past) });
  const result = await clock.run(client.fetch(ORDERS));
  // Retry 0 waits the floor (500 ms); retry 1 draws from [500, 1000] with random 0.5.
  assertEquals(result.attempts.map((a) => [a.sleptMs, a.waitHeader]), [
    [500, undefined],
    [750, undefined],
    [0, undefined],
  ]);
});

Deno.test("without Retry-After a 429 waits for X-RateLimit-Reset given in seconds", async () => {
  const { clock, client } = setup(
    { rateLimit: 1, rateWindowMs: 3000, retryAfter: "none" },
    { rateLimit: { adaptive: false } },
  );
  await clock.run(client.fetch(ORDERS));
  await clock.advance(1234);
  const result = await clock.run(client.fetch(OTHER_ORDERS));
  // 1.766 s left, announced as "2": the wait is rounded up, never early.
  assertEquals(
    [result.attempts[0].waitHeader, result.attempts[0].waitHeaderValue, result.attempts[0].sleptMs],
    ["X-RateLimit-Reset", "2", 2000],
  );
  assertEquals(result.status, 200);
});

Deno.test("without Retry-After a 429 waits until an X-RateLimit-Reset given as epoch", async () => {
  const { clock, client } = setup(
    { rateLimit: 1, rateWindowMs: 3000, retryAfter: "none", resetStyle: "epoch" },
    { rateLimit: { adaptive: false } },
  );
  await clock.run(client.fetch(ORDERS));
  await clock.advance(1234);
  const result = await clock.run(client.fetch(OTHER_ORDERS));
  assertEquals(result.status, 200);
  assertEquals(
    [result.attempts[0].waitHeader, result.attempts[0].waitHeaderValue, result.attempts[0].sleptMs],
    ["X-RateLimit-Reset", String((START + 3000) / 1000), 1766],
  );
  assertEquals(result.attempts[1].startedAt, START + 3000);
});

Deno.test("a wait beyond max_wait_s is a RateLimitedError, not a sleep", async () => {
  const { clock, client, counts } = setup(
    { rateLimit: 1, rateWindowMs: 600_000 },
    { rateLimit: { adaptive: false, max_wait_s: 120 } },
  );
  await clock.run(client.fetch(ORDERS));
  const error = await assertRejects(() => clock.run(client.fetch(ORDERS)), RateLimitedError);
  assertEquals(clock.now(), START);
  assertEquals(clock.sleeps.filter((ms) => ms > 30_000), []);
  assertEquals(error.retryAt.getTime(), START + 600_000);
  assertEquals(error.reason, "rate_limited");
  assertEquals(error.attempts.length, 1);
  assertStringIncludes(error.message, "max_wait_s");
  // The pause covers the whole run: the next request is refused without being sent.
  await assertRejects(() => clock.run(client.fetch(ORDERS)), RateLimitedError);
  assertEquals(await counts(), { "200": 1, "429": 1 });
});

Deno.test("the retry budget stops a run that would sleep too long", async () => {
  const { clock, client } = setup(
    { faultScript: ["503", "503", "503", "503"] },
    { retry: { base_ms: 1000, cap_ms: 8000, budget_s: 1 }, random: () => 0.9 },
  );
  const first = await assertRejects(() => clock.run(client.fetch(ORDERS)), HttpError);
  assertEquals(first.reason, "budget");
  assertStringIncludes(first.message, "retry budget spent");
  assertEquals(first.attempts.map((a) => a.sleptMs), [900, 0]);
  assertEquals(clock.now(), START + 900);
  // The budget is the run's: the next request fails at its first retry, without sleeping.
  const second = await assertRejects(() => clock.run(client.fetch(ORDERS)), HttpError);
  assertEquals([second.reason, second.attempts.length, clock.now()], ["budget", 1, START + 900]);
});

Deno.test("a truncated body and a reset connection are retried and succeed", async () => {
  const { clock, client } = setup({ faultScript: ["truncate", "reset"] });
  const result = await clock.run(client.fetch(ORDERS));
  assertEquals(result.attempts.map((a) => a.kind), ["truncated", "reset", "http"]);
  assertEquals(result.status, 200);
  assertEquals((result.json as { rows: unknown[] }).rows.length, 5);
});

Deno.test("an attempt that outlives timeout_s is abandoned and retried", async () => {
  const { clock, client } = setup({ faultScript: ["timeout"] }, { retry: { timeout_s: 2 } });
  const result = await clock.run(client.fetch(ORDERS));
  assertEquals(result.attempts.map((a) => [a.kind, a.elapsedMs]), [["timeout", 2000], ["http", 0]]);
});

Deno.test("5xx responses are retried with full-jitter backoff until max_attempts", async () => {
  const { clock, client } = setup(
    { faultScript: ["500", "502", "503", "504"] },
    { retry: { max_attempts: 3, base_ms: 100, cap_ms: 150 } },
  );
  const error = await assertRejects(() => clock.run(client.fetch(ORDERS)), HttpError);
  assertEquals(error.reason, "attempts");
  assertEquals(error.status, 503);
  assertEquals(error.attempts.map((a) => [a.status, a.sleptMs]), [[500, 50], [502, 75], [503, 0]]);
  assertStringIncludes(error.bodyStart, "service unavailable");
});

Deno.test("a 404 fails at once with the URL redacted (api_key=***)", async () => {
  const key = "k3y-that-must-not-leak";
  const { clock, client, counts } = setup(
    { auth: "query", token: key },
    { auth: { type: "query", key } },
  );
  const error = await assertRejects(
    () => clock.run(client.fetch({ url: "/northwind/NoSuchTable.json", params: { _size: 5 } })),
    HttpError,
  );
  assertEquals([error.reason, error.status, error.attempts.length], ["status", 404, 1]);
  assertEquals(error.url, "http://127.0.0.1:9000/northwind/NoSuchTable.json?_size=5&api_key=***");
  assertStringIncludes(error.message, "api_key=***");
  assertStringIncludes(error.bodyStart, "NoSuchTable");
  assert(!error.message.includes(key) && !JSON.stringify(error.attempts).includes(key));
  assertEquals(await counts("/northwind/NoSuchTable.json"), { "404": 1 });
});

Deno.test("a 400 is not retried", async () => {
  const { clock, client } = setup();
  const error = await assertRejects(
    () => clock.run(client.fetch({ url: "/northwind/Orders.json", params: { _size: 5000 } })),
    HttpError,
  );
  assertEquals([error.status, error.attempts.length], [400, 1]);
});

Deno.test("a repeated request sends If-None-Match and reports a 304 as unchanged", async () => {
  const { clock, client, counts } = setup();
  const first = await clock.run(client.fetch(ORDERS));
  const second = await clock.run(client.fetch({ ...ORDERS, params: { ...ORDERS.params } }));
  assertEquals([first.status, first.unchanged], [200, false]);
  assert(first.etag?.startsWith('W/"'));
  assertEquals([second.status, second.unchanged, second.etag], [304, true, first.etag]);
  assertEquals(second.body.length, 0);
  assertEquals(await counts(), { "200": 1, "304": 1 });
});

Deno.test("a 429 makes every request of the run wait, not only the one that got it", async () => {
  const { clock, client, counts } = setup({ faultScript: ["429"] });
  const a = client.fetch(ORDERS);
  await macrotask();
  const b = client.fetch({ url: "/northwind/Customers.json", params: { _size: 1 } });
  await clock.advance(999);
  assertEquals(await counts("/northwind/Customers.json"), {});
  const [ra, rb] = await clock.run(Promise.all([a, b]));
  assertEquals(ra.attempts.map((x) => x.status), [429, 200]);
  assertEquals([rb.attempts.length, rb.attempts[0].queuedMs, rb.attempts[0].startedAt], [
    1,
    1000,
    START + 1000,
  ]);
});

Deno.test("the adaptive limiter uses the whole window and receives no 429", async () => {
  const { clock, client, counts } = setup({ rateLimit: 10, rateWindowMs: 1000 });
  let next = 0;
  const worker = async () => {
    while (next < 35) {
      next += 1;
      await client.fetch({ url: "/northwind/Orders.json", params: { _size: 1, _next: next } });
    }
  };
  await clock.run(Promise.all([worker(), worker(), worker(), worker()]));
  assertEquals(await counts(), { "200": 35 });
  // 35 requests at 10 per aligned 1 s window: the last window opens at +3 s.
  assertEquals(clock.now(), START + 3000);
  assertEquals(client.stats.rateLimited, 0);
});

Deno.test("a connection refused becomes an HttpError of kind network, never a TypeError", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const error = await assertRejects(
    () =>
      fetchResilient(`http://127.0.0.1:${port}/x?token=abcdef`, {
        retry: { max_attempts: 2 },
        random: () => 0,
      }),
    HttpError,
  );
  assertEquals([error.reason, error.attempts.map((a) => a.kind)], ["attempts", [
    "network",
    "network",
  ]]);
  assertStringIncludes(error.url, "token=***");
});

Deno.test("an invalid URL is an HttpError naming it", async () => {
  const error = await assertRejects(() => fetchResilient("not a url"), HttpError);
  assertEquals(error.reason, "request");
  assertStringIncludes(error.message, "not a url");
});

Deno.test("aborting the run's signal ends a retry sleep with an aborted HttpError", async () => {
  const { clock, client } = setup({ faultScript: ["503"] });
  const controller = new AbortController();
  const pending = client.fetch(ORDERS, { signal: controller.signal });
  await macrotask();
  controller.abort(new Error("stop"));
  const error = await assertRejects(() => pending, HttpError);
  assertEquals([error.reason, clock.now()], ["aborted", START]);
});

Deno.test("a token fetched when a rate-limit window reopens does not wait on its own request", async () => {
  const { clock, client } = setup({ rateLimit: 2, rateWindowMs: 1000 }, {
    auth: {
      alias: "renewing",
      maxRefreshes: 0,
      // Needs a network round trip (through the same limiter) once the window has reset.
      async apply() {
        if (clock.now() >= START + 1000 && !renewed) {
          renewed = true;
          await client.fetchAnonymous("/-/health");
        }
        return 0;
      },
      refresh: () => Promise.resolve(),
      secrets: () => [],
    },
  });
  let renewed = false;
  await clock.run(client.fetch({ ...ORDERS, params: { _size: 1 } }));
  await clock.run(client.fetch({ ...ORDERS, params: { _size: 2 } }));
  const third = client.fetch({ ...ORDERS, params: { _size: 3 } });
  await clock.advance(1000);
  const fourth = await clock.run(client.fetch({ ...ORDERS, params: { _size: 4 } }));
  assertEquals([(await third).status, fourth.status, renewed], [200, 200, true]);
});
