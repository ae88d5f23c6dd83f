/**
 * The behaviour every {@link StateStore} must have, as a suite any implementation registers with
 * its own factory (SQLite now; Deno KV later runs the very same tests).
 * @module
 */
import { StateError } from "../../lib/core/errors.ts";
import type { PageCommit, StateStore } from "../../lib/state/mod.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";

/** Makes a fresh, empty store; `now` is the store's clock. */
export type StoreFactory = (now: () => Date) => Promise<StateStore> | StateStore;

/** A clock tests move by hand. */
export function manualClock(start = "2026-01-01T10:00:00.000Z"): {
  now: () => Date;
  advance: (ms: number) => void;
} {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

function page(overrides: Partial<PageCommit> = {}): PageCommit {
  return {
    runId: "run-1",
    assetId: "Orders",
    partition: "",
    page: 1,
    cursorIn: null,
    cursorOut: "10447",
    rows: 200,
    snapshot: "raw/Orders/run-1/00001.json",
    outputs: ["parquet/Orders/part-run-1-0001.parquet"],
    sha256: "a".repeat(64),
    done: false,
    ...overrides,
  };
}

async function startRun(store: StateStore, runId = "run-1", startedAt = "2026-01-01T10:00:00Z") {
  await store.startRun({
    runId,
    startedAt,
    configSha256: "c".repeat(64),
    command: "harvest",
    assets: ["Orders"],
  });
}

/** Registers the shared state-store tests under `name`. */
export function stateStoreSuite(name: string, factory: StoreFactory): void {
  const test = (
    title: string,
    fn: (store: StateStore, clock: ReturnType<typeof manualClock>) => Promise<void>,
  ) =>
    Deno.test(`${name}: ${title}`, async () => {
      const clock = manualClock();
      const store = await factory(clock.now);
      try {
        await fn(store, clock);
      } finally {
        await store.close();
      }
    });

  test("an unknown watermark is undefined", async (store) => {
    assertEquals(await store.getWatermark("Orders"), undefined);
  });

  test("setWatermark inserts under data type 'default' with the clock's updated_at", async (store) => {
    await store.setWatermark({ assetId: "Orders", lastTimestamp: "1997-01-01T00:00:00Z" });
    assertEquals(await store.getWatermark("Orders"), {
      assetId: "Orders",
      dataType: "default",
      lastId: null,
      lastTimestamp: "1997-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T10:00:00.000Z",
    });
  });

  test("an upsert with a null field never overwrites the stored value", async (store, clock) => {
    await store.setWatermark({
      assetId: "u1",
      dataType: "posts",
      lastId: "100",
      lastTimestamp: "2024-01-01T00:00:00Z",
    });
    clock.advance(60_000);
    await store.setWatermark({
      assetId: "u1",
      dataType: "posts",
      lastId: null,
      lastTimestamp: "2024-02-01T00:00:00Z",
    });
    const w = await store.getWatermark("u1", "posts");
    assertEquals(w?.lastId, "100");
    assertEquals(w?.lastTimestamp, "2024-02-01T00:00:00.000Z");
    assertEquals(w?.updatedAt, "2026-01-01T10:01:00.000Z");
  });

  test("an upsert with an omitted field keeps the stored value", async (store) => {
    await store.setWatermark({ assetId: "u1", lastId: "5", lastTimestamp: "2024-01-01T00:00:00Z" });
    await store.setWatermark({ assetId: "u1", lastId: "6" });
    const w = await store.getWatermark("u1");
    assertEquals([w?.lastId, w?.lastTimestamp], ["6", "2024-01-01T00:00:00.000Z"]);
  });

  test("X and X_oldest are independent rows of one asset", async (store) => {
    await store.setWatermark({ assetId: "u1", dataType: "posts", lastId: "1861234567890123456" });
    await store.setWatermark({
      assetId: "u1",
      dataType: "posts_oldest",
      lastId: "1000000000000000001",
    });
    assertEquals((await store.getWatermark("u1", "posts"))?.lastId, "1861234567890123456");
    assertEquals((await store.getWatermark("u1", "posts_oldest"))?.lastId, "1000000000000000001");
    assertEquals((await store.listWatermarks()).map((w) => w.dataType), ["posts", "posts_oldest"]);
  });

  test("19-digit ids are stored as exact text", async (store) => {
    await store.setWatermark({ assetId: "u1", lastId: "9007199254740993123" });
    assertEquals((await store.getWatermark("u1"))?.lastId, "9007199254740993123");
  });

  test("timestamps are normalized to UTC ISO-8601 before they are stored", async (store) => {
    await store.setWatermark({ assetId: "Orders", lastTimestamp: "1996-07-04 00:00:00.000" });
    assertEquals((await store.getWatermark("Orders"))?.lastTimestamp, "1996-07-04T00:00:00.000Z");
    await store.setWatermark({ assetId: "Orders", lastTimestamp: "2024-03-10T12:00:00+02:00" });
    assertEquals((await store.getWatermark("Orders"))?.lastTimestamp, "2024-03-10T10:00:00.000Z");
  });

  test("an unreadable timestamp is refused with a StateError naming it", async (store) => {
    await assertRejects(
      () => store.setWatermark({ assetId: "Orders", lastTimestamp: "yesterday" }),
      StateError,
      '"yesterday"',
    );
    assertEquals(await store.getWatermark("Orders"), undefined);
  });

  test("runs are listed newest first with status and counts after finishRun", async (store) => {
    await startRun(store, "run-1", "2026-01-01T10:00:00Z");
    await startRun(store, "run-2", "2026-01-02T10:00:00Z");
    await store.finishRun("run-1", {
      status: "succeeded",
      finishedAt: "2026-01-01T10:05:00Z",
      counts: { pages: 3, records: 600 },
    });
    const runs = await store.listRuns();
    assertEquals(runs.map((r) => [r.runId, r.status]), [["run-2", "running"], [
      "run-1",
      "succeeded",
    ]]);
    assertEquals(runs[1].counts, { pages: 3, records: 600 });
    assertEquals(runs[1].finishedAt, "2026-01-01T10:05:00Z");
    assertEquals(runs[1].assets, ["Orders"]);
    assertEquals((await store.listRuns(1)).length, 1);
  });

  test("finishing a run that was never started is a StateError", async (store) => {
    await assertRejects(
      () =>
        store.finishRun("nope", {
          status: "failed",
          finishedAt: "2026-01-01T00:00:00Z",
          counts: {},
        }),
      StateError,
      "never started",
    );
  });

  test("starting the same run twice is a StateError", async (store) => {
    await startRun(store);
    await assertRejects(() => startRun(store), StateError, "already started");
  });

  test("resumePoint is the last committed page of the asset/partition", async (store) => {
    await startRun(store);
    await store.commitPage(page({ page: 1, cursorIn: null, cursorOut: "10447" }));
    await store.commitPage(page({ page: 2, cursorIn: "10447", cursorOut: "10647" }));
    await store.commitPage(page({ page: 1, partition: "OrderID:20000-30000", cursorOut: "20200" }));
    const point = await store.resumePoint("Orders", "");
    assertEquals([point?.page, point?.cursorIn, point?.cursorOut], [2, "10447", "10647"]);
    assertEquals(point?.outputs, ["parquet/Orders/part-run-1-0001.parquet"]);
    assertEquals(point?.done, false);
    assertEquals(point?.committedAt, "2026-01-01T10:00:00.000Z");
    assertEquals((await store.resumePoint("Orders", "OrderID:20000-30000"))?.cursorOut, "20200");
    assertEquals(await store.resumePoint("Customers", ""), undefined);
  });

  test("commitPages commits a batch of pages in order; the last is the resume point", async (store) => {
    await startRun(store);
    await store.commitPages([
      page({ page: 1, cursorIn: null, cursorOut: "10447" }),
      page({ page: 2, cursorIn: "10447", cursorOut: "10647" }),
      page({ page: 3, cursorIn: "10647", cursorOut: "10847" }),
    ]);
    assertEquals((await store.pendingPages("Orders")).map((p) => p.page), [1, 2, 3]);
    assertEquals((await store.resumePoint("Orders", ""))?.cursorOut, "10847");
    await store.commitPages([]);
    await assertRejects(
      () => store.commitPages([page({ page: 4 }), page({ page: 0 })]),
      StateError,
      "page number must be a whole number from 1",
    );
    // A bad page is refused before anything of its batch is written.
    assertEquals((await store.resumePoint("Orders", ""))?.page, 3);
  });

  test("resumePoint continues across runs until the asset completes", async (store) => {
    await startRun(store, "run-1");
    await store.commitPage(page({ runId: "run-1", page: 1, cursorOut: "a" }));
    await startRun(store, "run-2", "2026-01-02T00:00:00Z");
    await store.commitPage(
      page({ runId: "run-2", page: 2, cursorIn: "a", cursorOut: null, done: true }),
    );
    const point = await store.resumePoint("Orders", "");
    assertEquals([point?.runId, point?.page, point?.done], ["run-2", 2, true]);
    assertEquals((await store.pendingPages("Orders")).map((p) => p.page), [1, 2]);
    await store.completeAsset("Orders", "run-2");
    assertEquals(await store.resumePoint("Orders", ""), undefined);
    assertEquals(await store.pendingPages("Orders"), []);
  });

  test("commitPage for a run that was never started is refused and writes nothing", async (store) => {
    await assertRejects(
      () => store.commitPage(page({ runId: "ghost" })),
      StateError,
      "never started",
    );
    assertEquals(await store.resumePoint("Orders", ""), undefined);
  });

  test("committing the same page twice is refused and keeps the first commit", async (store) => {
    await startRun(store);
    await store.commitPage(page({ cursorOut: "first" }));
    await assertRejects(
      () => store.commitPage(page({ cursorOut: "second" })),
      StateError,
      "already committed",
    );
    assertEquals((await store.resumePoint("Orders", ""))?.cursorOut, "first");
    assertEquals((await store.pendingPages("Orders")).length, 1);
  });

  test("a bad page number is refused before anything is written", async (store) => {
    await startRun(store);
    await assertRejects(() => store.commitPage(page({ page: 0 })), StateError, "page number");
    await assertRejects(() => store.commitPage(page({ rows: -1 })), StateError, "row count");
    assertEquals(await store.resumePoint("Orders", ""), undefined);
  });

  test("committedOutputs lists every part of the asset across runs and pages", async (store) => {
    await startRun(store);
    await store.commitPage(page({ page: 1, outputs: ["p/a.parquet", "p/b.parquet"] }));
    await store.commitPage(page({ page: 2, outputs: ["p/c.parquet"] }));
    await store.commitPage(page({ page: 1, assetId: "Customers", outputs: ["q/x.parquet"] }));
    await store.completeAsset("Orders", "run-1");
    assertEquals(
      [...await store.committedOutputs("Orders")].sort(),
      ["p/a.parquet", "p/b.parquet", "p/c.parquet"],
    );
    assertEquals(await store.committedOutputs("Nothing"), new Set());
  });

  test("completeAsset leaves other assets resumable", async (store) => {
    await startRun(store);
    await store.commitPage(page({ assetId: "Orders" }));
    await store.commitPage(page({ assetId: "Customers" }));
    await store.completeAsset("Orders", "run-1");
    assertEquals(await store.resumePoint("Orders", ""), undefined);
    assertEquals((await store.resumePoint("Customers", ""))?.page, 1);
  });

  test(
    "skips are recorded, replaced per asset, listed oldest first and cleared",
    async (store, clock) => {
      await store.recordSkip({
        runId: "run-1",
        assetId: "u2",
        reason: "rate limit: wait 900s",
        retryAt: "2026-01-01T10:15:00Z",
      });
      clock.advance(1000);
      await store.recordSkip({
        runId: "run-1",
        assetId: "u1",
        reason: "rate limit",
        retryAt: null,
      });
      clock.advance(1000);
      await store.recordSkip({
        runId: "run-2",
        assetId: "u2",
        reason: "rate limit again",
        retryAt: null,
      });
      const skips = await store.listSkips();
      assertEquals(skips.map((s) => [s.assetId, s.runId, s.reason]), [
        ["u1", "run-1", "rate limit"],
        ["u2", "run-2", "rate limit again"],
      ]);
      assertEquals(skips[0].recordedAt, "2026-01-01T10:00:01.000Z");
      await store.clearSkip("u1");
      assertEquals((await store.listSkips()).map((s) => s.assetId), ["u2"]);
    },
  );

  test("a skip's retryAt is normalized to UTC", async (store) => {
    await store.recordSkip({
      runId: "r",
      assetId: "u1",
      reason: "x",
      retryAt: "Thu, 01 Jan 2026 10:15:00 GMT",
    });
    assertEquals((await store.listSkips())[0].retryAt, "2026-01-01T10:15:00.000Z");
  });

  test("resetAsset forgets watermarks, pages and skips of that asset only", async (store) => {
    await startRun(store);
    await store.setWatermark({ assetId: "Orders", lastTimestamp: "1997-01-01" });
    await store.setWatermark({
      assetId: "Orders",
      dataType: "default_oldest",
      lastTimestamp: "1996-01-01",
    });
    await store.setWatermark({ assetId: "Customers", lastId: "9" });
    await store.commitPage(page());
    await store.recordSkip({ runId: "run-1", assetId: "Orders", reason: "x", retryAt: null });
    await store.resetAsset("Orders");
    assertEquals(await store.getWatermark("Orders"), undefined);
    assertEquals(await store.getWatermark("Orders", "default_oldest"), undefined);
    assertEquals(await store.resumePoint("Orders", ""), undefined);
    assertEquals(await store.committedOutputs("Orders"), new Set());
    assertEquals(await store.listSkips(), []);
    assertEquals((await store.getWatermark("Customers"))?.lastId, "9");
  });

  test("a closed store refuses further calls", async (store) => {
    await store.close();
    await assertRejects(() => store.getWatermark("Orders"), StateError, "closed");
  });

  test("concurrent commits of different pages all land", async (store) => {
    await startRun(store);
    await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => store.commitPage(page({ page: i + 1, cursorOut: String(i) })),
      ),
    );
    const pages = await store.pendingPages("Orders");
    assertEquals(pages.length, 20);
    assert(pages.every((p, i) => p.page === i + 1));
  });
}
