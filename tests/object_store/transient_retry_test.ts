import { isTransientS3Error } from "../../lib/object_store/s3_errors.ts";
import { RetriesExhausted, retryTransient } from "../../lib/object_store/transient_retry.ts";
import { assertEquals, assertRejects } from "../assert.ts";
import { RecordingClock } from "./s3_fixture.ts";

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

Deno.test("transient failures are retried with jittered exponential waits through the clock", async () => {
  const clock = new RecordingClock();
  let calls = 0;
  const value = await retryTransient(() => {
    calls += 1;
    return calls < 4 ? Promise.reject(sdkError("SlowDown", 503)) : Promise.resolve("done");
  }, { isTransient: isTransientS3Error, clock, baseMs: 100, capMs: 250, random: () => 0.5 });
  assertEquals(value, "done");
  assertEquals(clock.sleeps, [50, 100, 125]);
});

Deno.test("running out of attempts throws RetriesExhausted holding the last error", async () => {
  const clock = new RecordingClock();
  const last = sdkError("InternalError", 500);
  const error = await assertRejects(
    () =>
      retryTransient(() => Promise.reject(last), { isTransient: () => true, clock, attempts: 3 }),
    RetriesExhausted,
    "failed after 3 attempts",
  );
  assertEquals([error.attempts, error.last], [3, last]);
  assertEquals(clock.sleeps.length, 2);
});

Deno.test("a permanent failure is thrown at once, without waiting", async () => {
  const clock = new RecordingClock();
  const denied = sdkError("AccessDenied", 403);
  const error = await assertRejects(() =>
    retryTransient(() => Promise.reject(denied), { isTransient: isTransientS3Error, clock })
  );
  assertEquals([error, clock.sleeps], [denied, []]);
});

Deno.test("5xx, 429, throttling codes and connection resets are transient; 4xx and DNS failures are not", () => {
  const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
  const wrapped = new Error("request failed", { cause: reset });
  const dns = Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
  assertEquals(
    [
      sdkError("ServiceUnavailable", 503),
      sdkError("Unknown", 502),
      sdkError("TooManyRequests", 429),
      Object.assign(new Error("slow"), { name: "TimeoutError" }),
      reset,
      wrapped,
      sdkError("NoSuchBucket", 404),
      sdkError("InvalidAccessKeyId", 403),
      dns,
    ].map(isTransientS3Error),
    [true, true, true, true, true, true, false, false, false],
  );
});
