import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { StateError } from "../../lib/core/errors.ts";
import { openSqliteState, STATE_SCHEMA_VERSION } from "../../lib/state/mod.ts";
import { assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { stateStoreSuite } from "./store_suite.ts";
import { tempFolders } from "../temp_dir.ts";

stateStoreSuite("sqlite (memory)", (now) => openSqliteState(":memory:", { now }));

stateStoreSuite("sqlite (file)", async (now) => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-state-" });
  const store = openSqliteState(join(dir, "state.sqlite"), { now, synchronous: "normal" });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return store;
});

const withDir = tempFolders("tidemark-state-");

Deno.test("sqlite: a state file is in WAL mode and records its schema version", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.sqlite");
    await openSqliteState(path).close();
    const db = new DatabaseSync(path);
    try {
      assertEquals({ ...db.prepare("PRAGMA journal_mode").get() }, { journal_mode: "wal" });
      assertEquals(db.prepare("SELECT version FROM schema_version").all().map((r) => r.version), [
        STATE_SCHEMA_VERSION,
      ]);
    } finally {
      db.close();
    }
  });
});

Deno.test("sqlite: watermarks, pages and skips survive closing and reopening the file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.sqlite");
    const first = openSqliteState(path);
    await first.startRun({
      runId: "r1",
      startedAt: "2026-01-01T00:00:00Z",
      configSha256: "x",
      command: "harvest",
      assets: ["Orders"],
    });
    await first.setWatermark({ assetId: "Orders", lastTimestamp: "1998-05-06 00:00:00.000" });
    await first.commitPage({
      runId: "r1",
      assetId: "Orders",
      partition: "",
      page: 1,
      cursorIn: null,
      cursorOut: "10447",
      rows: 200,
      snapshot: "raw/Orders/r1/00001.json",
      outputs: ["a.parquet"],
      sha256: "f".repeat(64),
      done: false,
    });
    await first.recordSkip({ runId: "r1", assetId: "u1", reason: "rate limit", retryAt: null });
    await first.close();
    const second = openSqliteState(path);
    try {
      assertEquals(
        (await second.getWatermark("Orders"))?.lastTimestamp,
        "1998-05-06T00:00:00.000Z",
      );
      assertEquals((await second.resumePoint("Orders", ""))?.cursorOut, "10447");
      assertEquals((await second.listSkips()).map((s) => s.assetId), ["u1"]);
    } finally {
      await second.close();
    }
  });
});

Deno.test("sqlite: the pages table has the columns verify reads", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.sqlite");
    await openSqliteState(path).close();
    const db = new DatabaseSync(path);
    try {
      const columns = (db.prepare("PRAGMA table_info(pages)").all() as { name: string }[]).map((
        c,
      ) => c.name);
      for (
        const c of [
          "run_id",
          "asset_id",
          "partition",
          "page",
          "cursor_in",
          "cursor_out",
          "rows",
          "snapshot",
          "outputs",
          "sha256",
          "done",
        ]
      ) {
        assertEquals(columns.includes(c), true, `pages.${c}`);
      }
      const state = db.prepare("PRAGMA table_info(ingestion_state)").all() as {
        name: string;
        pk: number;
      }[];
      assertEquals(state.map((c) => c.name), [
        "asset_id",
        "data_type",
        "last_id",
        "last_timestamp",
        "updated_at",
      ]);
      assertEquals(state.filter((c) => c.pk > 0).map((c) => c.name), ["asset_id", "data_type"]);
    } finally {
      db.close();
    }
  });
});

Deno.test("sqlite: a page commit is all or nothing when the transaction fails midway", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.sqlite");
    const store = openSqliteState(path);
    try {
      await store.startRun({
        runId: "r1",
        startedAt: "2026-01-01T00:00:00Z",
        configSha256: "x",
        command: "harvest",
        assets: ["Orders"],
      });
      // Another connection holds the write lock: the commit must fail whole, not half-apply.
      const other = new DatabaseSync(path);
      other.exec("PRAGMA busy_timeout = 0");
      other.exec("BEGIN IMMEDIATE");
      const blocked = openSqliteState(path, { busyTimeoutMs: 0 });
      try {
        await assertRejects(
          () =>
            blocked.commitPage({
              runId: "r1",
              assetId: "Orders",
              partition: "",
              page: 1,
              cursorIn: null,
              cursorOut: "x",
              rows: 1,
              snapshot: "s",
              outputs: [],
              sha256: "h",
              done: false,
            }),
          StateError,
          "locked",
        );
      } finally {
        other.exec("ROLLBACK");
        other.close();
        await blocked.close();
      }
      assertEquals(await store.resumePoint("Orders", ""), undefined);
    } finally {
      await store.close();
    }
  });
});

Deno.test("sqlite: a state file from a newer Tidemark is refused with a clear message", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.sqlite");
    await openSqliteState(path).close();
    const db = new DatabaseSync(path);
    db.exec(`UPDATE schema_version SET version = ${STATE_SCHEMA_VERSION + 1}`);
    db.close();
    assertThrows(() => openSqliteState(path), StateError, "upgrade Tidemark");
  });
});

Deno.test("sqlite: a file that is not a database is refused naming the file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.sqlite");
    await Deno.writeTextFile(path, "this is not sqlite ".repeat(100));
    assertThrows(() => openSqliteState(path), StateError, path);
  });
});

Deno.test("sqlite: a missing folder is refused naming the path", () => {
  assertThrows(
    () => openSqliteState("/nonexistent-tidemark-dir/x/state.sqlite"),
    StateError,
    "/nonexistent-tidemark-dir/x/state.sqlite",
  );
});

Deno.test("sqlite: a batch holding an already committed page commits none of its pages", async () => {
  const store = openSqliteState(":memory:");
  try {
    await store.startRun({
      runId: "run-1",
      startedAt: "2026-01-01T10:00:00Z",
      configSha256: "c".repeat(64),
      command: "harvest",
      assets: ["Orders"],
    });
    const page = (n: number) => ({
      runId: "run-1",
      assetId: "Orders",
      partition: "",
      page: n,
      cursorIn: n === 1 ? null : String(n - 1),
      cursorOut: String(n),
      rows: 10,
      snapshot: `raw/Orders/run-1/0000${n}.json`,
      outputs: [],
      sha256: "a".repeat(64),
      done: false,
    });
    await store.commitPage(page(2));
    await assertRejects(
      () => store.commitPages([page(1), page(2), page(3)]),
      StateError,
      "page 2 of Orders in run run-1 is already committed",
    );
    assertEquals((await store.pendingPages("Orders")).map((p) => p.page), [2]);
  } finally {
    await store.close();
  }
});
