import fc from "fast-check";
import { HttpError } from "../../lib/http/http_error.ts";
import type { HttpAttempt } from "../../lib/http/request.ts";
import { assert, assertEquals } from "../assert.ts";
import { ORDERS, setup } from "./mock_setup.ts";
import { createRandom } from "../../mock_api/data/random.ts";

const FAULTS = ["500", "502", "503", "504", "429", "timeout", "truncate", "reset", "ok"] as const;
const EXPECTED_KIND: Record<string, string> = {
  timeout: "timeout",
  truncate: "truncated",
  reset: "reset",
};

const limitsArb = fc.record({
  max_attempts: fc.integer({ min: 1, max: 8 }),
  base_ms: fc.integer({ min: 1, max: 2000 }),
  cap_extra_ms: fc.integer({ min: 0, max: 10_000 }),
  budget_s: fc.integer({ min: 0, max: 30 }),
  max_wait_s: fc.constantFrom(0, 0.5, 1, 5, 120),
  timeout_s: fc.integer({ min: 1, max: 5 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
  retryAfter: fc.constantFrom("seconds" as const, "date" as const, "none" as const),
});

Deno.test("no attempt sequence ever exceeds the limits it was given (random fault scripts)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom(...FAULTS), { maxLength: 12 }),
      limitsArb,
      async (script, limits) => {
        const cap = limits.base_ms + limits.cap_extra_ms;
        const { clock, client, counts } = setup(
          { faultScript: [...script], retryAfter: limits.retryAfter },
          {
            retry: {
              max_attempts: limits.max_attempts,
              base_ms: limits.base_ms,
              cap_ms: cap,
              budget_s: limits.budget_s,
              timeout_s: limits.timeout_s,
            },
            rateLimit: { max_wait_s: limits.max_wait_s },
            random: createRandom(limits.seed),
          },
        );
        const started = clock.now();
        let attempts: HttpAttempt[];
        let error: HttpError | undefined;
        try {
          attempts = (await clock.run(client.fetch(ORDERS))).attempts;
        } catch (caught) {
          assert(caught instanceof HttpError, `not an HttpError: ${caught}`);
          error = caught;
          attempts = caught.attempts;
        }

        // Attempts: at least one, never more than allowed, each one reached the server.
        assert(attempts.length >= 1 && attempts.length <= limits.max_attempts);
        const received = Object.values(await counts()).reduce((a, b) => a + b, 0);
        assertEquals(received, attempts.length);

        // Each attempt is what the script made of it.
        attempts.forEach((attempt, i) => {
          const fault = script[i] ?? "ok";
          if (fault in EXPECTED_KIND) assertEquals(attempt.kind, EXPECTED_KIND[fault]);
          else {
            assertEquals(attempt.kind, "http");
            assertEquals(attempt.status, fault === "ok" ? 200 : Number(fault));
          }
        });

        // Sleeps: in the jitter range, or the server's hint within max_wait; within the budget.
        let slept = 0;
        attempts.forEach((attempt, i) => {
          if (attempt.waitHeader === undefined) {
            const ceiling = Math.min(cap, limits.base_ms * 2 ** i);
            const floor = attempt.status === 429 ? Math.min(limits.base_ms, cap) : 0;
            if (attempt.sleptMs > 0 || i < attempts.length - 1) {
              assert(
                attempt.sleptMs >= floor && attempt.sleptMs <= Math.max(floor, ceiling),
                `attempt ${i + 1} slept ${attempt.sleptMs}, outside [${floor}, ${ceiling}]`,
              );
            }
          } else if (attempt.sleptMs === 0) {
            // The server asked for more than max_wait: not slept, the call ends as a skip.
            assertEquals([i, error?.reason], [attempts.length - 1, "rate_limited"]);
          } else {
            assertEquals([attempt.status, attempt.waitHeader], [429, "Retry-After"]);
            assert(attempt.sleptMs <= 2000);
            assert(attempt.sleptMs <= limits.max_wait_s * 1000, `slept ${attempt.sleptMs}`);
          }
          slept += attempt.sleptMs;
        });
        assert(slept <= limits.budget_s * 1000, `slept ${slept} over the budget`);
        assertEquals(client.budget.sleptMs, slept);

        // Time: sleeps plus attempts (a timeout lasts timeout_s), nothing else.
        const busy = attempts.reduce((sum, a) => sum + a.elapsedMs, 0);
        assertEquals(clock.now() - started, slept + busy);
        for (const a of attempts) {
          assertEquals(a.elapsedMs, a.kind === "timeout" ? limits.timeout_s * 1000 : 0);
        }

        // Outcome: success only on a whole 200; failures say why, truthfully.
        const lastAttempt = attempts[attempts.length - 1];
        if (!error) {
          assertEquals([lastAttempt.kind, lastAttempt.status], ["http", 200]);
        } else if (error.reason === "attempts") {
          assertEquals(attempts.length, limits.max_attempts);
        } else if (error.reason === "rate_limited") {
          assertEquals(lastAttempt.status, 429);
        } else {
          assertEquals(error.reason, "budget");
        }
        assert(attempts.slice(0, -1).every((a) => a.kind !== "http" || a.status !== 200));
      },
    ),
    { numRuns: 200 },
  );
});
