import { join } from "node:path";
import { StateError } from "../../lib/core/errors.ts";
import { KV_STATE_VERSION, openKvState } from "../../lib/state/kv.ts";
import { assertEquals, assertRejects } from "../assert.ts";
import { stateStoreSuite } from "./store_suite.ts";
import { tempFolders } from "../temp_dir.ts";

/** Runs `fn` with a fresh temporary folder, removed after. */
const withDir = tempFolders("tidemark-kv-");

stateStoreSuite("kv (file)", async (now) => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-kv-" });
  const store = await openKvState(join(dir, "state.kv"), { now });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return store;
});

stateStoreSuite("kv (memory)", (now) => openKvState(":memory:", { now }));

function run(runId: string) {
  return {
    runId,
    startedAt: "2026-01-01T00:00:00Z",
    configSha256: "x",
    command: "harvest",
    assets: ["Orders"],
  };
}

function page(n: number, runId = "r1") {
  return {
    runId,
    assetId: "Orders",
    partition: "",
    page: n,
    cursorIn: n === 1 ? null : String(n - 1),
    cursorOut: String(n),
    rows: 10,
    snapshot: `raw/Orders/${runId}/${n}.json`,
    outputs: [`parquet/Orders/part-${runId}-${n}.parquet`],
    sha256: "b".repeat(64),
    done: false,
  };
}

Deno.test("kv: watermarks, pages and skips survive closing and reopening the file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.kv");
    const first = await openKvState(path);
    await first.startRun(run("r1"));
    await first.setWatermark({ assetId: "Orders", lastTimestamp: "1998-05-06 00:00:00.000" });
    await first.commitPage(page(1));
    await first.recordSkip({ runId: "r1", assetId: "u1", reason: "rate limit", retryAt: null });
    await first.close();
    const second = await openKvState(path);
    try {
      assertEquals(
        (await second.getWatermark("Orders"))?.lastTimestamp,
        "1998-05-06T00:00:00.000Z",
      );
      assertEquals((await second.resumePoint("Orders", ""))?.cursorOut, "1");
      assertEquals((await second.listSkips()).map((s) => s.assetId), ["u1"]);
      assertEquals((await second.listRuns()).map((r) => r.runId), ["r1"]);
    } finally {
      await second.close();
    }
  });
});

Deno.test("kv: completing an asset of more pages than one atomic commit holds marks them all", async () => {
  const store = await openKvState(":memory:");
  try {
    await store.startRun(run("r1"));
    for (let n = 1; n <= 1200; n++) await store.commitPage(page(n));
    assertEquals((await store.pendingPages("Orders")).length, 1200);
    await store.completeAsset("Orders", "r1");
    assertEquals(await store.pendingPages("Orders"), []);
    assertEquals(await store.resumePoint("Orders", ""), undefined);
    assertEquals((await store.committedOutputs("Orders")).size, 1200);
    await store.resetAsset("Orders");
    assertEquals(await store.committedOutputs("Orders"), new Set());
  } finally {
    await store.close();
  }
});

Deno.test("kv: pages committed after completion are pending again, in commit order", async () => {
  const store = await openKvState(":memory:");
  try {
    await store.startRun(run("r1"));
    await store.commitPage(page(1));
    await store.completeAsset("Orders", "r1");
    await store.startRun(run("r2"));
    await store.commitPage(page(2, "r2"));
    await store.commitPage(page(1, "r2"));
    assertEquals(
      (await store.pendingPages("Orders")).map((p) => [p.runId, p.page, p.completed]),
      [["r2", 2, false], ["r2", 1, false]],
    );
    assertEquals((await store.resumePoint("Orders", ""))?.page, 1);
  } finally {
    await store.close();
  }
});

Deno.test("kv: two stores with different prefixes share one database without mixing", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.kv");
    const a = await openKvState(path, { prefix: ["tidemark", "northwind"] });
    const b = await openKvState(path, { prefix: ["tidemark", "wordpress"] });
    try {
      await a.setWatermark({ assetId: "Orders", lastId: "1" });
      await b.setWatermark({ assetId: "posts", lastId: "2" });
      assertEquals((await a.listWatermarks()).map((w) => w.assetId), ["Orders"]);
      assertEquals((await b.listWatermarks()).map((w) => w.assetId), ["posts"]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("kv: a database written by a newer layout is refused with an upgrade hint", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.kv");
    const kv = await Deno.openKv(path);
    await kv.set(["tidemark", "meta"], { version: KV_STATE_VERSION + 1 });
    kv.close();
    await assertRejects(() => openKvState(path), StateError, "upgrade Tidemark");
  });
});

Deno.test("kv: a path in a missing folder is a StateError naming it", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "missing", "state.kv");
    await assertRejects(() => openKvState(path), StateError, path);
  });
});

Deno.test("kv: concurrent watermark upserts of different fields both land", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.kv");
    const a = await openKvState(path);
    const b = await openKvState(path);
    try {
      await Promise.all([
        a.setWatermark({ assetId: "u1", lastId: "42" }),
        b.setWatermark({ assetId: "u1", lastTimestamp: "2024-01-01T00:00:00Z" }),
      ]);
      const w = await a.getWatermark("u1");
      assertEquals([w?.lastId, w?.lastTimestamp], ["42", "2024-01-01T00:00:00.000Z"]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
