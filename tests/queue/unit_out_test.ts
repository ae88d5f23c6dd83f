/**
 * A unit's out in object storage: what the engine writes reaches the bucket before the state
 * claims it, and an attempt that lost its unit (its lease expired while it stalled) uploads and
 * commits nothing more.
 */
import { join } from "node:path";
import { openSqliteState } from "../../lib/state/sqlite.ts";
import { openUnitOut } from "../../lib/queue/unit_out.ts";
import { assertEquals, assertRejects } from "../assert.ts";
import { memoryBucket } from "../deploy/memory_bucket.ts";

const page = {
  runId: "r1",
  assetId: "Orders",
  partition: "",
  page: 1,
  cursorIn: null,
  cursorOut: null,
  rows: 1,
  snapshot: "raw/Orders/r1/00001.json",
  outputs: [],
  sha256: "0".repeat(64),
  done: true,
};

const run = {
  runId: "r1",
  startedAt: "2026-12-04T00:00:00.000Z",
  configSha256: "",
  command: "harvest",
  assets: ["Orders"],
};

Deno.test("a unit's files reach the bucket before its state commits them", async () => {
  const bucket = memoryBucket();
  await using unit = await openUnitOut(
    "s3://lake/run",
    "units/Orders",
    openSqliteState(":memory:"),
    {
      openBucket: () => bucket,
    },
  );
  await unit.state.startRun(run);
  await Deno.mkdir(join(unit.dir, "raw/Orders/r1"), { recursive: true });
  await Deno.writeTextFile(join(unit.dir, "raw/Orders/r1/00001.json"), "{}");
  await unit.state.commitPage(page);
  assertEquals((await bucket.list()).map((o) => o.path), [
    "units/Orders/raw/Orders/r1/00001.json",
  ]);
});

Deno.test("an attempt that lost its unit uploads and commits nothing more", async () => {
  const bucket = memoryBucket();
  const state = openSqliteState(":memory:");
  let holds = true;
  await using unit = await openUnitOut("s3://lake/run", "units/Orders", state, {
    openBucket: () => bucket,
    fence: () => holds ? Promise.resolve() : Promise.reject(new Error("unit taken")),
  });
  await unit.state.startRun(run);
  holds = false;
  await Deno.mkdir(join(unit.dir, "raw/Orders/r1"), { recursive: true });
  await Deno.writeTextFile(join(unit.dir, "raw/Orders/r1/00001.json"), "{}");
  await assertRejects(() => unit.state.commitPage(page), Error, "unit taken");
  await assertRejects(() => unit.finish(), Error, "unit taken");
  assertEquals(await bucket.list(), []);
  assertEquals(await state.resumePoint("Orders", ""), undefined);
});
