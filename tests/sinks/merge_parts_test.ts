/**
 * A merge rewrites only the parts holding a key the run brings: the others are carried into the
 * new generation unread (same inode, same bytes), new keys go to new parts (or join a small one), a part splits past
 * `partRows`, and an asset whose keys may repeat across parts, or whose columns change, is merged
 * whole; a run's new keys join their folder's smallest merged part that has room for them.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { join } from "node:path";
import { openSink } from "../../lib/sinks/mod.ts";
import {
  assetLayout,
  beginWrite,
  mergeByKey,
  type MergeOptions,
  parquetFiles,
  recoverAsset,
} from "../../lib/sinks/write_mode.ts";
import { polarsMergeEngine } from "../../lib/sinks/merge_polars.ts";
import type { MergeEngine } from "../../lib/sinks/merge_engine.ts";
import { mergeIntoGeneration } from "../../lib/sinks/merge_parts.ts";
import { jsMergeEngine } from "../../lib/sinks/merge_js.ts";
import { listFiles, parquetRows } from "./read_back.ts";
import { tempFolders } from "../temp_dir.ts";
import { castColumn } from "../../lib/sinks/column_types.ts";
import { writeParquetColumns } from "../../lib/sinks/parquet_js.ts";

const withDir = tempFolders("tidemark_merge_parts_");

type Row = Record<string, unknown>;

/** Stages `rows` as run `runId` of a merge asset and merges them. */
async function merge(
  asset: string,
  runId: string,
  rows: Row[],
  options: Partial<MergeOptions> = {},
) {
  const target = await beginWrite(asset, { mode: "merge", runId });
  const sink = await openSink(target, {
    format: "parquet",
    runId,
    partitionBy: options.partitionBy ?? [],
  });
  await sink.writeRows(rows);
  await sink.close();
  return await mergeByKey(asset, { runId, primaryKey: ["id"], partRows: 10, ...options });
}

/** Rows with ids `from..to`, `v` set to `value`. */
function rows(from: number, to: number, value: string, extra: Row = {}): Row[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, v: value, ...extra }));
}

/** Relative path → inode and bytes of each part of the asset. */
async function files(asset: string): Promise<Map<string, { ino: number; bytes: string }>> {
  const out = new Map<string, { ino: number; bytes: string }>();
  for (const file of await listFiles(asset)) {
    const path = join(asset, file);
    const bytes = new TextDecoder("latin1").decode(await Deno.readFile(path));
    out.set(file, { ino: (await Deno.stat(path)).ino ?? -1, bytes });
  }
  return out;
}

/** Every row of the asset as `id:v`, sorted by id. */
async function idsAndValues(asset: string): Promise<string[]> {
  return (await parquetFiles(asset)).flatMap((f) => parquetRows(f))
    .sort((a, b) => Number(a.id) - Number(b.id))
    .map((r) => `${r.id}:${r.v}`);
}

const PARTS = [1, 2, 3, 4].map((n) => `part-merged-0000${n}.parquet`);

Deno.test("a first merge writes parts of at most partRows rows, by key", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    const result = await merge(asset, "r1", rows(1, 40, "a").reverse());
    assertEquals(result.parts, PARTS);
    assertEquals(
      parquetRows(join(asset, PARTS[1])).map((r) => Number(r.id)),
      rows(11, 20, "").map((r) => r.id),
    );
  });
});

Deno.test("a change touching one part rewrites only that part; the others keep inode and bytes", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await merge(asset, "r1", rows(1, 40, "a"));
    const before = await files(asset);
    const result = await merge(asset, "r2", [{ id: 15, v: "b" }]);
    assertEquals(result.written, [PARTS[1]]);
    assertEquals(result.parts, PARTS);
    const after = await files(asset);
    for (const part of [PARTS[0], PARTS[2], PARTS[3]]) {
      assertEquals(after.get(part), before.get(part), `${part} carried unread`);
    }
    assert(after.get(PARTS[1])!.ino !== before.get(PARTS[1])!.ino);
    const values = await idsAndValues(asset);
    assertEquals(values.length, 40);
    assertEquals(values.filter((r) => r.endsWith(":b")), ["15:b"]);
    assertEquals((await listFiles(assetLayout(asset).generations)).length, 4, "one generation");
  });
});

