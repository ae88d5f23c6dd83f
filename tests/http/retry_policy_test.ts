import { decideRetry, type RetryContext } from "../../lib/http/retry_policy.ts";
import { assertEquals } from "../assert.ts";

const NOW = Date.UTC(2026, 0, 1, 10, 0, 0);
const context: RetryContext = {
  attempt: 1,
  now: NOW,
  maxAttempts: 6,
  baseMs: 500,
  capMs: 8000,
  maxWaitMs: 120_000,
  random: () => 0.5,
};
const http = (status: number, headers: Record<string, string> = {}) => ({
  kind: "http" as const,
  status,
  headers: new Headers(headers),
});

Deno.test("2xx and 304 are returned", () => {
  assertEquals(decideRetry(http(200), context), { action: "return" });
  assertEquals(decideRetry(http(304), context), { action: "return" });
});

Deno.test("a 429 with Retry-After: 3 waits 3 s", () => {
  assertEquals(decideRetry(http(429, { "Retry-After": "3" }), context), {
    action: "retry",
    waitMs: 3000,
    header: "Retry-After",
    headerValue: "3",
  });
});

Deno.test("a 429 with an HTTP-date Retry-After waits until that date", () => {
  const decision = decideRetry(
    http(429, { "Retry-After": new Date(NOW + 42_000).toUTCString() }),
    context,
  );
  assertEquals(decision.action === "retry" && decision.waitMs, 42_000);
});

Deno.test("a 429 with Retry-After: 0 retries after the backoff floor, not immediately", () => {
  const decision = decideRetry(http(429, { "Retry-After": "0" }), { ...context, random: () => 0 });
  assertEquals(decision, { action: "retry", waitMs: 500 });
});

Deno.test("a 429 with a past Retry-After date falls back to backoff", () => {
  const decision = decideRetry(
    http(429, { "Retry-After": new Date(NOW - 60_000).toUTCString() }),
    { ...context, attempt: 3 },
  );
  // retry index 2: uniform in [500, 2000], random 0.5 → 1250
  assertEquals(decision, { action: "retry", waitMs: 1250 });
});

Deno.test("a 429 without Retry-After waits for X-RateLimit-Reset in seconds", () => {
  assertEquals(decideRetry(http(429, { "X-RateLimit-Reset": "7" }), context), {
    action: "retry",
    waitMs: 7000,
    header: "X-RateLimit-Reset",
    headerValue: "7",
  });
});

Deno.test("a 429 without Retry-After waits until an epoch x-rate-limit-reset", () => {
  const reset = String(NOW / 1000 + 20);
  assertEquals(decideRetry(http(429, { "x-rate-limit-reset": reset }), context), {
    action: "retry",
    waitMs: 20_000,
    header: "x-rate-limit-reset",
    headerValue: reset,
  });
});

Deno.test("a wait beyond max_wait is a rate-limited skip, not a sleep", () => {
  assertEquals(decideRetry(http(429, { "Retry-After": "300" }), context), {
    action: "rate_limited",
    waitMs: 300_000,
    header: "Retry-After",
    headerValue: "300",
  });
});

Deno.test("5xx, 408, timeouts, resets and truncated bodies are retried with full jitter", () => {
  for (const outcome of [http(500), http(502), http(503), http(504), http(408)]) {
    assertEquals(decideRetry(outcome, context), { action: "retry", waitMs: 250 });
  }
  for (const kind of ["timeout", "reset", "truncated", "network"] as const) {
    assertEquals(decideRetry({ kind }, { ...context, attempt: 2 }), {
      action: "retry",
      waitMs: 500,
    });
  }
});

Deno.test("a 503 with Retry-After honours it", () => {
  assertEquals(decideRetry(http(503, { "Retry-After": "2" }), context).action, "retry");
  const decision = decideRetry(http(503, { "Retry-After": "2" }), context);
  assertEquals(decision.action === "retry" && decision.waitMs, 2000);
});

Deno.test("4xx other than 401/408/429 fail fast", () => {
  for (const status of [400, 403, 404, 409, 422]) {
    assertEquals(decideRetry(http(status), context), { action: "fail", reason: "status" });
  }
});

Deno.test("401 refreshes the credentials while refreshes are left, then fails", () => {
  assertEquals(decideRetry(http(401), { ...context, refreshesLeft: 1 }), {
    action: "refresh_auth",
  });
  assertEquals(decideRetry(http(401), { ...context, refreshesLeft: 0 }), {
    action: "fail",
    reason: "status",
  });
});

Deno.test("the last attempt fails instead of retrying", () => {
  assertEquals(decideRetry(http(503), { ...context, attempt: 6 }), {
    action: "fail",
    reason: "attempts",
  });
});

Deno.test("a wait that does not fit the budget fails with the budget as the reason", () => {
  assertEquals(
    decideRetry(http(429, { "Retry-After": "5" }), { ...context, budgetSleepLeftMs: 4000 }),
    {
      action: "fail",
      reason: "budget",
      waitMs: 5000,
    },
  );
  assertEquals(decideRetry(http(500), { ...context, budgetRetriesLeft: 0 }).action, "fail");
});
