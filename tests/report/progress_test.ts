import { assertEquals, assertMatch } from "../assert.ts";
import { createProgress, type ProgressOutput } from "../../lib/report/progress.ts";

function memoryOutput(terminal: boolean): ProgressOutput & { writes: string[] } {
  const writes: string[] = [];
  return {
    writes,
    writeSync(bytes: Uint8Array) {
      writes.push(new TextDecoder().decode(bytes));
      return bytes.length;
    },
    isTerminal: () => terminal,
  };
}

Deno.test("progress prints nothing at all when not on a terminal", () => {
  const output = memoryOutput(false);
  const progress = createProgress({ output, clock: () => 0 });
  progress.update("Orders", { pages: 1, rows: 100 });
  progress.waiting("Orders", 5000);
  progress.done("Orders", "ok");
  progress.close();
  assertEquals(output.writes, []);
  assertEquals(progress.enabled, false);
});

Deno.test("progress shows pages, rows, rate, retries and a rate-limit wait per asset", () => {
  const output = memoryOutput(true);
  let now = 0;
  const progress = createProgress({ output, clock: () => now });
  progress.update("Orders", { pages: 1, rows: 1000 });
  progress.update("Order Details", { pages: 1, rows: 2500, retries: 1 });
  now = 2000;
  progress.update("Orders", { pages: 1, rows: 1000, retries: 2 });
  progress.waiting("Orders", 14_000);
  const [orders, details] = progress.frame();
  assertMatch(
    orders,
    /^Orders\s+2 pages\s+2,000 rows\s+1,000 rows\/s\s+retries 2\s+waiting for rate limit 12\.0 s$/,
  );
  assertMatch(details, /^Order Details\s+1 pages\s+2,500 rows\s+1,250 rows\/s\s+retries 1$/);
  progress.done("Orders", "ok");
  assertMatch(progress.frame()[0], /ok in 2\.0 s$/);
  progress.close();
});

Deno.test("redraws are throttled and rewrite the previous frame in place", () => {
  const output = memoryOutput(true);
  let now = 0;
  const progress = createProgress({ output, clock: () => now, intervalMs: 100 });
  for (let i = 0; i < 50; i++) {
    now += 5; // 50 updates over 250 ms
    progress.update("Orders", { rows: 10 });
  }
  assertEquals(output.writes.length, 3); // at 5, 105 and 205 ms
  assertEquals(output.writes[0].startsWith("\x1b[2K"), true);
  assertEquals(output.writes[1].startsWith("\x1b[1F\x1b[2K"), true);
  progress.close();
  assertEquals(output.writes.length, 4); // the final frame
  progress.update("Orders", { rows: 1 });
  assertEquals(output.writes.length, 4); // nothing after close
});