Deno.test("new keys land in a new part and every existing part is carried", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await merge(asset, "r1", rows(1, 40, "a"));
    const before = await files(asset);
    const result = await merge(asset, "r2", rows(41, 43, "n"));
    assertEquals(result.written, ["part-merged-00005.parquet"]);
    assertEquals([result.rows, result.incoming], [43, 3]);
    const after = await files(asset);
    for (const part of PARTS) assertEquals(after.get(part), before.get(part));
    assertEquals(
      parquetRows(join(asset, "part-merged-00005.parquet")).map((r) => `${r.id}:${r.v}`),
      ["41:n", "42:n", "43:n"],
    );
  });
});

Deno.test("parts whose statistics rule out every changed key are not read at all", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await merge(asset, "r1", rows(1, 40, "a"));
    const staging = await beginWrite(asset, { mode: "merge", runId: "r2" });
    const sink = await openSink(staging, { format: "parquet", runId: "r2" });
    await sink.writeRows([{ id: 15, v: "b" }, { id: 99, v: "n" }]);
    await sink.close();
    const reads: string[] = [];
    const spy: MergeEngine<Awaited<ReturnType<typeof polarsMergeEngine.read>>> = {
      ...polarsMergeEngine,
      read(file, columns) {
        reads.push(
          `${file.startsWith(staging) ? "staged" : file.slice(asset.length + 1)}:${
            columns?.join(",") ?? "*"
          }`,
        );
        return polarsMergeEngine.read(file, columns);
      },
    };
    const generation = join(dir, "gen");
    await Deno.mkdir(generation);
    const result = await mergeIntoGeneration(spy, {
      asset,
      currentFiles: await parquetFiles(asset),
      incomingFiles: await parquetFiles(staging),
      generation,
    }, { primaryKey: ["id"], partRows: 10 });
    assertEquals(reads, ["staged:*", `${PARTS[1]}:id`, `${PARTS[1]}:*`]);
    assertEquals(result?.written, [PARTS[1], "part-merged-00005.parquet"]);
    assertEquals(result?.rows, 41);
  });
});

Deno.test("a run's row older than the asset's leaves its part carried; an equal one wins", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    const at = (id: number, v: string, updated: string) => ({ id, v, updated });
    const day1 = Array.from({ length: 20 }, (_, i) => at(i + 1, "a", "2026-01-02"));
    await merge(asset, "r1", day1, { orderBy: "updated" });
    const before = await files(asset);
    const stale = await merge(asset, "r2", [at(5, "stale", "2026-01-01")], { orderBy: "updated" });
    assertEquals(stale.written, []);
    assertEquals(await files(asset), before);
    const tie = await merge(asset, "r3", [at(5, "tie", "2026-01-02")], { orderBy: "updated" });
    assertEquals(tie.written, [PARTS[0]]);
    assertEquals((await idsAndValues(asset))[4], "5:tie");
  });
});

Deno.test("a rewritten part past partRows splits into parts beside it", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await merge(asset, "r1", rows(1, 40, "a"));
    const result = await merge(asset, "r2", [{ id: 3, v: "b" }], { partRows: 4 });
    assertEquals(result.written, [
      PARTS[0],
      "part-merged-00005.parquet",
      "part-merged-00006.parquet",
    ]);
    const sizes = result.written.map((p) => parquetRows(join(asset, p)).length);
    assertEquals(sizes, [4, 4, 2]);
    assertEquals((await idsAndValues(asset)).length, 40);
  });
});

Deno.test("a row changing partition moves to a new part; untouched partitions are carried", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    const partitionBy = ["status"];
    const day1 = [
      ...rows(1, 5, "a", { status: "new" }),
      ...rows(6, 10, "a", { status: "open" }),
      ...rows(11, 15, "a", { status: "shipped" }),
    ];
    await merge(asset, "r1", day1, { partitionBy });
    const before = await files(asset);
    const result = await merge(asset, "r2", [{ id: 3, v: "b", status: "shipped" }], {
      partitionBy,
    });
    assertEquals(result.written, [
      "status=new/part-merged-00001.parquet",
      "status=shipped/part-merged-00002.parquet",
    ]);
    const after = await files(asset);
    for (const part of ["status=open", "status=shipped"].map((s) => `${s}/${PARTS[0]}`)) {
      assertEquals(after.get(part), before.get(part));
    }
    const news = parquetRows(join(asset, "status=new", PARTS[0])).map((r) => Number(r.id));
    assertEquals(news, [1, 2, 4, 5]);
    assertEquals((await idsAndValues(asset)).length, 15);
  });
});

Deno.test("a run with a new column rewrites every part, so the asset keeps one schema", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await merge(asset, "r1", rows(1, 20, "a"));
    const result = await merge(asset, "r2", [{ id: 1, v: "b", note: "x" }]);
    assertEquals(result.written, [PARTS[0], PARTS[1]]);
    for (const part of result.parts) {
      assertEquals(Object.keys(parquetRows(join(asset, part))[0]).sort(), ["id", "note", "v"]);
    }
  });
});

