import { ConfigError } from "../../lib/core/errors.ts";
import { OutFolderBusyError } from "../../lib/run/out_lock.ts";
import { type FireContext, runSchedule } from "../../lib/schedule/schedule.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { memoryLogger, withFakeTime } from "./fake_time.ts";

const MINUTE = 60_000;

interface Job {
  name: string;
  schedule: string;
  timezone?: string;
}

/** Records the instant (fake `Date.now()`) each fire of each job started at. */
function recorder() {
  const fires: [string, string, string][] = [];
  return {
    fires,
    run: (job: Job, fire: FireContext) => {
      fires.push([job.name, new Date().toISOString(), fire.scheduledAt.toISOString()]);
      return Promise.resolve();
    },
  };
}

Deno.test("a */15 job fires at exactly :15, :30 and :45 on a fake clock", async () => {
  await withFakeTime("2026-01-01T10:07:30.000Z", async (clock) => {
    const stop = new AbortController();
    const { fires, run } = recorder();
    const { logger } = memoryLogger();
    const done = runSchedule([{ name: "nw", schedule: "*/15 * * * *" }], run, {
      signal: stop.signal,
      logger,
    });
    await clock.tickAsync(7 * MINUTE + 29_999);
    assertEquals(fires, []);
    await clock.tickAsync(1);
    assertEquals(fires.map((f) => f[1]), ["2026-01-01T10:15:00.000Z"]);
    await clock.tickAsync(31 * MINUTE);
    stop.abort();
    const summary = await done;
    assertEquals(fires.map(([, at, scheduled]) => at === scheduled ? at : "late"), [
      "2026-01-01T10:15:00.000Z",
      "2026-01-01T10:30:00.000Z",
      "2026-01-01T10:45:00.000Z",
    ]);
    assertEquals(summary.jobs.nw, { fired: 3, succeeded: 3, failed: 0, skipped: 0 });
  });
});

Deno.test("two jobs on different schedules each fire at their own instants", async () => {
  await withFakeTime("2026-01-01T09:59:00.000Z", async (clock) => {
    const stop = new AbortController();
    const { fires, run } = recorder();
    const done = runSchedule(
      [{ name: "hourly", schedule: "@hourly" }, { name: "every20", schedule: "*/20 * * * *" }],
      run,
      { signal: stop.signal, logger: memoryLogger().logger },
    );
    await clock.tickAsync(62 * MINUTE);
    stop.abort();
    await done;
    assertEquals(fires.map(([name, at]) => `${at.slice(11, 16)} ${name}`), [
      "10:00 hourly",
      "10:00 every20",
      "10:20 every20",
      "10:40 every20",
      "11:00 hourly",
      "11:00 every20",
    ]);
  });
});

Deno.test("a pattern is read in the job's time zone (UTC by default)", async () => {
  await withFakeTime("2026-01-10T00:00:00.000Z", async (clock) => {
    const stop = new AbortController();
    const { fires, run } = recorder();
    const done = runSchedule(
      [
        { name: "utc", schedule: "0 9 * * *" },
        { name: "paris", schedule: "0 9 * * *", timezone: "Europe/Paris" },
      ],
      run,
      { signal: stop.signal, logger: memoryLogger().logger },
    );
    await clock.tickAsync(10 * 60 * MINUTE);
    stop.abort();
    await done;
    assertEquals(fires.map(([name, at]) => [name, at]), [
      ["paris", "2026-01-10T08:00:00.000Z"],
      ["utc", "2026-01-10T09:00:00.000Z"],
    ]);
  });
});

Deno.test("a fire that finds the job still running is skipped and logged, never overlapped", async () => {
  await withFakeTime("2026-01-01T10:00:30.000Z", async (clock) => {
    const stop = new AbortController();
    const { logger, events } = memoryLogger();
    let running = 0;
    let most = 0;
    const starts: string[] = [];
    const done = runSchedule([{ name: "slow", schedule: "*/15 * * * *" }], async () => {
      starts.push(new Date().toISOString().slice(11, 16));
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 20 * MINUTE)); // a 20-minute harvest
      running--;
    }, { signal: stop.signal, logger });
    await clock.tickAsync(50 * MINUTE);
    stop.abort();
    await clock.tickAsync(20 * MINUTE); // let the last run finish
    const summary = await done;
    assertEquals(starts, ["10:15", "10:45"]);
    assertEquals(most, 1);
    assertEquals(summary.jobs.slow, { fired: 2, succeeded: 2, failed: 0, skipped: 1 });
    const overlap = events().filter((e) => e.event === "schedule.overlap");
    assertEquals(overlap.map((e) => [e.job, e.scheduled_at, e.level]), [
      ["slow", "2026-01-01T10:30:00.000Z", "warn"],
    ]);
  });
});

Deno.test("a failing run is logged and the schedule keeps firing", async () => {
  await withFakeTime("2026-01-01T10:00:30.000Z", async (clock) => {
    const stop = new AbortController();
    const { logger, events } = memoryLogger();
    let calls = 0;
    const done = runSchedule([{ name: "flaky", schedule: "* * * * *" }], () => {
      calls++;
      return calls === 1 ? Promise.reject(new Error("api down")) : Promise.resolve();
    }, { signal: stop.signal, logger });
    await clock.tickAsync(3 * MINUTE);
    stop.abort();
    const summary = await done;
    assertEquals(summary.jobs.flaky, { fired: 3, succeeded: 2, failed: 1, skipped: 0 });
    const failed = events().find((e) => e.event === "schedule.failed");
    assertEquals([failed?.job, failed?.msg, failed?.level], ["flaky", "api down", "error"]);
  });
});

