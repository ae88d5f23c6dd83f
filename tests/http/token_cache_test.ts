import { SingleFlight } from "../../lib/http/single_flight.ts";
import { refreshMarginMs, TokenCache } from "../../lib/http/token_cache.ts";
import { assertEquals } from "../assert.ts";
import { ManualClock } from "./manual_clock.ts";

function counter(lifetimeMs?: number) {
  const reasons: string[] = [];
  let n = 0;
  const renew = (_: unknown, reason: { kind: string; step?: number }) => {
    reasons.push(reason.kind === "refused" ? `refused:${reason.step}` : reason.kind);
    n += 1;
    return Promise.resolve({ accessToken: `token-${n}`, expiresInMs: lifetimeMs });
  };
  return { renew, reasons };
}

Deno.test("single-flight callers that arrive during a run share its result", async () => {
  const flight = new SingleFlight<number>();
  let runs = 0;
  const job = async () => {
    await Promise.resolve();
    return ++runs;
  };
  assertEquals(await Promise.all([flight.run(job), flight.run(job), flight.run(job)]), [1, 1, 1]);
  assertEquals(await flight.run(job), 2);
});

Deno.test("the token is fetched on first use and reused while fresh", async () => {
  const clock = new ManualClock();
  const { renew, reasons } = counter(100_000);
  const cache = new TokenCache(renew, { clock });
  assertEquals(await cache.ensure(), { accessToken: "token-1", generation: 1 });
  await clock.advance(89_999);
  assertEquals((await cache.ensure()).accessToken, "token-1");
  await clock.advance(1);
  assertEquals((await cache.ensure()).accessToken, "token-2");
  assertEquals(reasons, ["missing", "expiring"]);
});

Deno.test("a refusal of an already replaced generation changes nothing", async () => {
  const { renew, reasons } = counter();
  const cache = new TokenCache(renew);
  await cache.ensure();
  await cache.replace(1, 0);
  await cache.replace(1, 0); // a late 401 for the token that was already replaced
  assertEquals([(await cache.ensure()).generation, reasons], [2, ["missing", "refused:0"]]);
});

Deno.test("the refresh margin is a tenth of the lifetime, at most a minute", () => {
  assertEquals([refreshMarginMs(30_000), refreshMarginMs(3_600_000)], [3000, 60_000]);
});

Deno.test("concurrent refusals of one generation cause one renewal", async () => {
  const { renew, reasons } = counter();
  const cache = new TokenCache(renew);
  const { generation } = await cache.ensure();
  await Promise.all(Array.from({ length: 8 }, () => cache.replace(generation, 0)));
  assertEquals(reasons, ["missing", "refused:0"]);
  assertEquals(cache.secrets(), ["token-1", "token-2"]);
});
