import { assert, assertEquals, assertRejects } from "../assert.ts";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { openSink } from "../../lib/sinks/mod.ts";
import {
  assetLayout,
  beginWrite,
  commitReplace,
  mergeByKey,
  parquetFiles,
  recoverAsset,
  type SwitchStep,
  type WriteMode,
} from "../../lib/sinks/write_mode.ts";
import { ContractError } from "../../lib/core/errors.ts";
import { listFiles, parquetRows } from "./read_back.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark_mode_");

/** Runs one "harvest" of `rows` into the asset with `mode` (without finishing merge/replace). */
async function stage(
  asset: string,
  runId: string,
  rows: Record<string, unknown>[],
  mode: WriteMode,
  partitionBy: string[] = [],
): Promise<void> {
  const target = await beginWrite(asset, { mode, runId });
  const sink = await openSink(target, { format: "parquet", runId, partitionBy });
  await sink.writeRows(rows);
  await sink.close();
}

/** Every row of the asset, sorted by id, with Int64 as numbers for readability. */
async function assetRows(asset: string): Promise<Record<string, unknown>[]> {
  const rows = (await parquetFiles(asset)).flatMap((f) => parquetRows(f));
  return rows
    .map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]),
      )
    )
    .sort((a, b) => (a.id as number) - (b.id as number));
}

/** Relative path → sha256 of every file under the asset. */
async function fingerprint(asset: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of await listFiles(asset)) {
    out[file] = createHash("sha256").update(await Deno.readFile(join(asset, file))).digest("hex");
  }
  return out;
}

const day1 = [
  { id: 1, status: "new", updated: "2026-01-01" },
  { id: 2, status: "new", updated: "2026-01-01" },
];
const day2 = [
  { id: 2, status: "shipped", updated: "2026-01-02" },
  { id: 3, status: "new", updated: "2026-01-02" },
];

Deno.test("append keeps the parts of every run", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await stage(asset, "r1", day1, "append");
    await stage(asset, "r2", day2, "append");
    assertEquals((await assetRows(asset)).map((r) => r.id), [1, 2, 2, 3]);
  });
});

Deno.test("replace swaps the asset to the run's rows only at commit", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await stage(asset, "r1", day1, "append");
    await stage(asset, "r2", day2, "replace");
    assertEquals((await assetRows(asset)).map((r) => r.id), [1, 2]);
    await commitReplace(asset, { runId: "r2" });
    assertEquals((await assetRows(asset)).map((r) => r.id), [2, 3]);
    assert((await Deno.lstat(asset)).isSymlink);
    const layout = assetLayout(asset);
    assertEquals(await listFiles(layout.generations).then((f) => f.length), 1);
    assertEquals(await listFiles(layout.staging), []);
  });
});

Deno.test("merge keeps one row per key, the newest by the order field", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await stage(asset, "r1", day1, "merge");
    await mergeByKey(asset, { runId: "r1", primaryKey: ["id"], orderBy: "updated" });
    // A late batch carrying an older version of id 2 must not win over the newer one.
    await stage(asset, "r2", [...day2, { id: 1, status: "stale", updated: "2025-12-31" }], "merge");
    const result = await mergeByKey(asset, { runId: "r2", primaryKey: ["id"], orderBy: "updated" });
    assertEquals(await assetRows(asset), [
      { id: 1, status: "new", updated: "2026-01-01" },
      { id: 2, status: "shipped", updated: "2026-01-02" },
      { id: 3, status: "new", updated: "2026-01-02" },
    ]);
    assertEquals([result.rows, result.incoming], [3, 3]);
  });
});

Deno.test("merge of a run that staged no row keeps the asset's generation as it is", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await stage(asset, "r1", day1, "merge");
    await mergeByKey(asset, { runId: "r1", primaryKey: ["id"], orderBy: "updated" });
    const before = await Deno.readLink(asset);
    await beginWrite(asset, { mode: "merge", runId: "r2" });
    const result = await mergeByKey(asset, { runId: "r2", primaryKey: ["id"], orderBy: "updated" });
    assertEquals([result.rows, result.incoming, result.parts], [null, 0, []]);
    assertEquals(await Deno.readLink(asset), before, "no new generation");
    assertEquals((await assetRows(asset)).length, day1.length);
    assertEquals(await listFiles(assetLayout(asset).staging), [], "the run's staging is gone");
  });
});

Deno.test("merge without an order field lets the latest run win", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await stage(asset, "r1", [{ id: 1, v: "a" }], "append");
    await stage(asset, "r2", [{ id: 1, v: "b" }, { id: 1, v: "c" }], "merge");
    await mergeByKey(asset, { runId: "r2", primaryKey: ["id"] });
    assertEquals(await assetRows(asset), [{ id: 1, v: "c" }]);
  });
});

