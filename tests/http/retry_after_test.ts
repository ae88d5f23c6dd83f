import {
  parseResetValue,
  parseRetryAfter,
  readRateLimit,
  waitHint,
} from "../../lib/http/retry_after.ts";
import { assertEquals } from "../assert.ts";

const NOW = Date.UTC(2026, 0, 1, 10, 0, 0);

Deno.test("Retry-After in delta-seconds is that many seconds", () => {
  assertEquals(parseRetryAfter("3", NOW), 3000);
  assertEquals(parseRetryAfter(" 120 ", NOW), 120_000);
});

Deno.test("Retry-After as an HTTP-date is the time until that date", () => {
  assertEquals(parseRetryAfter("Thu, 01 Jan 2026 10:00:07 GMT", NOW), 7000);
});

Deno.test("Retry-After 0, negative, past or garbage is no hint", () => {
  for (const value of ["0", "-5", "Thu, 01 Jan 2026 09:59:00 GMT", "soon", "", null]) {
    assertEquals(parseRetryAfter(value, NOW), undefined, String(value));
  }
});

Deno.test("a reset value below 1e9 is seconds from now", () => {
  assertEquals(parseResetValue("30", NOW), 30_000);
});

Deno.test("a reset value in the epoch-seconds range is a point in time", () => {
  assertEquals(parseResetValue(String(NOW / 1000 + 45), NOW), 45_000);
  assertEquals(parseResetValue(String(NOW / 1000 - 45), NOW), undefined);
});

Deno.test("a reset value in the epoch-milliseconds range is a point in time", () => {
  assertEquals(parseResetValue(String(NOW + 1500), NOW), 1500);
});

Deno.test("waitHint prefers Retry-After over the reset headers", () => {
  const headers = new Headers({ "Retry-After": "4", "X-RateLimit-Reset": "40" });
  assertEquals(waitHint(headers, NOW, { rateLimited: true }), {
    waitMs: 4000,
    header: "Retry-After",
    value: "4",
  });
});

Deno.test("waitHint on a 429 falls back to X-RateLimit-Reset, then x-rate-limit-reset", () => {
  assertEquals(
    waitHint(new Headers({ "Retry-After": "0", "X-RateLimit-Reset": "9" }), NOW, {
      rateLimited: true,
    })?.header,
    "X-RateLimit-Reset",
  );
  const epoch = String(NOW / 1000 + 12);
  assertEquals(waitHint(new Headers({ "x-rate-limit-reset": epoch }), NOW, { rateLimited: true }), {
    waitMs: 12_000,
    header: "x-rate-limit-reset",
    value: epoch,
  });
});

Deno.test("waitHint ignores reset headers on responses that are not 429", () => {
  assertEquals(waitHint(new Headers({ "X-RateLimit-Reset": "9" }), NOW), undefined);
});

Deno.test("waitHint reads RateLimit-Reset and the IETF RateLimit field", () => {
  assertEquals(
    waitHint(new Headers({ "RateLimit-Reset": "6" }), NOW, { rateLimited: true })?.waitMs,
    6000,
  );
  assertEquals(
    waitHint(new Headers({ RateLimit: '"default";r=0;t=8' }), NOW, { rateLimited: true }),
    { waitMs: 8000, header: "RateLimit", value: '"default";r=0;t=8' },
  );
});

Deno.test("readRateLimit reads the X-RateLimit family, lower-case or not", () => {
  const headers = new Headers({
    "x-ratelimit-limit": "100",
    "x-ratelimit-remaining": "42",
    "x-ratelimit-reset": "2",
  });
  assertEquals(readRateLimit(headers, NOW), {
    family: "X-RateLimit",
    limit: 100,
    remaining: 42,
    resetMs: 2000,
  });
});

Deno.test("readRateLimit reads Twitter's x-rate-limit family with an epoch reset", () => {
  const headers = new Headers({
    "x-rate-limit-limit": "900",
    "x-rate-limit-remaining": "0",
    "x-rate-limit-reset": String(NOW / 1000 + 900),
  });
  assertEquals(readRateLimit(headers, NOW), {
    family: "x-rate-limit",
    limit: 900,
    remaining: 0,
    resetMs: 900_000,
  });
});

Deno.test("readRateLimit reads the IETF draft's RateLimit and RateLimit-Policy fields", () => {
  const headers = new Headers({
    RateLimit: '"burst";r=40;t=1, "daily";r=3;t=3600',
    "RateLimit-Policy": '"burst";q=100;w=60, "daily";q=1000;w=86400',
  });
  assertEquals(readRateLimit(headers, NOW), {
    family: "RateLimit",
    limit: 1000,
    remaining: 3,
    resetMs: 3_600_000,
    windowMs: 86_400_000,
  });
});

Deno.test("readRateLimit reads the older IETF dictionary form", () => {
  const headers = new Headers({ RateLimit: "limit=100, remaining=7, reset=5" });
  assertEquals(readRateLimit(headers, NOW), {
    family: "RateLimit",
    limit: 100,
    remaining: 7,
    resetMs: 5000,
    windowMs: undefined,
  });
});

Deno.test("readRateLimit is undefined without rate-limit headers", () => {
  assertEquals(readRateLimit(new Headers({ "Content-Type": "text/plain" }), NOW), undefined);
});
