/**
 * `deno task timelines` end to end: a backfill without state fails before any request;
 * forward then backfill, where users whose per-user window runs out are skipped, recorded, and
 * taken first (and finished) on the next run; ids stay exact above 2^53.
 */
import { join } from "node:path";
import { TIMELINES_JOB } from "../../jobs/timelines.ts";
import { readRunReport } from "../../lib/report/report_files.ts";
import { compareIds } from "../../lib/state/watermark.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { requestCount, runJob, withServedMock } from "./job_fixture.ts";
import { withState } from "../harvest/fixture.ts";

Deno.test("timelines job: a backfill before any forward run fails clearly, before any request", async () => {
  await withServedMock(async (server, dir) => {
    const run = await runJob(TIMELINES_JOB, [
      "--out",
      join(dir, "out"),
      "--base-url",
      server.url,
      "--direction",
      "backfill",
    ]);
    assertEquals(run.code, 1);
    assertStringIncludes(run.stdout.join("\n"), "there is no X_oldest watermark in state yet");
    assertStringIncludes(run.stdout.join("\n"), "run a forward harvest first");
    assertEquals(await requestCount(server), 0);
  }, TIMELINES_JOB.mock);
});

Deno.test("timelines job: users over their window are skipped, recorded, and taken first next run", async () => {
  let offset = 0;
  // 14 requests per user per 15 minutes: two users need more for their backfill.
  const limited = { ...TIMELINES_JOB.mock, rateLimit: 14, now: () => Date.now() + offset };
  await withServedMock(async (server, dir) => {
    const out = join(dir, "out");
    const args = ["--out", out, "--base-url", server.url];
    const forward = await runJob(TIMELINES_JOB, args);
    assertEquals(forward.code, 0, forward.stderr);
    offset += 16 * 60_000;

    const first = await runJob(TIMELINES_JOB, [...args, "--direction", "backfill"]);
    assertEquals(first.code, 0, "a skip is not a failure");
    const report1 = await readRunReport(out);
    const skipped = report1.assets.filter((a) => a.status === "skipped").map((a) => a.asset);
    assertEquals(skipped.sort(), ["user_2244994945", "user_44196397"]);
    assertStringIncludes(
      report1.assets.find((a) => a.status === "skipped")!.skip_reasons[0],
      "max_wait_s",
    );
    const skips = await withState(out, (state) => state.listSkips());
    assertEquals(skips.map((s) => s.assetId).sort(), skipped);
    offset += 16 * 60_000;

    const second = await runJob(TIMELINES_JOB, [...args, "--direction", "backfill"]);
    assertEquals(second.code, 0, second.stderr);
    const report2 = await readRunReport(out);
    assertEquals(report2.assets.slice(0, 2).map((a) => a.asset).sort(), skipped, "skipped first");
    assertEquals(report2.assets.slice(0, 2).map((a) => a.status), ["ok", "ok"]);
    await withState(out, async (after) => {
      assertEquals(await after.listSkips(), []);
      // The whole timeline is in now: X_oldest is the user's oldest post.
      const oldest = (await after.getWatermark("user_44196397", "X_oldest"))?.lastId!;
      const newest = (await after.getWatermark("user_44196397", "X"))?.lastId!;
      assert(BigInt(oldest) > 2n ** 53n, "snowflake ids stay exact");
      assertEquals(compareIds(oldest, newest), -1);
    });
  }, limited);
});
