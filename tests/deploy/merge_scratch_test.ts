/**
 * A merge in Deploy's in-memory scratch folder, where hard links are refused: the parts it
 * carries are copied, and the merge gives the rows it gives on disk.
 */
import { join } from "node:path";
import { assertEquals } from "../assert.ts";
import { acquireScratchFs, SCRATCH_ROOT } from "../../lib/deploy/fs_overlay.ts";
import { castColumn } from "../../lib/sinks/column_types.ts";
import { forceParquetEngine } from "../../lib/sinks/ffi.ts";
import { readParquetColumns, writeParquetColumns } from "../../lib/sinks/parquet_js.ts";
import { beginWrite, mergeByKey, parquetFiles } from "../../lib/sinks/write_mode.ts";

Deno.test("a merge in the memory scratch folder copies the parts it carries", async () => {
  using _scratch = acquireScratchFs();
  forceParquetEngine("js");
  try {
    const asset = join(SCRATCH_ROOT, "merge-test", "parquet", "Orders");
    const runs = [["r1", 0, 30, "a"], ["r2", 25, 32, "b"]] as const;
    const results = [];
    for (const [run, from, to, value] of runs) {
      const staging = await beginWrite(asset, { mode: "merge", runId: run });
      const ids = Array.from({ length: to - from }, (_, i) => from + i);
      await writeParquetColumns(
        [castColumn("id", ids, "int64"), castColumn("v", ids.map(() => value), "string")],
        ids.length,
        join(staging, "part-00001.parquet"),
      );
      results.push(await mergeByKey(asset, { runId: run, primaryKey: ["id"], partRows: 10 }));
    }
    const parts = ["part-merged-00001.parquet", "part-merged-00002.parquet"];
    assertEquals(results[1].written, ["part-merged-00003.parquet", "part-merged-00004.parquet"]);
    assertEquals(results[1].parts, [...parts, ...results[1].written]);
    const values: string[] = [];
    for (const file of await parquetFiles(asset)) {
      const read = await readParquetColumns(file);
      const [id, v] = read.columns;
      for (let i = 0; i < read.length; i++) values.push(`${id.values[i]}:${v.values[i]}`);
    }
    assertEquals(values.length, 32);
    assertEquals(values.filter((x) => x.endsWith(":b")).length, 7);
  } finally {
    forceParquetEngine(undefined);
  }
});
