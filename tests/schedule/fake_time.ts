/**
 * Test support for the scheduler: fake timers on `globalThis` (so the default system clock and
 * `new Date()` follow them) and a logger whose JSON lines the test can read back.
 * @module
 */
import FakeTimers from "@sinonjs/fake-timers";
import { createLogger, type Logger } from "../../lib/report/logger.ts";

/** An installed fake clock. */
export type FakeClock = ReturnType<ReturnType<typeof FakeTimers.withGlobal>["install"]>;

/** Runs `fn` with setTimeout, clearTimeout and Date faked from `start` (ISO), then restores them. */
export async function withFakeTime(
  start: string,
  fn: (clock: FakeClock) => Promise<void>,
): Promise<void> {
  const clock = FakeTimers.withGlobal(globalThis).install({
    now: Date.parse(start),
    toFake: ["setTimeout", "clearTimeout", "Date"],
  });
  try {
    await fn(clock);
  } finally {
    clock.uninstall();
  }
}

/** A JSON-lines logger kept in memory; `events()` parses what was logged. */
export function memoryLogger(): { logger: Logger; events(): Record<string, unknown>[] } {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  const logger = createLogger({
    format: "json",
    output: {
      writeSync(bytes: Uint8Array) {
        chunks.push(decoder.decode(bytes));
        return bytes.length;
      },
      isTerminal: () => false,
    },
  });
  return {
    logger,
    events: () => chunks.join("").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)),
  };
}
