import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { scheduleCommand, type ScheduleCommandOptions } from "../../lib/cli/schedule.ts";
import type { ScheduledJob } from "../../lib/schedule/jobs.ts";
import { systemClock } from "../../lib/core/clock.ts";
import { assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { configYaml, memoryLogger, withFakeTime } from "./fake_time.ts";
import { cli } from "../cli/capture.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NOW = Date.parse("2026-01-01T10:07:30.000Z");

async function withJobs(fn: (jobsPath: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-schedule-" });
  try {
    await Deno.writeTextFile(
      join(dir, "nw.yaml"),
      configYaml("northwind", ['schedule: "*/15 * * * *"']),
    );
    await Deno.writeTextFile(
      join(dir, "wp.yaml"),
      configYaml("wordpress", ['schedule: "0 6 * * MON-FRI"'], ["posts"]),
    );
    await Deno.writeTextFile(join(dir, "jobs.yaml"), "jobs: [nw.yaml, wp.yaml]\n");
    await fn(join(dir, "jobs.yaml"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `tidemark schedule` in-process, capturing what it prints. */
async function schedule(
  args: string[],
  options: ScheduleCommandOptions = {},
): Promise<{ code: number; stdout: string }> {
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  try {
    const code = await scheduleCommand({ env: {}, logger: memoryLogger().logger, ...options })
      .run(args);
    return { code, stdout: out.join("\n") };
  } finally {
    console.log = log;
  }
}

Deno.test("schedule --dry-run prints each job's next 3 fire times and runs nothing", async () => {
  await withJobs(async (jobs) => {
    let ran = 0;
    const { code, stdout } = await schedule(["--config", jobs, "--dry-run"], {
      clock: { now: () => NOW, sleep: systemClock.sleep },
      runner: () => Promise.resolve(ran++),
    });
    assertEquals([code, ran], [0, 0]);
    const lines = stdout.split("\n");
    assertMatch(
      lines[0],
      /^northwind {2}"\*\/15 \* \* \* \*" \(UTC\) {2}every asset {2}\[.*nw\.yaml\]$/,
    );
    assertEquals(lines.slice(1, 4), [
      "  2026-01-01T10:15:00.000Z",
      "  2026-01-01T10:30:00.000Z",
      "  2026-01-01T10:45:00.000Z",
    ]);
    assertMatch(lines[4], /^wordpress {2}"0 6 \* \* MON-FRI" \(UTC\)/);
    // 2026-01-01 is a Thursday: Friday, then Monday and Tuesday.
    assertEquals(lines.slice(5), [
      "  2026-01-02T06:00:00.000Z",
      "  2026-01-05T06:00:00.000Z",
      "  2026-01-06T06:00:00.000Z",
    ]);
  });
});

Deno.test("schedule --dry-run --timezone reads the patterns in that zone", async () => {
  await withJobs(async (jobs) => {
    const { stdout } = await schedule(["--config", jobs, "--dry-run", "--timezone", "Asia/Tokyo"], {
      clock: { now: () => NOW, sleep: systemClock.sleep },
    });
    assertStringIncludes(stdout, '"0 6 * * MON-FRI" (Asia/Tokyo)');
    assertStringIncludes(stdout, "  2026-01-01T21:00:00.000Z"); // Friday 06:00 in Tokyo
  });
});

Deno.test("schedule --once runs every job once now and exits 1 when one failed", async () => {
  await withJobs(async (jobs) => {
    const ran: string[] = [];
    const runner = (job: ScheduledJob) => {
      ran.push(job.name);
      return job.name === "wordpress"
        ? Promise.reject(new Error("503 from /wp-json"))
        : Promise.resolve();
    };
    const { code, stdout } = await schedule(["--config", jobs, "--once"], { runner });
    assertEquals(ran, ["northwind", "wordpress"]);
    assertEquals(code, 1);
    assertEquals(stdout.split("\n"), [
      "northwind: succeeded",
      "wordpress: failed: 503 from /wp-json",
    ]);
  });
});

Deno.test("schedule runs the jobs at their instants until stopped, then prints the tally", async () => {
  await withJobs(async (jobs) => {
    await withFakeTime("2026-01-01T10:07:30.000Z", async (clock) => {
      const stop = new AbortController();
      const fires: string[] = [];
      const { logger, until } = memoryLogger();
      const running = schedule(["--config", jobs], {
        logger,
        signal: stop.signal,
        runner: (job, fire) => {
          fires.push(`${job.name} ${fire.scheduledAt.toISOString()} ${job.loaded.config.name}`);
          return Promise.resolve();
        },
      });
      await until("schedule.job"); // the configs are read (real I/O) before the clock matters
      await clock.tickAsync(40 * 60_000);
      stop.abort();
      const { code, stdout } = await running;
      assertEquals(code, 0);
      assertEquals(fires, [
        "northwind 2026-01-01T10:15:00.000Z northwind",
        "northwind 2026-01-01T10:30:00.000Z northwind",
        "northwind 2026-01-01T10:45:00.000Z northwind",
      ]);
      assertEquals(stdout.split("\n"), [
        "northwind: fired 3 (3 succeeded, 0 failed), skipped 0 while running",
        "wordpress: fired 0 (0 succeeded, 0 failed), skipped 0 while running",
      ]);
    });
  });
});

Deno.test("schedule without --config, or with a bad time zone, exits 2 with the fix", async () => {
  const missing = await cli(["schedule"]);
  assertEquals(missing.code, 2);
  assertStringIncludes(missing.stderr, "needs --config FILE");
  await withJobs(async (jobs) => {
    const zone = await cli([
      "schedule",
      "--config",
      jobs,
      "--timezone",
      "Mars/Olympus",
      "--dry-run",
    ]);
    assertEquals(zone.code, 2);
    assertStringIncludes(zone.stderr, 'unknown time zone "Mars/Olympus"');
  });
});

Deno.test("tidemark schedule stops cleanly on SIGTERM", async () => {
  if (Deno.build.os === "windows") return; // no SIGTERM listener on Windows
  await withJobs(async (jobs) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-env", "main.ts", "schedule", "--config", jobs],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let logged = "";
    try {
      while (!logged.includes('"job":"wordpress"')) {
        const { value, done } = await stderr.read();
        if (done) break;
        logged += value;
      }
    } finally {
      child.kill("SIGTERM");
    }
    for (;;) {
      const { value, done } = await stderr.read();
      if (done) break;
      logged += value;
    }
    const [status, stdout] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
    ]);
    assertEquals(status.code, 0, logged);
    assertStringIncludes(logged, '"event":"schedule.signal"');
    assertStringIncludes(logged, '"event":"schedule.stop"');
    assertStringIncludes(stdout, "northwind: fired 0");
  });
});
