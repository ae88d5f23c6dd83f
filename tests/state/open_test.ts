import { join } from "node:path";
import { StateError } from "../../lib/core/errors.ts";
import { openStateStore, stateLocation } from "../../lib/state/mod.ts";
import { assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark-open-");

Deno.test("state location: sqlite in the out folder by default, kv beside it, path wins", () => {
  assertEquals(stateLocation({}, { out: "out" }), { backend: "sqlite", path: "out/state.sqlite" });
  assertEquals(stateLocation({ backend: "kv" }, { out: "out" }), {
    backend: "kv",
    path: "out/state.kv",
  });
  assertEquals(stateLocation({ backend: "sqlite", path: "s.db" }, { out: "out" }), {
    backend: "sqlite",
    path: "s.db",
  });
});

Deno.test("state location: kv with object-storage output uses the default KV database", () => {
  assertEquals(stateLocation({ backend: "kv" }, { out: "s3://bucket/prefix" }), {
    backend: "kv",
    path: undefined,
  });
});

Deno.test("state location: sqlite without a local folder or path is refused with the fix", () => {
  assertThrows(
    () => stateLocation({}, { out: "s3://bucket/prefix" }),
    StateError,
    "set state.path, or state.backend: kv",
  );
});

Deno.test("openStateStore opens the backend the spec names, in the out folder", async () => {
  await withDir(async (dir) => {
    for (const backend of ["sqlite", "kv"] as const) {
      const store = await openStateStore({ backend }, { out: dir });
      await store.setWatermark({ assetId: backend, lastId: "1" });
      await store.close();
    }
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names.filter((n) => n === "state.sqlite" || n === "state.kv").sort(), [
      "state.kv",
      "state.sqlite",
    ]);
    const kv = await openStateStore({ backend: "kv" }, { out: dir, create: false });
    assertEquals((await kv.listWatermarks()).map((w) => w.assetId), ["kv"]);
    await kv.close();
  });
});

Deno.test("openStateStore with create: false refuses a missing state and creates nothing", async () => {
  await withDir(async (dir) => {
    await assertRejects(
      () => openStateStore({}, { out: dir, create: false }),
      StateError,
      `no sqlite state at ${join(dir, "state.sqlite")}`,
    );
    assertEquals([...Deno.readDirSync(dir)], []);
  });
});
