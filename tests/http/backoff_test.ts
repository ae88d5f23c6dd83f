import { backoffCeiling, fullJitterBackoff } from "../../lib/http/backoff.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test("backoff ceiling doubles per retry from the base and stops at the cap", () => {
  assertEquals([0, 1, 2, 3, 4, 5, 60].map((n) => backoffCeiling(n, 500, 8000)), [
    500,
    1000,
    2000,
    4000,
    8000,
    8000,
    8000,
  ]);
});

Deno.test("full-jitter backoff spans the whole range [0, ceiling] as the random source does", () => {
  const options = { baseMs: 500, capMs: 8000 };
  assertEquals(fullJitterBackoff(2, { ...options, random: () => 0 }), 0);
  assertEquals(fullJitterBackoff(2, { ...options, random: () => 0.5 }), 1000);
  assertEquals(fullJitterBackoff(2, { ...options, random: () => 0.999999 }), 1999);
});

Deno.test("full-jitter backoff values always lie in range and respect the cap", () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let retry = 0; retry < 40; retry++) {
    for (let i = 0; i < 50; i++) {
      const wait = fullJitterBackoff(retry, { baseMs: 250, capMs: 5000, random });
      assert(wait >= 0 && wait <= Math.min(5000, 250 * 2 ** retry), `retry ${retry}: ${wait}`);
    }
  }
});

Deno.test("a backoff floor keeps the wait above it even when the random source gives 0", () => {
  assertEquals(
    fullJitterBackoff(0, { baseMs: 500, capMs: 8000, floorMs: 500, random: () => 0 }),
    500,
  );
  assertEquals(
    fullJitterBackoff(3, { baseMs: 500, capMs: 8000, floorMs: 500, random: () => 0.5 }),
    2250,
  );
});
