/**
 * The TypeScript Parquet encoder of column vectors, read back by polars: every type with and
 * without nulls, dictionary-encoded text, decimals of every physical width, integers beyond
 * 2^53, row groups and codecs; and which writer a sink gives column vectors.
 */
import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import pl from "nodejs-polars";
import zlib from "node:zlib";
import {
  encodeParquet,
  encodeParquetPiecesPausing,
  encodeParquetPiecesWith,
  synchronousCompressor,
} from "../../lib/sinks/parquet_encode.ts";
import type { VectorColumn } from "../../lib/sinks/vectors.ts";
import { concatBytes } from "../../lib/core/bytes.ts";
import { parquetDtypes, parquetRows } from "./read_back.ts";
import { readParquetFooter } from "./parquet_footer.ts";
import { tempFolders } from "../temp_dir.ts";
import { openSink } from "../../lib/sinks/mod.ts";
import { listFiles } from "./read_back.ts";

const withDir = tempFolders("tidemark-parquet-encode-");

function columns(): VectorColumn[] {
  return [
    {
      name: "i",
      type: "int64",
      values: Float64Array.of(1, -2, 0, 2 ** 53 - 1),
      valid: Uint8Array.of(1, 1, 0, 1),
    },
    {
      name: "big",
      type: "int64",
      values: BigInt64Array.of(2n ** 62n, -(2n ** 63n), 0n, 5n),
      valid: null,
    },
    {
      name: "f",
      type: "float64",
      values: Float64Array.of(1.5, -0.25, 1e300, 0),
      valid: Uint8Array.of(1, 1, 1, 0),
    },
    {
      name: "b",
      type: "boolean",
      values: Uint8Array.of(1, 0, 0, 1),
      valid: Uint8Array.of(1, 1, 0, 1),
    },
    { name: "d", type: "date", values: Int32Array.of(9681, -1, 0, 2932896), valid: null },
    {
      name: "ts",
      type: "timestamp",
      values: Float64Array.of(1, 2, 3, 4),
      valid: Uint8Array.of(0, 1, 1, 1),
    },
    { name: "tz", type: "timestamp_tz", values: Float64Array.of(0, 1e6, 2e6, 3e6), valid: null },
    { name: "ms", type: "datetime", values: Float64Array.of(0, 1000, 2000, 3000), valid: null },
    {
      name: "s",
      type: "string",
      values: ["a", null, "héllo wörld, a longer string", ""],
      valid: null,
    },
    {
      name: "dict",
      type: "string",
      values: { codes: Uint32Array.of(2, 0, 1, 2), dict: ["France", "Brazil"] },
      valid: null,
    },
    { name: "json", type: "json", values: ['{"a":1}', null, "[]", "null"], valid: null },
    {
      name: "d9",
      type: "decimal(9,2)",
      values: ["1.50", "-2.25", null, "9999999.99"],
      valid: null,
    },
    {
      name: "d18",
      type: "decimal(18,4)",
      values: { codes: Uint32Array.of(1, 2, 0, 1), dict: ["12345678901234.5678", "-0.0001"] },
      valid: null,
    },
    {
      name: "d38",
      type: "decimal(38,6)",
      values: ["12345678901234567890123456789012.123456", "-1.000000", null, "0.000000"],
      valid: null,
    },
  ];
}

for (const compression of ["zstd", "none"] as const) {
  Deno.test(`${compression}: every type reads back from polars with its values and dtype`, async () => {
    await withDir(async (dir) => {
      const path = join(dir, "all.parquet");
      await Deno.writeFile(path, encodeParquet(columns(), 4, { compression }));
      assertEquals(parquetDtypes(path), {
        i: "Int64",
        big: "Int64",
        f: "Float64",
        b: "Bool",
        d: "Date",
        ts: "Datetime(us,)",
        tz: "Datetime(us,UTC)",
        ms: "Datetime(ms,UTC)",
        s: "String",
        dict: "String",
        json: "String",
        d9: "Decimal(9,2)",
        d18: "Decimal(18,4)",
        d38: "Decimal(38,6)",
      });
      const rows = parquetRows(path);
      assertEquals(rows.map((r) => r.i), [1n, -2n, null, 2n ** 53n - 1n]);
      assertEquals(rows.map((r) => r.big), [2n ** 62n, -(2n ** 63n), 0n, 5n]);
      assertEquals(rows.map((r) => r.f), [1.5, -0.25, 1e300, null]);
      assertEquals(rows.map((r) => r.b), [true, false, null, true]);
      assertEquals(rows.map((r) => r.s), ["a", null, "héllo wörld, a longer string", ""]);
      assertEquals(rows.map((r) => r.dict), ["Brazil", null, "France", "Brazil"]);
      assertEquals(rows.map((r) => r.json), ['{"a":1}', null, "[]", "null"]);
      assertEquals(rows.map((r) => r.d9), ["1.50", "-2.25", null, "9999999.99"]);
      assertEquals(rows.map((r) => r.d18), [
        "12345678901234.5678",
        "-0.0001",
        null,
        "12345678901234.5678",
      ]);
      assertEquals(rows.map((r) => r.d38), [
        "12345678901234567890123456789012.123456",
        "-1.000000",
        null,
        "0.000000",
      ]);
      const text = pl.readParquet(path).select(
        pl.col("d").cast(pl.Utf8),
        pl.col("ts").cast(pl.Int64),
        pl.col("tz").cast(pl.Int64),
        pl.col("ms").cast(pl.Int64),
      ).toRecords();
      assertEquals(text.map((r) => r.d), ["1996-07-04", "1969-12-31", "1970-01-01", "9999-12-31"]);
      assertEquals(text.map((r) => r.ts), [null, 2, 3, 4]);
      assertEquals(text.map((r) => r.tz), [0, 1e6, 2e6, 3e6]);
      assertEquals(text.map((r) => r.ms), [0, 1000, 2000, 3000]);
      const footer = await readParquetFooter(path);
      assertEquals(
        footer.codecs,
        new Array(14).fill(compression === "zstd" ? "ZSTD" : "UNCOMPRESSED"),
      );
    });
  });
}

