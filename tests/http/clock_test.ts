import FakeTimers from "@sinonjs/fake-timers";
import { systemClock } from "../../lib/core/clock.ts";
import { assertEquals, assertRejects } from "../assert.ts";

Deno.test("the system clock is driven by fake timers installed on globalThis", async () => {
  const fake = FakeTimers.withGlobal(globalThis).install({
    now: 1_000_000,
    toFake: ["setTimeout", "clearTimeout", "Date"],
  });
  try {
    let done = false;
    const sleeping = systemClock.sleep(3000).then(() => done = true);
    await fake.tickAsync(2999);
    assertEquals([done, systemClock.now()], [false, 1_002_999]);
    await fake.tickAsync(1);
    await sleeping;
    assertEquals([done, systemClock.now()], [true, 1_003_000]);
  } finally {
    fake.uninstall();
  }
});

Deno.test("a system-clock sleep rejects with the signal's reason when aborted", async () => {
  const fake = FakeTimers.withGlobal(globalThis).install({
    toFake: ["setTimeout", "clearTimeout"],
  });
  try {
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(new Error("stop"));
    await assertRejects(() => sleeping, Error, "stop");
    assertEquals(fake.countTimers(), 0);
  } finally {
    fake.uninstall();
  }
});
