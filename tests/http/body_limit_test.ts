import { fetchResilient } from "../../lib/http/fetch_resilient.ts";
import { HttpError } from "../../lib/http/http_error.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";

const MB = 1024 * 1024;
const RETRY = { max_attempts: 3, base_ms: 0, cap_ms: 0, max_body_mb: 1 };

/** A transport answering every request with `make()`, counting the calls. */
function transport(make: () => Response): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  return {
    fetch: () => {
      calls++;
      return Promise.resolve(make());
    },
    calls: () => calls,
  };
}

function stream(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const n = Math.min(64 * 1024, bytes - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(32));
    },
  });
}

Deno.test("a body declared above retry.max_body_mb fails at once, naming the limit", async () => {
  const t = transport(() => new Response("[]", { headers: { "Content-Length": String(10 * MB) } }));
  const error = await assertRejects(
    () => fetchResilient("http://127.0.0.1:9/x", { retry: RETRY, fetch: t.fetch }),
    HttpError,
  );
  assertEquals(error.reason, "too_large");
  assertStringIncludes(error.message, "retry.max_body_mb");
  assertEquals(t.calls(), 1, "not retried: the next attempt would get the same body");
});

Deno.test("a streamed body is counted as it arrives and stopped past the limit", async () => {
  const t = transport(() => new Response(stream(3 * MB)));
  const error = await assertRejects(
    () => fetchResilient("http://127.0.0.1:9/x", { retry: RETRY, fetch: t.fetch }),
    HttpError,
  );
  assertEquals(error.reason, "too_large");
  assertEquals(t.calls(), 1);
});

Deno.test("a streamed body under the limit is read whole", async () => {
  const t = transport(() => new Response(stream(MB - 10)));
  const result = await fetchResilient("http://127.0.0.1:9/x", { retry: RETRY, fetch: t.fetch });
  assertEquals(result.body.length, MB - 10);
  assert(result.body.every((b) => b === 32));
});
