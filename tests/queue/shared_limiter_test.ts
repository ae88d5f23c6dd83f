/**
 * The rate budget workers share through PostgreSQL: four limiters (four workers' pools) on one
 * key hand out tokens one after the other at the configured rate, never four at a time; a 429
 * pause reaches every worker; a wait past `maxWaitMs` gives its token back. Then four queue
 * workers harvest one asset cut into key ranges from a mock allowing 60 requests a minute: at
 * most 60 requests in any of its minutes, and not one 429. Time is an injected clock (a fast one
 * for the harvest). Skipped, saying why, when PostgreSQL is not installed.
 */
import { join } from "node:path";
import pg from "pg";
import { loadConfig } from "../../lib/config/load.ts";
import type { Clock } from "../../lib/core/clock.ts";
import { RateLimitWaitTooLong } from "../../lib/http/rate_limiter.ts";
import { enqueueHarvest, followRun, Queue, startWorker } from "../../lib/queue/mod.ts";
import { SharedRateLimiter } from "../../lib/queue/shared_limiter.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import {
  fastClock,
  mockFixture,
  northwindYaml,
  parquetKeys,
  SILENT,
  sourceKeys,
  TOKEN,
} from "../harvest/fixture.ts";
import { unitFolder, unitsOf } from "../../lib/queue/mod.ts";
import { postgresUnavailable, startPostgres } from "../../mock_api/postgres_server.ts";

const unavailable = postgresUnavailable();
if (unavailable) console.log(`shared_limiter_test: skipped: ${unavailable}`);

/** A clock standing still: a sleep returns at once, after noting when its sleeper would wake. */
function stillClock(at: number): Clock & { wakes: number[] } {
  const wakes: number[] = [];
  return {
    wakes,
    now: () => at,
    sleep: (ms) => {
      wakes.push(at + ms);
      return Promise.resolve();
    },
  };
}

/** Requests per window of `windowMs` (by the window's start), from their times. */
function perWindow(times: readonly number[], windowMs: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const t of times) {
    const w = Math.floor(t / windowMs) * windowMs;
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return counts;
}

Deno.test({
  name: "shared rate limit: one budget for every worker, shared pauses, exact harvest, no 429",
  ignore: unavailable !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startPostgres();
    const url = new URL(server.url);
    url.password = server.password;
    // Opening the queue creates the buckets' table.
    await (await Queue.open(url.href, { supervise: false })).close();
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url.href }));
    try {
      await t.step("four workers' limiters take turns at 1/s on one key", async () => {
        const clock = stillClock(1_000_000);
        const limiters = pools.map((pool) =>
          new SharedRateLimiter(pool, { requestsPerSecond: 1, clock, time: "clock" })
        );
        const tickets = await Promise.all(
          Array.from({ length: 120 }, (_, i) => limiters[i % 4].acquire("api credential a")),
        );
        for (const ticket of tickets) ticket.release({ status: 200 });
        // The first token is there at once; every later one a second after the one before.
        const due = [clock.now(), ...clock.wakes].sort((a, b) => a - b);
        assertEquals(due, Array.from({ length: 120 }, (_, i) => clock.now() + i * 1000));
        assert([...perWindow(due, 60_000).values()].every((n) => n <= 60));
        // Another credential has its own budget.
        clock.wakes.length = 0;
        await limiters[0].acquire("api credential b");
        assertEquals(clock.wakes, []);
      });

      await t.step(
        "a 429 pause reaches the other workers; a long wait gives its token back",
        async () => {
          const clock = stillClock(2_000_000);
          const [a, b] = pools.map((pool) =>
            new SharedRateLimiter(pool, {
              requestsPerSecond: 10,
              burst: 10,
              clock,
              time: "clock",
              adaptive: false,
            })
          );
          a.pause("paused", clock.now() + 5_000);
          await a.flush();
          (await b.acquire("paused")).release();
          assertEquals(clock.wakes, [clock.now() + 5_000]);
          await assertRejects(
            () => b.acquire("paused", { maxWaitMs: 1_000 }),
            RateLimitWaitTooLong,
          );
          const { rows } = await pools[0].query(
            "SELECT tokens FROM tidemark_queue.rate_limits WHERE key = 'paused'",
          );
          assertEquals(rows[0].tokens, 9, "the refused request's token was given back");
        },
      );

      await t.step("four queue workers against 60/min: ≤ 60 a minute, zero 429", async () => {
        const clock = fastClock(20);
        const mock = mockFixture({ rateLimit: 60, rateWindowMs: 60_000, now: clock.now });
        const times: number[] = [];
        const fetch = (input: string, init: RequestInit) => {
          times.push(clock.now());
          return mock.fetch(input, init);
        };
        const dir = await Deno.makeTempDir({ prefix: "tidemark-shared-limit-" });
        const config = join(dir, "northwind.yaml");
        // 57/min leaves room for the time between a token and its request reaching the server.
        await Deno.writeTextFile(
          config,
          northwindYaml({ size: 10, top: "rate_limit: { requests_per_second: 0.95 }" })
            .replace("${API_TOKEN}", `${"${"}API_TOKEN:-${TOKEN}}`),
        );
        const out = join(dir, "out");
        const queue = await Queue.open(url.href);
        const workers = await Promise.all(["a", "b", "c", "d"].map((name) =>
          startWorker(url.href, {
            name,
            harvest: { ...SILENT, fetch, clock },
            sharedRateLimit: { time: "clock" },
            pollSeconds: 0.5,
          })
        ));
        try {
          const spec = await enqueueHarvest(queue, await loadConfig(config), {
            out,
            assets: ["Orders"],
            split: 4,
            fetch: mock.fetch,
          });
          times.length = 0; // the probes went before the workers' budget
          const end = await followRun(queue, spec.runId, { backstopMs: 200 });
          assertEquals(end.status, "succeeded", JSON.stringify(end.units));
          assertEquals((await mock.statuses())["429"] ?? 0, 0, "no 429");
          const windows = perWindow(times, 60_000);
          assert(windows.size >= 2, `the run spans minutes: ${[...windows.values()]}`);
          assert([...windows.values()].every((n) => n <= 60), `${[...windows.values()]}`);
          const got: string[] = [];
          for (const u of unitsOf(spec)) {
            got.push(
              ...await parquetKeys(join(out, unitFolder("Orders", u.range)), "Orders", ["OrderID"]),
            );
          }
          assertEquals(got.sort(), sourceKeys(mock.db, "Orders", ["OrderID"]));
        } finally {
          for (const w of workers) await w.stop();
          await queue.close();
          mock.close();
          await Deno.remove(dir, { recursive: true });
        }
      });
    } finally {
      for (const pool of pools) await pool.end();
      await server.stop();
    }
  },
});
