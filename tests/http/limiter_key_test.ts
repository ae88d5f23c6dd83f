/**
 * One limiter per (origin, credential) by default: one credential's exhausted quota or 429 pause
 * does not hold another's requests; `rate_limit.key: origin` shares one limiter per host, and
 * `asset` one per asset. Keys never hold a secret.
 */
import { fetchResilient, limiterKeyOf } from "../../lib/http/fetch_resilient.ts";
import { RateLimiter } from "../../lib/http/rate_limiter.ts";
import { assert, assertEquals, assertNotEquals } from "../assert.ts";
import { macrotask, ManualClock } from "./manual_clock.ts";

const URL_A = new URL("http://127.0.0.1:9000/2/users/1/posts");

Deno.test("limiter keys: a credential each by default, the host with key origin, the asset with key asset", () => {
  const alias = "bearer:API_TOKEN";
  const a = limiterKeyOf(URL_A, "credential", alias, { "X-User-Token": "token-a-secret" });
  const b = limiterKeyOf(URL_A, "credential", alias, { "X-User-Token": "token-b-secret" });
  assertNotEquals(a, b);
  assertEquals(a, limiterKeyOf(URL_A, "credential", alias, { "X-User-Token": "token-a-secret" }));
  assert(!a.includes("token-a-secret"), `no secret in ${a}`);
  assertEquals(limiterKeyOf(URL_A, "credential", alias), `127.0.0.1:9000 credential ${alias}`);
  assertEquals(limiterKeyOf(URL_A, "origin", alias, { "X-User-Token": "a" }), "127.0.0.1:9000");
  assertNotEquals(
    limiterKeyOf(URL_A, "asset", alias, undefined, "user_1"),
    limiterKeyOf(URL_A, "asset", alias, undefined, "user_2"),
  );
});

/** A transport that refuses token a with a 429 asking for 30 s, and serves token b. */
function transport(): (input: string | URL, init?: RequestInit) => Promise<Response> {
  return (_input, init) => {
    const token = new Headers(init?.headers).get("X-User-Token");
    if (token === "a") {
      return Promise.resolve(
        new Response('{"error":"rate limit exceeded"}', {
          status: 429,
          headers: { "Retry-After": "30", "Content-Type": "application/json" },
        }),
      );
    }
    return Promise.resolve(Response.json({ ok: true }));
  };
}

async function secondWaits(key: "credential" | "origin"): Promise<number> {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ clock });
  const common = {
    clock,
    limiter,
    fetch: transport(),
    rateLimit: { key },
    retry: { max_attempts: 2, base_ms: 1, cap_ms: 5 },
  };
  // Token a gets its 429 and waits out its 30 s pause before its second (and last) attempt.
  const first = fetchResilient({ url: URL_A, headers: { "X-User-Token": "a" } }, common)
    .catch(() => null);
  await clock.run(macrotask());
  const second = fetchResilient({ url: URL_A, headers: { "X-User-Token": "b" } }, common);
  const [, result] = await clock.run(Promise.all([first, second]));
  return result.attempts[0].queuedMs ?? 0;
}

Deno.test("a 429 pause for one credential does not hold another credential's requests", async () => {
  assertEquals(await secondWaits("credential"), 0);
});

Deno.test("with rate_limit.key origin, one credential's 429 pause holds every request to the host", async () => {
  assertEquals(await secondWaits("origin"), 30_000);
});