Deno.test("a fire whose out folder another run holds is skipped with the holder named, not failed", async () => {
  await withFakeTime("2026-01-01T10:00:30.000Z", async (clock) => {
    const stop = new AbortController();
    const { logger, events } = memoryLogger();
    let calls = 0;
    const done = runSchedule([{ name: "hourly", schedule: "* * * * *" }], () => {
      calls++;
      return calls === 1
        ? Promise.reject(
          new OutFolderBusyError(
            "out is in use by harvest run r-manual (process 7, since …)",
            null,
          ),
        )
        : Promise.resolve();
    }, { signal: stop.signal, logger });
    await clock.tickAsync(2 * MINUTE);
    stop.abort();
    const summary = await done;
    assertEquals(summary.jobs.hourly, { fired: 2, succeeded: 1, failed: 0, skipped: 1 });
    const busy = events().find((e) => e.event === "schedule.busy");
    assertEquals(busy?.level, "warn");
    assert(String(busy?.msg).startsWith("skipped: out is in use by harvest run r-manual"));
  });
});

Deno.test("aborting the signal while waiting stops at once and leaves no timer behind", async () => {
  await withFakeTime("2026-01-01T10:00:30.000Z", async (clock) => {
    const stop = new AbortController();
    const { fires, run } = recorder();
    const done = runSchedule([{ name: "daily", schedule: "@daily" }], run, {
      signal: stop.signal,
      logger: memoryLogger().logger,
    });
    await clock.tickAsync(5 * MINUTE);
    stop.abort();
    const summary = await done;
    assertEquals(fires, []);
    assertEquals(summary.jobs.daily.fired, 0);
    assertEquals(clock.countTimers(), 0);
  });
});

Deno.test("stopping aborts the running job's signal and waits for it to finish", async () => {
  await withFakeTime("2026-01-01T10:00:30.000Z", async (clock) => {
    const stop = new AbortController();
    const { logger, events } = memoryLogger();
    let sawAbort = false;
    let finished = false;
    const done = runSchedule([{ name: "long", schedule: "* * * * *" }], async (_job, fire) => {
      await new Promise<void>((resolve) => {
        fire.signal.addEventListener("abort", () => {
          sawAbort = true;
          // The job takes 5 more seconds to reach a safe point.
          setTimeout(resolve, 5000);
        });
      });
      finished = true;
    }, { signal: stop.signal, logger });
    await clock.tickAsync(MINUTE);
    stop.abort();
    let resolved = false;
    done.then(() => resolved = true);
    await clock.tickAsync(4999);
    assertEquals([sawAbort, finished, resolved], [true, false, false]);
    await clock.tickAsync(1);
    const summary = await done;
    assertEquals([finished, summary.jobs.long.succeeded], [true, 1]);
    assert(
      events().some((e) => e.event === "schedule.stop" && /waiting for 1/.test(String(e.msg))),
    );
  });
});

Deno.test("a monthly job waits in steps and fires on the first of the next months", async () => {
  await withFakeTime("2026-01-02T00:00:00.000Z", async (clock) => {
    const stop = new AbortController();
    const { fires, run } = recorder();
    // A wait of 30 days exceeds setTimeout's 2^31-1 ms: it must be split, not fire at once.
    const done = runSchedule([{ name: "monthly", schedule: "0 0 1 * *" }], run, {
      signal: stop.signal,
      logger: memoryLogger().logger,
      maxSleepMs: Number.MAX_SAFE_INTEGER,
    });
    await clock.tickAsync(60 * 24 * 60 * MINUTE);
    stop.abort();
    await done;
    assertEquals(fires.map((f) => f[1]), ["2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"]);
  });
});

Deno.test("a wall clock that jumps forward fires once for the missed instants, then on time", async () => {
  await withFakeTime("2026-01-01T10:00:30.000Z", async (clock) => {
    const stop = new AbortController();
    const { fires, run } = recorder();
    const done = runSchedule([{ name: "m", schedule: "*/5 * * * *" }], run, {
      signal: stop.signal,
      logger: memoryLogger().logger,
    });
    await clock.tickAsync(1000);
    clock.setSystemTime(Date.parse("2026-01-01T10:17:00.000Z")); // the laptop slept
    await clock.tickAsync(60_000); // the scheduler wakes within one step
    await clock.tickAsync(3 * MINUTE);
    stop.abort();
    await done;
    assertEquals(fires.map(([, at, scheduled]) => [at.slice(11, 19), scheduled.slice(11, 19)]), [
      ["10:17:59", "10:05:00"],
      ["10:20:00", "10:20:00"],
    ]);
  });
});

Deno.test("a bad pattern is a ConfigError naming the job before anything runs", async () => {
  let ran = false;
  await assertRejects(
    () =>
      runSchedule(
        [{ name: "ok", schedule: "@hourly" }, { name: "typo", schedule: "*/15 * * *" }],
        () => {
          ran = true;
          return Promise.resolve();
        },
      ),
    ConfigError,
    "job typo: schedule",
  );
  assertEquals(ran, false);
});
