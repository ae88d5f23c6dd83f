import FakeTimers from "@sinonjs/fake-timers";
import { createApp } from "../../mock_api/app.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { assertEquals } from "../assert.ts";

Deno.test("latencyMs delays each data request by that much, and not /-/health", async () => {
  const app = createApp({
    db: generateNorthwind(":memory:", { scale: 1 }),
    auth: "none",
    latencyMs: 250,
  });
  const clock = FakeTimers.withGlobal(globalThis).install({
    toFake: ["setTimeout", "clearTimeout"],
  });
  try {
    const health = await app.request("/-/health");
    assertEquals(health.status, 200);
    let settled = false;
    const pending = Promise.resolve(app.request("/northwind/Orders.json?_size=1"))
      .finally(() => settled = true);
    await clock.tickAsync(249);
    assertEquals(settled, false);
    await clock.tickAsync(1);
    const res = await pending;
    assertEquals(res.status, 200);
    await res.body?.cancel();
  } finally {
    clock.uninstall();
  }
});