Deno.test("rows split into row groups of rowGroupRows; a long column reads back whole", async () => {
  await withDir(async (dir) => {
    const n = 10_000;
    const valid = new Uint8Array(n).map((_, i) => (i % 7 === 0 ? 0 : 1));
    const path = join(dir, "groups.parquet");
    await Deno.writeFile(
      path,
      encodeParquet(
        [
          {
            name: "n",
            type: "int64",
            values: Float64Array.from({ length: n }, (_, i) => i),
            valid,
          },
          {
            name: "c",
            type: "string",
            values: {
              codes: Uint32Array.from({ length: n }, (_, i) => (i % 300) + 1),
              dict: Array.from({ length: 300 }, (_, i) => `v${i}`),
            },
            valid: null,
          },
        ],
        n,
        { rowGroupRows: 3000 },
      ),
    );
    assertEquals((await readParquetFooter(path)).rowGroups, [3000, 3000, 3000, 1000]);
    const frame = pl.readParquet(path);
    assertEquals(frame.height, n);
    const ns = frame.getColumn("n").toArray();
    const cs = frame.getColumn("c").toArray();
    for (let i = 0; i < n; i++) {
      assertEquals(ns[i], i % 7 === 0 ? null : i);
      assertEquals(cs[i], `v${i % 300}`);
    }
  });
});

Deno.test("text of any script reads back as TextEncoder writes it, lone surrogates as U+FFFD", async () => {
  const samples = [
    "plain",
    "Bólido Comidas preparadas",
    "Straße",
    "日本語",
    "emoji 😀 pair",
    "lone \ud800 high",
    "\udc00 lone low",
    "",
    null,
    "\u007f\u0080\u07ff\u0800\uffff",
  ];
  // A value ending in half a pair, before one starting with the other half: the two must not
  // become one character.
  const split = ["ends high \ud83d", "\ude00 starts low"];
  await withDir(async (dir) => {
    const cases: [string, (string | null)[]][] = [
      ["whole-pairs", samples],
      ["split-pair", [...samples, ...split]],
    ];
    for (const [label, values] of cases) {
      const texts = Array.from({ length: 3000 }, (_, i) => values[i % values.length]);
      const path = join(dir, `text-${label}.parquet`);
      await Deno.writeFile(
        path,
        encodeParquet([{ name: "t", type: "string", values: texts, valid: null }], texts.length),
      );
      const back = pl.readParquet(path).getColumn("t").toArray();
      const expected = texts.map((t) =>
        t === null ? null : new TextDecoder().decode(new TextEncoder().encode(t))
      );
      assertEquals(back, expected, label);
    }
  });
});

Deno.test("pages compressed elsewhere (their buffers taken) make the same file", async () => {
  await withDir(async (dir) => {
    const local = encodeParquet(columns(), 4);
    // Like a compressor on another thread: the page's buffer moves away, a frame comes back.
    const elsewhere = (page: Uint8Array) => {
      const moved = structuredClone(page, { transfer: [page.buffer as ArrayBuffer] });
      return Promise.resolve(zlib.zstdCompressSync(moved) as Uint8Array);
    };
    const bytes = concatBytes(await encodeParquetPiecesWith(columns(), 4, {}, elsewhere));
    assertEquals(bytes, local);
    const path = join(dir, "elsewhere.parquet");
    await Deno.writeFile(path, bytes);
    assertEquals(parquetRows(path).length, 4);
  });
});

