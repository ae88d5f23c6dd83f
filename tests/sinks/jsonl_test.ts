import { assertEquals } from "../assert.ts";
import { openSink } from "../../lib/sinks/mod.ts";
import { listFiles } from "./read_back.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark_jsonl_");

Deno.test("jsonl lines parse back to the input rows", async () => {
  await withDir(async (dir) => {
    const rows = [
      { id: 1, name: 'quote " and \n newline', price: 1.25, ok: true, tags: ["a", { b: 1 }] },
      { id: 2, name: "東京", price: null, ok: false, tags: null },
    ];
    const sink = await openSink(dir, { format: "jsonl", runId: "r1" });
    await sink.writeRows(rows.slice(0, 1));
    await sink.writeRows(rows.slice(1));
    await sink.close();
    const lines = (await Deno.readTextFile(sink.parts[0].path)).trimEnd().split("\n");
    assertEquals(lines.map((l) => JSON.parse(l)), rows);
  });
});

Deno.test("jsonl keeps int64 above 2^53 exact and writes dates as ISO text", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, {
      format: "jsonl",
      runId: "r1",
      columns: { day: "date" },
    });
    await sink.writeRows([{
      id: 2n ** 60n + 1n,
      at: new Date("2026-01-01T10:00:03.120Z"),
      day: "1996-07-04",
    }]);
    await sink.close();
    assertEquals(
      await Deno.readTextFile(sink.parts[0].path),
      '{"day":"1996-07-04","id":1152921504606846977,"at":"2026-01-01T10:00:03.120Z"}\n',
    );
  });
});

Deno.test("jsonl writes every schema column, null where a record lacks it", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "jsonl", runId: "r1" });
    await sink.writeRows([{ a: 1, b: "x" }]);
    await sink.writeRows([{ a: 2, c: true }]);
    await sink.close();
    assertEquals(
      await Deno.readTextFile(sink.parts[0].path),
      '{"a":1,"b":"x"}\n{"a":2,"b":null,"c":true}\n',
    );
  });
});

Deno.test("jsonl keeps one file per partition and renames it into place on close", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, {
      format: "jsonl",
      runId: "r1",
      partitionBy: ["year(at)"],
    });
    await sink.writeRows([{ at: "1996-01-01" }, { at: "1997-01-01" }]);
    await sink.writeRows([{ at: "1997-06-01" }]);
    assertEquals((await listFiles(dir, ".jsonl")).length, 0);
    await sink.close();
    assertEquals(await listFiles(dir), [
      "year=1996/part-r1-00001.jsonl",
      "year=1997/part-r1-00001.jsonl",
    ]);
    assertEquals(sink.parts.map((p) => p.rows), [1, 2]);
  });
});
