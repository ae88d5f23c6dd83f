import { RateLimiter, RateLimitWaitTooLong } from "../../lib/http/rate_limiter.ts";
import { assertEquals, assertRejects } from "../assert.ts";
import { macrotask, ManualClock } from "./manual_clock.ts";

const KEY = "127.0.0.1:9000";
const quota = (remaining: number, resetS: number, limit = 10) =>
  new Headers({
    "X-RateLimit-Limit": String(limit),
    "X-RateLimit-Remaining": String(remaining),
    "X-RateLimit-Reset": String(resetS),
  });

Deno.test("the token bucket lets a burst through, then spaces requests at the rate", async () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ requestsPerSecond: 2, burst: 2, clock });
  const started: number[] = [];
  await clock.run(Promise.all(Array.from({ length: 5 }, async () => {
    const ticket = await limiter.acquire(KEY);
    started.push(clock.now());
    ticket.release();
  })));
  assertEquals(started, [0, 0, 500, 1000, 1500]);
});

Deno.test("keys have separate buckets", async () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ requestsPerSecond: 1, burst: 1, clock });
  (await limiter.acquire("a")).release();
  const ticket = await limiter.acquire("b");
  assertEquals(ticket.queuedMs, 0);
});

Deno.test("an exhausted learned quota waits for the reset, then sends one probe first", async () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ clock });
  (await limiter.acquire(KEY)).release({ status: 200, headers: quota(1, 2) });
  (await limiter.acquire(KEY)).release({ status: 200, headers: quota(0, 2) });
  const probe = limiter.acquire(KEY);
  const follower = limiter.acquire(KEY);
  await clock.advance(1999);
  assertEquals(limiter.snapshot(KEY).inFlight, 0);
  await clock.advance(1);
  const probeTicket = await probe;
  assertEquals([probeTicket.queuedMs, limiter.snapshot(KEY).inFlight], [2000, 1]);
  await macrotask();
  assertEquals(limiter.snapshot(KEY).inFlight, 1); // the follower waits for the probe's answer
  probeTicket.release({ status: 200, headers: quota(9, 2) });
  const followerTicket = await follower;
  assertEquals([followerTicket.queuedMs, limiter.snapshot(KEY).allowance], [2000, 8]);
});

Deno.test("requests in flight are subtracted from the remaining quota", async () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ clock });
  const tickets = await Promise.all([1, 2, 3, 4].map(() => limiter.acquire(KEY)));
  tickets[0].release({ status: 200, headers: quota(5, 1) });
  assertEquals(limiter.snapshot(KEY).allowance, 2);
});

Deno.test("a pause holds every request of the key until it ends", async () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ adaptive: false, clock });
  limiter.pause(KEY, 5000);
  const ticket = await clock.run(limiter.acquire(KEY));
  assertEquals([ticket.queuedMs, clock.now()], [5000, 5000]);
});

Deno.test("a 429's Retry-After pauses for exactly that long, not until the learned window's reset", async () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ clock });
  (await limiter.acquire(KEY)).release({ status: 200, headers: quota(40, 60, 60) });
  // A 429 that is not the quota running out (an overloaded backend): its headers still show the
  // window, 60 s away, and it says to retry after 1 s.
  (await limiter.acquire(KEY)).release({ status: 429, headers: quota(39, 60, 60) });
  limiter.pause(KEY, clock.now() + 1000);
  const probe = limiter.acquire(KEY);
  await clock.advance(1000);
  const ticket = await probe;
  assertEquals(ticket.queuedMs, 1000, "one second, not the 60 s window");
  ticket.release({ status: 200, headers: quota(38, 59, 60) });
  assertEquals((await limiter.acquire(KEY)).queuedMs, 0, "the probe's headers restore the quota");
});

Deno.test("a wait above maxWaitMs is refused at once with the time to come back", async () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ clock });
  (await limiter.acquire(KEY)).release({ status: 200, headers: quota(0, 900) });
  const error = await assertRejects(
    () => limiter.acquire(KEY, { maxWaitMs: 120_000 }),
    RateLimitWaitTooLong,
  );
  assertEquals([error.until, clock.now()], [900_000, 0]);
});

Deno.test("aborting a waiting acquire rejects it with the signal's reason", async () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ clock });
  limiter.pause(KEY, 10_000);
  const controller = new AbortController();
  const waiting = limiter.acquire(KEY, { signal: controller.signal });
  await macrotask();
  controller.abort(new Error("cancelled"));
  await assertRejects(() => waiting, Error, "cancelled");
  assertEquals(clock.pending, 0);
});

Deno.test("a probe refused at the learned reset pushes later reset estimates back", async () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ clock });
  (await limiter.acquire(KEY)).release({ status: 200, headers: quota(0, 1) });
  const probe = await clock.run(limiter.acquire(KEY));
  assertEquals(clock.now(), 1000);
  probe.release({ status: 429, headers: quota(0, 1) });
  // The server rounds its reset down: the next estimate allows a second of slack.
  (await clock.run(limiter.acquire(KEY))).release({ status: 200, headers: quota(0, 1) });
  assertEquals(limiter.snapshot(KEY).resetAt, clock.now() + 2000);
});

Deno.test("without headers the adaptive limiter does not hold requests", async () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ clock });
  for (let i = 0; i < 20; i++) (await limiter.acquire(KEY)).release({ status: 200 });
  assertEquals([clock.now(), limiter.snapshot(KEY).allowance], [0, undefined]);
});

Deno.test("a zero or negative rate is refused with the value", () => {
  try {
    new RateLimiter({ requestsPerSecond: 0 });
    throw new Error("expected a RangeError");
  } catch (error) {
    assertEquals((error as Error).message.includes("requests_per_second 0"), true);
  }
});

Deno.test("the learned quota also comes from x-rate-limit-* epoch and IETF RateLimit headers", async () => {
  for (
    const headers of [
      new Headers({ "x-rate-limit-remaining": "0", "x-rate-limit-reset": "1767261602" }),
      new Headers({ RateLimit: '"default";r=0;t=2', "RateLimit-Policy": '"default";q=5;w=2' }),
    ]
  ) {
    const clock = new ManualClock(1_767_261_600_000);
    const limiter = new RateLimiter({ clock });
    (await limiter.acquire(KEY)).release({ status: 200, headers });
    const ticket = await clock.run(limiter.acquire(KEY));
    assertEquals(ticket.queuedMs, 2000);
  }
});