Deno.test("an asset appended to before its first merge is merged whole, each key once", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    for (const [runId, batch] of [["a1", rows(1, 3, "a")], ["a2", rows(3, 5, "b")]] as const) {
      const sink = await openSink(await beginWrite(asset, { mode: "append", runId }), {
        format: "parquet",
        runId,
      });
      await sink.writeRows(batch);
      await sink.close();
    }
    await merge(asset, "r1", [{ id: 9, v: "n" }]);
    assertEquals(await idsAndValues(asset), ["1:a", "2:a", "3:b", "4:b", "5:b", "9:n"]);
  });
});

Deno.test("a run without one of the asset's columns rewrites only its parts; those cells are null", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await merge(asset, "r1", rows(1, 20, "a"));
    const before = await files(asset);
    const result = await merge(asset, "r2", [{ id: 5 }, { id: 21 }]);
    assertEquals(result.written, [PARTS[0], "part-merged-00003.parquet"]);
    assertEquals((await files(asset)).get(PARTS[1]), before.get(PARTS[1]));
    assertEquals(parquetRows(join(asset, "part-merged-00003.parquet")), [{ id: 21n, v: null }]);
    assertEquals((await idsAndValues(asset)).slice(3, 6), ["4:a", "5:null", "6:a"]);
  });
});

Deno.test("a run changing a column's type merges the whole asset, the type widened", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await merge(asset, "r1", rows(1, 20, "a"));
    const result = await merge(asset, "r2", [{ id: 5, v: 7 }]);
    assertEquals(result.written, [PARTS[0], PARTS[1]]);
    assertEquals((await idsAndValues(asset)).slice(3, 6), ["4:a", "5:7", "6:a"]);
    const types = result.parts.map((p) => typeof parquetRows(join(asset, p))[0].v);
    assertEquals(types, ["string", "string"]);
  });
});

/** Merge options that crash the merge once its new generation is written, before the switch. */
const crashOnceWritten = {
  onStep: (step: string) => {
    if (step === "generation-written") throw new Error("injected crash");
  },
};

Deno.test("a partial merge crashing before its switch leaves every part as it was", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await merge(asset, "r1", rows(1, 40, "a"));
    const before = await files(asset);
    await assertRejects(() => merge(asset, "r2", [{ id: 15, v: "b" }], crashOnceWritten));
    assertEquals(await files(asset), before, "the old generation, unchanged");
    await recoverAsset(asset);
    assertEquals(await files(asset), before, "dropping the new generation's links keeps the parts");
    await mergeByKey(asset, { runId: "r2", primaryKey: ["id"], partRows: 10 });
    assertEquals((await idsAndValues(asset))[14], "15:b");
    assertEquals((await files(asset)).get(PARTS[0]), before.get(PARTS[0]));
  });
});

Deno.test("an order column of microseconds decides by the microsecond", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    for (const [runId, v, at] of [["r1", "newer", "000002"], ["r2", "older", "000001"]]) {
      const staging = await beginWrite(asset, { mode: "merge", runId });
      await writeParquetColumns(
        [
          castColumn("id", [1], "int64"),
          castColumn("v", [v], "string"),
          castColumn("at", [`2026-01-01 00:00:00.${at}`], "timestamp"),
        ],
        1,
        join(staging, "part-00001.parquet"),
      );
      await mergeByKey(asset, { runId, primaryKey: ["id"], orderBy: "at" });
    }
    assertEquals(await idsAndValues(asset), ["1:newer"]);
  });
});

Deno.test("twenty merges of ten new keys each leave few parts per folder, every key once", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    const partitionBy = ["status"];
    const status = (id: number) => id % 2 === 0 ? "even" : "odd";
    for (let run = 1; run <= 20; run++) {
      const fresh = rows(run * 10 - 9, run * 10, `r${run}`).map((r) => ({
        ...r,
        status: status(Number(r.id)),
      }));
      // Each run also changes an existing key, so appending and rewriting meet in one merge.
      const changed = run > 1 ? [{ id: 1, v: `u${run}`, status: "odd" }] : [];
      await merge(asset, `r${run}`, [...fresh, ...changed], { partitionBy, partRows: 100 });
    }
    const parts = await parquetFiles(asset);
    for (const folder of ["status=even", "status=odd"]) {
      const count = parts.filter((p) => p.includes(folder)).length;
      assert(count >= 1 && count <= 3, `${folder} has ${count} parts`);
    }
    const expected = Array.from({ length: 200 }, (_, i) => i + 1)
      .map((id) => `${id}:${id === 1 ? "u20" : `r${Math.ceil(id / 10)}`}`);
    assertEquals(await idsAndValues(asset), expected);
  });
});

