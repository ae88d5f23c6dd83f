import { RetryBudget } from "../../lib/http/retry_budget.ts";
import { assertEquals } from "../assert.ts";

Deno.test("the budget grants sleeps until their total would pass the limit", () => {
  const budget = new RetryBudget({ maxSleepMs: 10_000, maxRetries: 100 });
  assertEquals(budget.tryReserve(6000), true);
  assertEquals(budget.tryReserve(5000), false);
  assertEquals(budget.tryReserve(4000), true);
  assertEquals(budget.sleepLeftMs, 0);
  assertEquals(budget.sleptMs, 10_000);
});

Deno.test("the budget grants a fixed number of retries", () => {
  const budget = new RetryBudget({ maxSleepMs: 1e9, maxRetries: 2 });
  assertEquals([budget.tryReserve(0), budget.tryReserve(0), budget.tryReserve(0)], [
    true,
    true,
    false,
  ]);
  assertEquals(budget.retries, 2);
});
