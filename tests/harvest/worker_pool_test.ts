/** The worker pool: bounded, FIFO, errors reach their caller only. */
import { WorkerPool } from "../../lib/harvest/worker_pool.ts";
import { assertEquals, assertRejects, assertThrows } from "../assert.ts";

Deno.test("worker pool: never more than its size at once, in submission order", async () => {
  const pool = new WorkerPool({ size: 2 });
  const started: number[] = [];
  const gates = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
  const runs = gates.map((gate, i) =>
    pool.run(async () => {
      started.push(i);
      await gate.promise;
      return i;
    })
  );
  await Promise.resolve();
  assertEquals(started, [0, 1]);
  gates[1].resolve();
  await runs[1];
  await Promise.resolve();
  assertEquals(started, [0, 1, 2]);
  for (const gate of gates) gate.resolve();
  assertEquals(await Promise.all(runs), [0, 1, 2, 3, 4]);
  assertEquals(pool.peak, 2);
});

Deno.test("worker pool: a failing task rejects its own promise and frees its worker", async () => {
  const pool = new WorkerPool({ size: 1 });
  await assertRejects(() => pool.run(() => Promise.reject(new Error("boom"))), Error, "boom");
  assertEquals(await pool.run(() => Promise.resolve("next")), "next");
  assertEquals(pool.running, 0);
});

Deno.test("worker pool: a size below 1 is refused", () => {
  assertThrows(() => new WorkerPool({ size: 0 }), RangeError, "at least 1");
});
