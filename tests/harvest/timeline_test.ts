/**
 * Timelines: snowflake ids above 2^53 kept as BigInt-exact text; `X` holds the newest
 * id harvested and `X_oldest` the oldest; a forward run fetches only what is newer than `X`, a
 * backfill only what is older than `X_oldest`, and a backfill with no state yet fails loudly
 * before any request.
 */
import { systemClock } from "../../lib/core/clock.ts";
import { compareIds } from "../../lib/state/watermark.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import {
  BASE_URL,
  type MockFixture,
  parquetKeys,
  run,
  TOKEN,
  withMockRun,
  withState,
  yamlConfig,
} from "./fixture.ts";

const USER = "2244994945";

function timelineConfig(initial?: string) {
  return yamlConfig(`name: timelines
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
assets:
  - name: posts
    path: /2/users/${USER}/posts
    pagination: { type: timeline, limit: 20 }
    data_path: data
    primary_key: [id]
    incremental: { cursor_field: id, kind: id${initial ? `, initial: "${initial}"` : ""} }
`);
}

/** Every id of the user's timeline, newest first, as the API lists it. */
async function allIds(fixture: MockFixture): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const url = new URL(`${BASE_URL}/2/users/${USER}/posts`);
    url.searchParams.set("max_results", "100");
    if (token) url.searchParams.set("pagination_token", token);
    const body = await (await fixture.app.request(url.href, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    })).json();
    ids.push(...(body.data ?? []).map((p: { id: string }) => p.id));
    token = body.meta.next_token;
  } while (token);
  return ids;
}

function watermarks(out: string) {
  return withState(out, async (state) => ({
    newest: (await state.getWatermark("posts", "X"))?.lastId ?? null,
    oldest: (await state.getWatermark("posts", "X_oldest"))?.lastId ?? null,
  }));
}

Deno.test("timeline: X and X_oldest hold the newest and oldest ids, exact beyond 2^53", async () => {
  await withMockRun(async (fixture, out) => {
    const ids = await allIds(fixture);
    assert(ids.every((id) => BigInt(id) > 2n ** 53n), "snowflakes above 2^53");
    const result = await run(fixture, timelineConfig(), out);
    assertEquals(result.exitCode, 0);
    const written = await parquetKeys(out, "posts", ["id"]);
    assertEquals([...written].sort(compareIds), [...ids].sort(compareIds));
    const byBigInt = [...ids].sort(compareIds);
    assertEquals(await watermarks(out), {
      newest: byBigInt[byBigInt.length - 1],
      oldest: byBigInt[0],
    });
  });
});

Deno.test("timeline: a forward run fetches only posts newer than X", async () => {
  await withMockRun(async (fixture, out) => {
    await run(fixture, timelineConfig(), out);
    const posted = await fixture.write(`/2/users/${USER}/posts`, {
      text: "a new post after the first harvest",
    });
    assertEquals(posted.status, 201);
    const newId = (await posted.json()).data.id as string;
    const second = await run(fixture, timelineConfig(), out);
    assertEquals(second.assets[0].records, 1);
    assertEquals(second.assets[0].rows, 1);
    assertEquals((await watermarks(out)).newest, newId);
    const written = await parquetKeys(out, "posts", ["id"]);
    assertEquals(written.length, new Set(written).size);
    assertEquals(written.filter((id) => id === newId).length, 1);
  });
});

Deno.test("timeline: --direction backfill fetches exactly what is older than X_oldest", async () => {
  await withMockRun(async (fixture, out) => {
    const ids = [...await allIds(fixture)].sort(compareIds);
    const middle = ids[Math.floor(ids.length / 2)];
    // A first forward run from the middle of the timeline leaves older posts for a backfill.
    const first = await run(fixture, timelineConfig(middle), out);
    assertEquals(first.assets[0].rows, ids.filter((id) => compareIds(id, middle) > 0).length);
    const oldestBefore = (await watermarks(out)).oldest!;
    const back = await run(fixture, timelineConfig(middle), out, { direction: "backfill" });
    assertEquals(back.exitCode, 0);
    assertEquals(
      back.report.assets[0].start?.reason,
      `backfill: older than X_oldest ${oldestBefore}`,
    );
    assertEquals(back.assets[0].rows, ids.filter((id) => compareIds(id, oldestBefore) < 0).length);
    const written = await parquetKeys(out, "posts", ["id"]);
    assertEquals(written.length, new Set(written).size, "no post twice");
    assertEquals([...written].sort(compareIds), ids, "forward + backfill = the whole timeline");
    assertEquals((await watermarks(out)).oldest, ids[0]);
  });
});

Deno.test("timeline: a backfill with no state fails loudly before any request", async () => {
  await withMockRun(async (fixture, out) => {
    const result = await run(fixture, timelineConfig(), out, { direction: "backfill" });
    assertEquals(result.exitCode, 1);
    assertEquals(result.assets[0].status, "failed");
    assertStringIncludes(result.assets[0].error ?? "", "no X_oldest watermark in state yet");
    assertEquals(await fixture.requests(), 0);
  });
});

Deno.test("timeline: with rate_limit.key asset, one user's exhausted window does not hold another user", async () => {
  // The server's reset header is an epoch instant, which the harvest reads with its own clock:
  // both clocks run from one second into a 15-minute window, so every reset is ~15 min away.
  const shift = Date.UTC(2026, 0, 1, 10, 0, 1) - Date.now();
  const clock = { now: () => Date.now() + shift, sleep: systemClock.sleep };
  // 3 requests per user per 15-minute window: the first user runs out, the second has room.
  const limited = { rateLimit: 3, now: clock.now };
  const config = (key: string) =>
    yamlConfig(`name: timelines
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
workers: 1
rate_limit: { max_wait_s: 60${key} }
assets:
  - name: busy
    path: /2/users/${USER}/posts
    pagination: { type: timeline, limit: 5 }
    data_path: data
    primary_key: [id]
    incremental: { cursor_field: id, kind: id }
  - name: quiet
    path: /2/users/783214/posts
    pagination: { type: timeline, limit: 100 }
    data_path: data
    primary_key: [id]
    incremental: { cursor_field: id, kind: id }
`);
  await withMockRun(async (fixture, out) => {
    const result = await run(fixture, config(", key: asset"), out, { clock });
    assertEquals(result.assets.map((a) => [a.asset, a.status]), [
      ["busy", "skipped"],
      ["quiet", "ok"],
    ]);
  }, limited);
  await withMockRun(async (fixture, out) => {
    // One limiter for the host (and the one token): the busy user's wait holds the quiet one.
    const result = await run(fixture, config(", key: origin"), out, { clock });
    assertEquals(result.assets.map((a) => [a.asset, a.status]), [
      ["busy", "skipped"],
      ["quiet", "skipped"],
    ]);
  }, limited);
});
