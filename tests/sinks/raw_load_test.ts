import { assertEquals, assertRejects } from "../assert.ts";
import { createHash } from "node:crypto";
import { openSink } from "../../lib/sinks/mod.ts";
import { canonicalJson } from "../../lib/core/json_text.ts";
import { ContractError } from "../../lib/core/errors.ts";
import { parquetDtypes, parquetRows } from "./read_back.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark_raw_");

const loadTime = new Date("2026-11-23T10:15:00Z");

Deno.test("raw-load rows hold id, dl_inserted_at, canonical payload and its sha256", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, {
      format: "raw",
      runId: "r1",
      loadTime,
      partitionBy: ["load_date", "load_time"],
    });
    const records = [
      { title: { rendered: "Hello" }, id: 42, modified: "2026-01-01T00:00:00" },
      { id: 43, title: { rendered: "Ünï" }, modified: null },
    ];
    const [part] = await sink.writeRows(records);
    await sink.close();
    assertEquals(part.relativePath, "load_date=2026-11-23/load_time=101500/part-r1-00001.parquet");
    assertEquals(parquetDtypes(part.path), {
      id: "Int64",
      dl_inserted_at: "Datetime(ms,UTC)",
      payload: "String",
      dl_hash: "String",
    });
    const payload0 = '{"id":42,"modified":"2026-01-01T00:00:00","title":{"rendered":"Hello"}}';
    const rows = parquetRows(part.path);
    assertEquals(rows[0], {
      id: 42n,
      dl_inserted_at: loadTime,
      payload: payload0,
      dl_hash: createHash("sha256").update(payload0).digest("hex"),
    });
    assertEquals(JSON.parse(rows[1].payload as string), records[1]);
    assertEquals(rows[1].payload, canonicalJson(records[1]));
  });
});

Deno.test("raw-load payloads of equal records hash equal whatever their key order", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "raw", runId: "r1", loadTime });
    const [part] = await sink.writeRows([{ id: 1, a: 1, b: 2 }, { b: 2, a: 1, id: 1 }]);
    await sink.close();
    const [x, y] = parquetRows(part.path);
    assertEquals(x.dl_hash, y.dl_hash);
  });
});

Deno.test("raw-load takes the id from idField and columns write the same rows", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "raw", runId: "r1", loadTime, idField: "slug" });
    const [part] = await sink.writeColumns({ slug: ["a", "b"], n: [1, 2] }, 2);
    await sink.close();
    assertEquals(parquetRows(part.path).map((r) => [r.id, r.payload]), [
      ["a", '{"n":1,"slug":"a"}'],
      ["b", '{"n":2,"slug":"b"}'],
    ]);
  });
});

Deno.test("a raw-load record without its id field is an error naming the field", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "raw", runId: "r1", loadTime });
    await assertRejects(() => sink.writeRows([{ name: "x" }]), ContractError, '"id"');
    await sink.close();
  });
});
