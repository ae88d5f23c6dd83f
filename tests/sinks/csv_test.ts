import { assert, assertEquals, assertRejects } from "../assert.ts";
import { parse } from "csv-parse/sync";
import { openSink } from "../../lib/sinks/mod.ts";
import { ContractError } from "../../lib/core/errors.ts";
import { listFiles } from "./read_back.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark_csv_");

const tricky = [
  { id: 1, text: "plain", price: 1.5, ok: true },
  { id: 2, text: "comma, inside", price: 2, ok: false },
  { id: 3, text: 'quote " inside', price: null, ok: null },
  { id: 4, text: "line\nbreak and\r\nCRLF", price: -0.25, ok: true },
  { id: 5, text: "Ünïcødé — 東京 🚀", price: 1e-7, ok: false },
  { id: 6, text: "", price: 0, ok: true },
  { id: 7, text: null, price: 3, ok: true },
];

Deno.test("csv with commas, quotes, newlines and non-ASCII round-trips through csv-parse", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "csv", runId: "r1" });
    await sink.writeRows(tricky.slice(0, 3));
    await sink.writeRows(tricky.slice(3));
    await sink.close();
    const [part] = sink.parts;
    const records = parse(await Deno.readTextFile(part.path), { columns: true });
    assertEquals(
      records,
      tricky.map((r) => ({
        id: String(r.id),
        text: r.text ?? "",
        price: r.price === null ? "" : String(r.price),
        ok: r.ok === null ? "" : String(r.ok),
      })),
    );
  });
});

Deno.test("csv writes the header once and CRLF after every record by default", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "csv", runId: "r1" });
    await sink.writeRows([{ a: 1, b: "x" }]);
    await sink.writeRows([{ a: 2, b: "y" }]);
    await sink.close();
    assertEquals(await Deno.readTextFile(sink.parts[0].path), "a,b\r\n1,x\r\n2,y\r\n");
  });
});

Deno.test("csv with lineEnding lf uses LF throughout", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "csv", runId: "r1", lineEnding: "lf" });
    await sink.writeRows([{ a: 1 }, { a: 2 }]);
    await sink.close();
    assertEquals(await Deno.readTextFile(sink.parts[0].path), "a\n1\n2\n");
  });
});

Deno.test("csv null is an empty field, the empty string a quoted empty field", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "csv", runId: "r1", lineEnding: "lf" });
    await sink.writeRows([{ a: null, b: "" }]);
    await sink.close();
    assertEquals(await Deno.readTextFile(sink.parts[0].path), 'a,b\n,""\n');
  });
});

Deno.test("csv renders dates, timestamps, big ids and json columns as text", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, {
      format: "csv",
      runId: "r1",
      lineEnding: "lf",
      columns: { d: "date" },
    });
    await sink.writeRows([{
      id: 2n ** 60n,
      d: "1996-07-04 00:00:00.000",
      t: new Date("2026-01-01T10:00:03.120Z"),
      j: { k: [1, "a,b"] },
    }]);
    await sink.close();
    assertEquals(
      await Deno.readTextFile(sink.parts[0].path),
      'd,id,t,j\n1996-07-04,1152921504606846976,2026-01-01T10:00:03.120Z,"{""k"":[1,""a,b""]}"\n',
    );
  });
});

Deno.test("csv is written under a temporary name and renamed into place on close", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "csv", runId: "r1" });
    const [chunk] = await sink.writeRows([{ a: 1 }]);
    assertEquals(chunk.complete, false);
    assertEquals(chunk.relativePath, "part-r1-00001.csv");
    const before = await listFiles(dir);
    assertEquals(before.length, 1);
    assert(before[0].endsWith(".tmp"), before[0]);
    assertEquals(sink.parts, []);
    await sink.close();
    assertEquals(await listFiles(dir), ["part-r1-00001.csv"]);
  });
});

Deno.test("csv keeps one file per partition, appended across batches", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, {
      format: "csv",
      runId: "r1",
      partitionBy: ["country"],
      lineEnding: "lf",
    });
    await sink.writeRows([{ id: 1, country: "FR" }, { id: 2, country: "US" }], { key: "p1" });
    await sink.writeRows([{ id: 3, country: "US" }], { key: "p2" });
    await sink.close();
    assertEquals(await listFiles(dir), ["country=FR/part-r1-p1.csv", "country=US/part-r1-p1.csv"]);
    assertEquals(
      await Deno.readTextFile(`${dir}/country=US/part-r1-p1.csv`),
      "id,country\n2,US\n3,US\n",
    );
    const us = sink.parts.find((p) => p.partition.country === "US")!;
    assertEquals([us.rows, us.complete], [2, true]);
  });
});

Deno.test("the closed csv file's sha256 and size cover the whole file", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "csv", runId: "r1" });
    await sink.writeRows([{ a: "x" }]);
    await sink.writeRows([{ a: "y" }]);
    await sink.close();
    const [part] = sink.parts;
    const data = await Deno.readFile(part.path);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    assertEquals(part.bytes, data.length);
    assertEquals(part.sha256, Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
  });
});

Deno.test("a csv column first seen after the header was written is an error naming it", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "csv", runId: "r1" });
    await sink.writeRows([{ a: 1 }]);
    await assertRejects(() => sink.writeRows([{ a: 2, late: "x" }]), ContractError, '"late"');
    await sink.close();
  });
});

Deno.test("aborting a csv sink removes its temporary files", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(dir, { format: "csv", runId: "r1" });
    await sink.writeRows([{ a: 1 }]);
    await sink.abort();
    assertEquals(await listFiles(dir), []);
  });
});