Deno.test("an encoding that pauses between column chunks makes the same file, pausing after each", async () => {
  for (const [compression, rowGroupRows] of [["zstd", 3], ["none", 100]] as const) {
    const local = encodeParquet(columns(), 4, { compression, rowGroupRows });
    let pauses = 0;
    const pieces = await encodeParquetPiecesPausing(
      columns(),
      4,
      { compression, rowGroupRows },
      () => {
        pauses++;
        return Promise.resolve();
      },
    );
    assertEquals(concatBytes(pieces), local);
    // One pause after each column chunk of each row group (4 rows in groups of 3: two groups).
    const groups = Math.ceil(4 / rowGroupRows);
    assert(pauses >= columns().length * groups, `${pauses} pauses`);
  }
});

Deno.test("a sink given a pause awaits it between the columns of a batch, and writes what it would without", async () => {
  await withDir(async (dir) => {
    const rows = Array.from(
      { length: 50 },
      (_, i) => ({ id: i, name: `n${i % 7}`, at: "2024-05-06" }),
    );
    let pauses = 0;
    const paused = await openSink(join(dir, "paused"), {
      format: "parquet",
      runId: "r1",
      pause: () => {
        pauses++;
        return Promise.resolve();
      },
    });
    await paused.writeRows(rows, { key: "a" });
    await paused.close();
    const plain = await openSink(join(dir, "plain"), { format: "parquet", runId: "r1" });
    await plain.writeRows(rows, { key: "a" });
    await plain.close();
    assert(pauses >= 3, `${pauses} pauses`);
    assertEquals(
      await Deno.readFile(join(dir, "paused", "part-r1-a.parquet")),
      await Deno.readFile(join(dir, "plain", "part-r1-a.parquet")),
    );
  });
});

Deno.test("a synchronous compressor's files, their raw pages in reused memory, are the same bytes", async () => {
  await withDir(async (dir) => {
    const compress = synchronousCompressor((page) => zlib.zstdCompressSync(page) as Uint8Array);
    const wide = (n: number): VectorColumn[] => [
      {
        name: "n",
        type: "int64",
        values: Float64Array.from({ length: n }, (_, i) => i * 3),
        valid: null,
      },
      {
        name: "x",
        type: "float64",
        values: Float64Array.from({ length: n }, (_, i) => i / 7),
        valid: null,
      },
    ];
    // Files one after another, in several sizes (more than one arena block for the last): each
    // must be exactly what fresh buffers give, whatever the files before left in the memory.
    for (
      const [batch, length] of [[columns(), 4], [wide(300_000), 300_000], [columns(), 4]] as const
    ) {
      const reused = concatBytes(await encodeParquetPiecesWith(batch, length, {}, compress));
      const fresh = concatBytes(
        await encodeParquetPiecesWith(
          batch,
          length,
          {},
          (page) => Promise.resolve(zlib.zstdCompressSync(page) as Uint8Array),
        ),
      );
      assertEquals(reused, fresh);
      const path = join(dir, `reused-${length}.parquet`);
      await Deno.writeFile(path, reused);
      assertEquals(parquetRows(path).length, length);
    }
  });
});

Deno.test("encodings that pause, interleaved, each lay their pages in memory of their own", async () => {
  const wide = (n: number, k: number): VectorColumn[] => [
    {
      name: "n",
      type: "int64",
      values: Float64Array.from({ length: n }, (_, i) => i * k),
      valid: null,
    },
    {
      name: "x",
      type: "float64",
      values: Float64Array.from({ length: n }, (_, i) => i / k),
      valid: null,
    },
  ];
  const sizes = [50_000, 70_000, 30_000];
  const batches = sizes.map((n, i) => wide(n, 3 + 4 * i));
  const interleave = () => Promise.resolve();
  const results = await Promise.all(
    batches.map((batch, i) => encodeParquetPiecesPausing(batch, sizes[i], {}, interleave)),
  );
  for (const [i, batch] of batches.entries()) {
    assertEquals(concatBytes(results[i]), encodeParquet(batch, sizes[i]));
  }
});

Deno.test("a sink with FFI writes zstd vectors with this encoder and Snappy ones through polars", async () => {
  await withDir(async (dir) => {
    const written: Record<string, { createdBy: string; codecs: string[]; rows: unknown[] }> = {};
    for (const compression of ["zstd", "snappy"] as const) {
      const out = join(dir, compression);
      const sink = await openSink(out, { format: "parquet", runId: "r1", compression });
      await sink.writeVectors({ length: 4, columns: columns() });
      await sink.close();
      const file = join(out, (await listFiles(out, ".parquet"))[0]);
      const { createdBy, codecs } = await readParquetFooter(file);
      written[compression] = { createdBy, codecs: [...new Set(codecs)], rows: parquetRows(file) };
    }
    assertEquals(written.zstd.createdBy, "tidemark");
    assertEquals(written.zstd.codecs, ["ZSTD"]);
    assertEquals(written.snappy.createdBy.startsWith("tidemark"), false);
    assertEquals(written.snappy.codecs, ["SNAPPY"]);
    assertEquals(written.zstd.rows, written.snappy.rows);
  });
});
