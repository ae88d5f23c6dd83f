/**
 * Test support for the scheduler: fake timers on `globalThis` (so the default system clock and
 * `new Date()` follow them), a logger whose JSON lines the test can read back, and a minimal
 * harvest config.
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

/** A JSON-lines logger kept in memory. */
export interface MemoryLogger {
  /** The logger. */
  logger: Logger;
  /** Every record logged so far. */
  events(): Record<string, unknown>[];
  /** Resolves once a record with this event has been logged (no timer: fake clocks stay put). */
  until(event: string): Promise<void>;
}

/** A JSON-lines logger kept in memory. */
export function memoryLogger(): MemoryLogger {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  const waiting: { event: string; resolve: () => void }[] = [];
  const events = () =>
    chunks.join("").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
  const logger = createLogger({
    format: "json",
    output: {
      writeSync(bytes: Uint8Array) {
        const text = decoder.decode(bytes);
        chunks.push(text);
        for (const w of waiting) if (text.includes(`"event":"${w.event}"`)) w.resolve();
        return bytes.length;
      },
      isTerminal: () => false,
    },
  });
  return {
    logger,
    events,
    until: (event) =>
      events().some((e) => e.event === event)
        ? Promise.resolve()
        : new Promise((resolve) => waiting.push({ event, resolve })),
  };
}

/** A minimal valid harvest config named `name`, with `extra` YAML lines before `assets:`. */
export function configYaml(name: string, extra: string[] = [], assets = ["Orders"]): string {
  return [
    `name: ${name}`,
    "base_url: http://127.0.0.1:9000",
    ...extra,
    "assets:",
    ...assets.flatMap((a) => [
      `  - name: ${a}`,
      `    path: /northwind/${a}.json`,
      "    data_path: rows",
    ]),
  ].join("\n");
}