Deno.test("new keys join their folder's smallest part with room; a full folder gets a new part", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    const partitionBy = ["status"];
    const day1 = [...rows(1, 10, "a", { status: "full" }), ...rows(11, 14, "a", { status: "low" })];
    await merge(asset, "r1", day1, { partitionBy });
    await merge(asset, "r2", rows(15, 17, "b", { status: "low" }), { partitionBy });
    const before = await files(asset);
    assertEquals([...before.keys()].sort(), [
      "status=full/part-merged-00001.parquet",
      "status=low/part-merged-00001.parquet",
    ]);
    const result = await merge(asset, "r3", [
      ...rows(18, 19, "c", { status: "full" }),
      ...rows(20, 21, "c", { status: "low" }),
    ], { partitionBy });
    assertEquals(result.written, [
      "status=full/part-merged-00002.parquet",
      "status=low/part-merged-00001.parquet",
    ]);
    const after = await files(asset);
    const full = "status=full/part-merged-00001.parquet";
    assertEquals(after.get(full), before.get(full), "a full part is carried unread");
    const low = parquetRows(join(asset, "status=low", PARTS[0])).map((r) => `${r.id}:${r.v}`);
    assertEquals(low, ["11:a", "12:a", "13:a", "14:a", "15:b", "16:b", "17:b", "20:c", "21:c"]);
    assertEquals((await idsAndValues(asset)).length, 21);
  });
});

Deno.test("a merge appending to a part crashing before its switch leaves every part as it was", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await merge(asset, "r1", rows(1, 5, "a"));
    const before = await files(asset);
    await assertRejects(() => merge(asset, "r2", rows(6, 8, "n"), crashOnceWritten));
    assertEquals(await files(asset), before, "the old generation, unchanged");
    await recoverAsset(asset);
    assertEquals(await files(asset), before);
    const result = await mergeByKey(asset, { runId: "r2", primaryKey: ["id"], partRows: 10 });
    assertEquals(result.parts, [PARTS[0]]);
    assertEquals((await idsAndValues(asset)).length, 8);
  });
});

Deno.test("the no-FFI engine appends new keys to a small part the same way", async () => {
  await withDir(async (dir) => {
    // Written by the pure-JS engine throughout: it does not read polars' zstd parts back.
    const stage = async (name: string, ids: number[], values: string[]) => {
      const file = join(dir, name, "part-00001.parquet");
      await Deno.mkdir(join(dir, name));
      const columns = [castColumn("id", ids, "int64"), castColumn("v", values, "string")];
      await writeParquetColumns(columns, ids.length, file);
      return file;
    };
    const spec = { primaryKey: ["id"], partRows: 10 };
    const first = join(dir, "gen1");
    await Deno.mkdir(first);
    const r1 = await stage("r1", [1, 2, 3], ["a", "a", "a"]);
    await mergeIntoGeneration(jsMergeEngine, {
      asset: first,
      currentFiles: [],
      incomingFiles: [r1],
      generation: first,
    }, spec);
    const second = join(dir, "gen2");
    await Deno.mkdir(second);
    const r2 = await stage("r2", [6, 7, 6], ["n", "n", "later"]);
    const result = await mergeIntoGeneration(jsMergeEngine, {
      asset: first,
      currentFiles: await parquetFiles(first),
      incomingFiles: [r2],
      generation: second,
    }, spec);
    assertEquals(result?.written, [PARTS[0]]);
    const merged = parquetRows(join(second, PARTS[0])).map((r) => `${r.id}:${r.v}`);
    assertEquals(merged, ["1:a", "2:a", "3:a", "6:later", "7:n"]);
  });
});

Deno.test("new keys without one of the asset's columns join a small part with those cells null", async () => {
  await withDir(async (dir) => {
    const asset = join(dir, "Orders");
    await merge(asset, "r1", rows(1, 3, "a"));
    const result = await merge(asset, "r2", [{ id: 4 }]);
    assertEquals(result.written, [PARTS[0]]);
    assertEquals(await idsAndValues(asset), ["1:a", "2:a", "3:a", "4:null"]);
    assertEquals(Object.keys(parquetRows(join(asset, PARTS[0]))[3]).sort(), ["id", "v"]);
  });
});