Deno.test("running the same merge twice changes nothing", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await stage(asset, "r1", day1, "merge", ["status"]);
    await mergeByKey(asset, { runId: "r1", primaryKey: ["id"], partitionBy: ["status"] });
    await stage(asset, "r2", day2, "merge", ["status"]);
    await mergeByKey(asset, { runId: "r2", primaryKey: ["id"], partitionBy: ["status"] });
    const once = await fingerprint(asset);
    const rowsOnce = await assetRows(asset);
    await stage(asset, "r3", day2, "merge", ["status"]);
    await mergeByKey(asset, { runId: "r3", primaryKey: ["id"], partitionBy: ["status"] });
    assertEquals(await fingerprint(asset), once);
    assertEquals(await assetRows(asset), rowsOnce);
    // r2's new key 3 went to a new part of status=new; id 2 moved to a new part of its new
    // partition, status=shipped.
    assertEquals(Object.keys(once), [
      "status=new/part-merged-00001.parquet",
      "status=new/part-merged-00002.parquet",
      "status=shipped/part-merged-00001.parquet",
    ]);
  });
});

Deno.test("merge refuses rows whose key is null", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await stage(asset, "r1", [{ id: null, v: 1 }, { id: 2, v: 1 }], "merge");
    await assertRejects(
      () => mergeByKey(asset, { runId: "r1", primaryKey: ["id"] }),
      ContractError,
      'null "id"',
    );
    assertEquals(await listFiles(assetLayout(asset).generations).catch(() => []), []);
  });
});

for (const step of ["converted", "generation-written", "switched", "cleaned"] as SwitchStep[]) {
  Deno.test(`a merge failing after "${step}" leaves a readable asset and completes on re-run`, async () => {
    await withDir(async (dir) => {
      const asset = join(dir, "Orders");
      await stage(asset, "r1", day1, "append");
      await stage(asset, "r2", day2, "merge");
      const crash = new Error(`injected crash after ${step}`);
      await assertRejects(() =>
        mergeByKey(asset, {
          runId: "r2",
          primaryKey: ["id"],
          orderBy: "updated",
          onStep: (s) => {
            if (s === step) throw crash;
          },
        })
      );
      const visible = (await assetRows(asset)).map((r) => `${r.id}:${r.status}`);
      const before = ["1:new", "2:new"], after = ["1:new", "2:shipped", "3:new"];
      assertEquals(visible, step === "switched" || step === "cleaned" ? after : before);
      await recoverAsset(asset);
      await mergeByKey(asset, { runId: "r2", primaryKey: ["id"], orderBy: "updated" });
      assertEquals((await assetRows(asset)).map((r) => `${r.id}:${r.status}`), after);
      assertEquals((await listFiles(assetLayout(asset).generations)).length, 1);
    });
  });
}

Deno.test("a replace crashing before its switch gives the run its staged parts back", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await stage(asset, "r1", day1, "append");
    await stage(asset, "r2", day2, "replace");
    await assertRejects(() =>
      commitReplace(asset, {
        runId: "r2",
        onStep: (s) => {
          if (s === "generation-written") throw new Error("crash");
        },
      })
    );
    assertEquals((await assetRows(asset)).map((r) => r.id), [1, 2]);
    await recoverAsset(asset);
    assertEquals((await listFiles(join(assetLayout(asset).staging, "r2"))).length, 1);
    await commitReplace(asset, { runId: "r2" });
    assertEquals((await assetRows(asset)).map((r) => r.id), [2, 3]);
  });
});

const MERGE_CHILD = `
import { mergeByKey } from "${new URL("../../lib/sinks/write_mode.ts", import.meta.url).href}";
const [asset] = Deno.args;
await mergeByKey(asset, {
  runId: "r2",
  primaryKey: ["id"],
  orderBy: "updated",
  onStep: async (step) => {
    if (step !== "generation-written") return;
    await Deno.stdout.write(new TextEncoder().encode("ready\\n"));
    await new Promise(() => {}); // hold here until killed
  },
});
`;

Deno.test("a merge process killed mid-merge leaves the previous version readable", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await stage(asset, "r1", day1, "append");
    await stage(asset, "r2", day2, "merge");
    const script = join(dir, "merge_child.ts");
    await Deno.writeTextFile(script, MERGE_CHILD);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-ffi",
        "--allow-env",
        "--allow-sys",
        "--quiet",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        script,
        asset,
      ],
      cwd: Deno.cwd(),
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assertEquals(new TextDecoder().decode(value), "ready\n");
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    assertEquals((await assetRows(asset)).map((r) => `${r.id}:${r.status}`), ["1:new", "2:new"]);
    await mergeByKey(asset, { runId: "r2", primaryKey: ["id"], orderBy: "updated" });
    assertEquals((await assetRows(asset)).map((r) => `${r.id}:${r.status}`), [
      "1:new",
      "2:shipped",
      "3:new",
    ]);
  });
});
