import { fileURLToPath } from "node:url";
import { ConfigError } from "../../lib/core/errors.ts";
import { OutFolderBusyError } from "../../lib/run/out_lock.ts";
import {
  type DenoCronFunction,
  denoCronName,
  denoCronSchedule,
  registerDenoCron,
} from "../../lib/schedule/deploy.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { memoryLogger } from "./fake_time.ts";

/** A stand-in for Deno.cron that keeps each registration so the test can fire it. */
function recordingCron() {
  const calls: { name: string; schedule: string; options: object; handler: () => Promise<void> }[] =
    [];
  const cron: DenoCronFunction = (name, schedule, options, handler) => {
    calls.push({ name, schedule, options, handler });
    return new Promise(() => {}); // Deno.cron's promise settles when the cron closes
  };
  return { calls, cron };
}

Deno.test("jobs register with Deno.cron under valid names and spelled-out patterns", () => {
  const { calls, cron } = recordingCron();
  const entries = registerDenoCron(
    [
      { name: "northwind", schedule: "*/15 * * * *" },
      { name: "shop:Products", schedule: "@daily" },
      { name: "wordpress.posts", schedule: "0  6 * *   MON-FRI", timezone: "UTC" },
    ],
    () => Promise.resolve(),
    { cron, logger: memoryLogger().logger, backoffSchedule: [1000] },
  );
  assertEquals(calls.map((c) => [c.name, c.schedule]), [
    ["northwind", "*/15 * * * *"],
    ["shop-Products", "0 0 * * *"],
    ["wordpress-posts", "0 6 * * MON-FRI"],
  ]);
  assertEquals(entries.map((e) => e.job), ["northwind", "shop:Products", "wordpress.posts"]);
  assertEquals((calls[0].options as { backoffSchedule: number[] }).backoffSchedule, [1000]);
});

Deno.test("names that clash once cleaned, or run long, stay unique and within 64 characters", () => {
  const { calls, cron } = recordingCron();
  const long = "a".repeat(70);
  registerDenoCron(
    [
      { name: "shop.a", schedule: "@hourly" },
      { name: "shop:a", schedule: "@hourly" },
      { name: long, schedule: "@hourly" },
      { name: `${long}b`, schedule: "@hourly" },
    ],
    () => Promise.resolve(),
    { cron, logger: memoryLogger().logger },
  );
  assertEquals(calls.map((c) => c.name), [
    "shop-a",
    "shop-a-2",
    "a".repeat(64),
    `${"a".repeat(62)}-2`,
  ]);
});

Deno.test("a fire runs the job; a fire while it still runs is skipped and logged", async () => {
  const { calls, cron } = recordingCron();
  const { logger, events } = memoryLogger();
  let release!: () => void;
  let runs = 0;
  registerDenoCron([{ name: "nw", schedule: "* * * * *" }], () => {
    runs++;
    return new Promise<void>((resolve) => release = resolve);
  }, { cron, logger });
  const first = calls[0].handler();
  await calls[0].handler(); // Deploy never overlaps; this guards local --unstable-cron too
  release();
  await first;
  assertEquals(runs, 1);
  assertEquals(events().filter((e) => e.event === "schedule.overlap").map((e) => e.job), ["nw"]);
  assertEquals(events().filter((e) => e.event === "schedule.done").length, 1);
});

Deno.test("a failing fire is logged and rethrown so Deno.cron can retry it", async () => {
  const { calls, cron } = recordingCron();
  const { logger, events } = memoryLogger();
  registerDenoCron([{ name: "nw", schedule: "* * * * *" }], () => {
    return Promise.reject(new Error("token expired"));
  }, { cron, logger });
  await assertRejects(() => calls[0].handler(), Error, "token expired");
  assertEquals(events().find((e) => e.event === "schedule.failed")?.msg, "token expired");
});

Deno.test("a fire whose out folder another run holds is skipped, not rethrown as a failure", async () => {
  const { calls, cron } = recordingCron();
  const { logger, events } = memoryLogger();
  registerDenoCron([{ name: "nw", schedule: "* * * * *" }], () => {
    return Promise.reject(new OutFolderBusyError("out is in use by harvest run r-manual", null));
  }, { cron, logger });
  await calls[0].handler();
  assertEquals(events().find((e) => e.event === "schedule.failed"), undefined);
  assertEquals(
    events().find((e) => e.event === "schedule.busy")?.msg,
    "skipped: out is in use by harvest run r-manual",
  );
});

Deno.test("without Deno.cron, registering is a no-op that says how to schedule instead", () => {
  const { logger, events } = memoryLogger();
  const entries = registerDenoCron([{ name: "nw", schedule: "@hourly" }], () => Promise.resolve(), {
    cron: null,
    logger,
  });
  assertEquals(entries, []);
  const line = events().find((e) => e.event === "schedule.deno_cron");
  assert(String(line?.msg).includes("--unstable-cron"));
  assert(String(line?.msg).includes("tidemark schedule"));
});

Deno.test("a job in another time zone or with a bad pattern is refused before any registers", () => {
  const { calls, cron } = recordingCron();
  const error = assertThrows(
    () =>
      registerDenoCron([
        { name: "ok", schedule: "@hourly" },
        { name: "paris", schedule: "0 9 * * *", timezone: "Europe/Paris" },
        { name: "typo", schedule: "0 9 * *" },
      ], () =>
        Promise.resolve(), { cron, logger: memoryLogger().logger }),
    ConfigError,
  );
  assertEquals((error as ConfigError).issues.map((i) => i.path), [
    "job paris: timezone",
    "job typo: schedule",
  ]);
  assertEquals(calls, []);
});

Deno.test("denoCronName and denoCronSchedule", () => {
  assertEquals(denoCronName("..."), "job");
  assertEquals(denoCronName("north wind_1"), "north wind_1");
  assertEquals(denoCronSchedule("@WEEKLY"), "0 0 * * 0");
  assertEquals(denoCronSchedule(" 5 4 * * * "), "5 4 * * *");
});

Deno.test("the real Deno.cron (--unstable-cron) accepts the names and patterns made for it", async () => {
  const module = new URL("../../lib/schedule/deploy.ts", import.meta.url).href;
  const script = `
    import { registerDenoCron } from "${module}";
    const stop = new AbortController();
    const entries = registerDenoCron([
      { name: "shop:Products.v2", schedule: "@monthly" },
      { name: "northwind", schedule: "*/15 * * * *" },
      { name: "${"x".repeat(80)}", schedule: "0 6 * * MON-FRI" },
    ], () => Promise.resolve(), { signal: stop.signal, logger: undefined });
    console.log(JSON.stringify(entries.map((e) => e.name)));
    stop.abort();
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-cron", "--ext=ts", script],
    cwd: fileURLToPath(new URL("../../", import.meta.url)),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assertEquals(output.code, 0, stderr);
  assertEquals(JSON.parse(new TextDecoder().decode(output.stdout)), [
    "shop-Products-v2",
    "northwind",
    "x".repeat(64),
  ]);
});
