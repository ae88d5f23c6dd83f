/**
 * The two Parquet engines write the same dataset: polars (FFI) and hyparquet-writer (no FFI),
 * compared through an independent reader (hyparquet) — schema, row count and every value; and
 * a merge by key gives the same rows either way.
 */
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../assert.ts";
import { castColumn, type TypedColumn } from "../../lib/sinks/column_types.ts";
import { forceParquetEngine } from "../../lib/sinks/ffi.ts";
import {
  createJsParquetWriter,
  readParquetColumns,
  writeParquetColumns,
} from "../../lib/sinks/parquet_js.ts";
import { createPolarsParquetWriter } from "../../lib/sinks/polars_writer.ts";
import type { VectorColumn } from "../../lib/sinks/vectors.ts";
import { toFrame, writeParquetFile } from "../../lib/sinks/parquet.ts";
import { beginWrite, mergeByKey, parquetFiles } from "../../lib/sinks/write_mode.ts";

function dataset(n: number): TypedColumn[] {
  const ids = Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 2n ** 60n + BigInt(i) : i));
  return [
    castColumn("id", ids, "int64"),
    castColumn("price", ids.map((_, i) => (i % 5 === 0 ? null : i * 1.25)), "float64"),
    castColumn("name", ids.map((_, i) => (i % 6 === 0 ? null : `näme ${i} "q"`)), "string"),
    castColumn("ok", ids.map((_, i) => (i % 4 === 0 ? null : i % 2 === 0)), "boolean"),
    castColumn(
      "day",
      ids.map((_, i) => (i % 9 === 0 ? null : `1997-0${1 + (i % 9)}-1${i % 10}`)),
      "date",
    ),
    castColumn(
      "at",
      ids.map((_, i) => (i % 8 === 0 ? null : `1998-05-06 0${i % 10}:00:00.${100 + i % 900}`)),
      "datetime",
    ),
    castColumn("meta", ids.map((_, i) => (i % 3 === 0 ? null : { i, tags: ["a"] })), "json"),
  ];
}

async function readBack(path: string) {
  const bytes = await Deno.readFile(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const metadata = parquetMetadata(buffer as ArrayBuffer);
  const schema = metadata.schema.slice(1).map((e) => ({
    name: e.name,
    type: e.type,
    repetition: e.repetition_type,
    converted: e.converted_type ?? null,
    logical: e.logical_type ? JSON.stringify(e.logical_type) : null,
  }));
  const rows = await parquetReadObjects({ file: buffer as ArrayBuffer, metadata, utf8: true });
  return { schema, rows, numRows: Number(metadata.num_rows) };
}

Deno.test("polars and hyparquet-writer write the same schema and rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-engines-" });
  try {
    const columns = dataset(1000);
    // hyparquet reads snappy, not zstd: the polars file is written with snappy for the reader.
    await writeParquetFile(toFrame(columns), join(dir, "polars.parquet"), {
      compression: "snappy",
    });
    await writeParquetColumns(columns, 1000, join(dir, "js.parquet"));
    const polars = await readBack(join(dir, "polars.parquet"));
    const js = await readBack(join(dir, "js.parquet"));
    assertEquals(js.schema, polars.schema);
    assertEquals(js.numRows, 1000);
    assertEquals(js.rows, polars.rows);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a merge by key gives the same rows on polars and without FFI", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-merge-engines-" });
  try {
    const results: unknown[] = [];
    for (const engine of ["polars", "js"] as const) {
      forceParquetEngine(engine);
      const asset = join(dir, engine, "parquet", "Orders");
      for (
        const [run, from, to, day] of [["r1", 0, 60, "1997-01-01"], [
          "r2",
          40,
          90,
          "1997-02-01",
        ]] as const
      ) {
        const staging = await beginWrite(asset, { mode: "merge", runId: run });
        const n = to - from;
        const ids = Array.from({ length: n }, (_, i) => from + i);
        await writeParquetColumns(
          [
            castColumn("OrderID", ids, "int64"),
            castColumn("ShipCountry", ids.map((i) => ["France", "USA", null][i % 3]), "string"),
            castColumn("OrderDate", ids.map(() => day), "datetime"),
            castColumn("run", ids.map(() => run), "string"),
          ],
          n,
          join(staging, "part-00001.parquet"),
        );
        await mergeByKey(asset, {
          runId: run,
          primaryKey: ["OrderID"],
          orderBy: "OrderDate",
          partitionBy: ["ShipCountry"],
          compression: "snappy",
        });
      }
      const files = await parquetFiles(asset);
      const seen: Record<string, unknown[]> = {};
      for (const file of files) {
        seen[file.slice(asset.length)] = (await readBack(file)).rows;
      }
      results.push(seen);
    }
    assertEquals(results[1], results[0]);
    const all = Object.values(results[1] as Record<string, { OrderID: bigint; run: string }[]>)
      .flat();
    assertEquals(all.length, 90);
    assertEquals(all.filter((r) => r.run === "r2").length, 50);
  } finally {
    forceParquetEngine(undefined);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a merge rewriting only some parts gives the same parts and rows on both engines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-merge-parts-engines-" });
  try {
    const results: unknown[] = [];
    const runs = [["r1", 0, 60, 0], ["r2", 40, 70, 1], ["r3", 10, 13, 0]] as const;
    for (const engine of ["polars", "js"] as const) {
      forceParquetEngine(engine);
      const asset = join(dir, engine, "parquet", "Orders");
      const written: string[][] = [];
      for (const [run, from, to, shift] of runs) {
        const staging = await beginWrite(asset, { mode: "merge", runId: run });
        const ids = Array.from({ length: to - from }, (_, i) => from + i);
        await writeParquetColumns(
          [
            castColumn("OrderID", ids, "int64"),
            // r2 moves some orders to another country: their rows change partition.
            castColumn("ShipCountry", ids.map((i) => ["France", "USA"][(i + shift) % 2]), "string"),
            castColumn("run", ids.map(() => run), "string"),
          ],
          ids.length,
          join(staging, "part-00001.parquet"),
        );
        const result = await mergeByKey(asset, {
          runId: run,
          primaryKey: ["OrderID"],
          partitionBy: ["ShipCountry"],
          compression: "snappy",
          partRows: 8,
        });
        written.push(result.written);
      }
      const seen: Record<string, unknown[]> = {};
      for (const file of await parquetFiles(asset)) {
        seen[file.slice(asset.length)] = (await readBack(file)).rows;
      }
      results.push({ seen, written });
    }
    assertEquals(results[1], results[0]);
    const { seen, written } = results[1] as {
      seen: Record<string, unknown[]>;
      written: string[][];
    };
    assertEquals(Object.values(seen).flat().length, 70);
    // r3 touches the parts holding ids 10..12 only.
    assert(written[2].length < Object.keys(seen).length, `r3 rewrote ${written[2]}`);
  } finally {
    forceParquetEngine(undefined);
    await Deno.remove(dir, { recursive: true });
  }
});

/** A batch of the SQL extractor's column vectors, with the types beyond the harvest's. */
function vectors(): VectorColumn[] {
  const day = 86_400_000_000;
  return [
    { name: "id", type: "int64", values: BigInt64Array.of(1n, 2n, 3n, 2n ** 60n), valid: null },
    {
      name: "at",
      type: "timestamp",
      values: Float64Array.of(9681 * day, 9862 * day + 1, 0, -1),
      valid: Uint8Array.of(1, 1, 0, 1),
    },
    { name: "zoned", type: "timestamp_tz", values: Float64Array.of(0, 1, 2, 3), valid: null },
    { name: "day", type: "date", values: Int32Array.of(9681, 9862, 9863, -1), valid: null },
    {
      name: "price",
      type: "decimal(10,2)",
      values: ["1.50", "-2.25", null, "0.00"],
      valid: null,
    },
    { name: "small", type: "decimal(5,1)", values: ["1.5", null, "-9999.9", "0.0"], valid: null },
    {
      name: "huge",
      type: "decimal(38,6)",
      values: ["12345678901234567890123456789012.123456", "-1.000001", null, "0.000000"],
      valid: null,
    },
    {
      name: "country",
      type: "string",
      values: { codes: Uint32Array.of(1, 2, 1, 0), dict: ["France", "Brazil"] },
      valid: null,
    },
    {
      name: "ok",
      type: "boolean",
      values: Uint8Array.of(1, 0, 1, 0),
      valid: Uint8Array.of(1, 1, 1, 0),
    },
    {
      name: "x",
      type: "float64",
      values: Float64Array.of(0.5, -1, 2, 3),
      valid: Uint8Array.of(1, 0, 1, 1),
    },
  ];
}

Deno.test("column vectors (timestamp, timestamp_tz, decimal) give the same Parquet on both engines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-engines-vectors-" });
  try {
    const target = (name: string) => ({
      path: join(dir, name),
      relativePath: name,
      partition: {},
    });
    // hyparquet reads snappy, not zstd: the polars file is written with snappy for the reader.
    const polars = createPolarsParquetWriter({ compression: "snappy" });
    const js = createJsParquetWriter();
    const a = await polars.writeVectors!(target("polars.parquet"), vectors(), 4);
    const b = await js.writeVectors!(target("js.parquet"), vectors(), 4);
    assertEquals([a.rows, b.rows], [4, 4]);
    const fromPolars = await readBack(join(dir, "polars.parquet"));
    const fromJs = await readBack(join(dir, "js.parquet"));
    assertEquals(fromJs.schema, fromPolars.schema);
    assertEquals(fromJs.rows, fromPolars.rows);
    // Read back for a merge without FFI: the types come back, microseconds exact.
    const read = await readParquetColumns(join(dir, "js.parquet"));
    assertEquals(
      Object.fromEntries(read.columns.map((c) => [c.name, c.type])),
      {
        id: "int64",
        at: "timestamp",
        zoned: "timestamp_tz",
        day: "date",
        price: "decimal(10,2)",
        small: "decimal(5,1)",
        huge: "decimal(38,6)",
        country: "string",
        ok: "boolean",
        x: "float64",
      },
    );
    const at = read.columns.find((c) => c.name === "at")!;
    assertEquals(at.values, [9681 * 86_400_000_000, 9862 * 86_400_000_000 + 1, null, -1]);
    assertEquals(read.columns.find((c) => c.name === "price")!.values, [
      "1.50",
      "-2.25",
      null,
      "0.00",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("under --deny-ffi a sink writes vectors and rows as Parquet without importing polars", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-no-ffi-" });
  try {
    const sinks = new URL("../../lib/sinks/mod.ts", import.meta.url).href;
    const script = join(dir, "write.ts");
    await Deno.writeTextFile(
      script,
      `import { openSink } from ${JSON.stringify(sinks)};
const sink = await openSink(Deno.args[0], { format: "parquet", runId: "r1" });
const day = 86_400_000_000;
await sink.writeVectors({ length: 2, columns: [
  { name: "at", type: "timestamp_tz", values: Float64Array.of(day, 1), valid: null },
  { name: "price", type: "decimal(12,3)", values: ["1.500", null], valid: null },
] });
await sink.writeRows({ at: [null], price: ["2.250"] }, 1);
await sink.close();
console.log(JSON.stringify(sink.parts.map((p) => p.rows)));
`,
    );
    const config = fileURLToPath(new URL("../../deno.json", import.meta.url));
    const out = join(dir, "out");
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        config,
        "--deny-ffi",
        "--allow-read",
        `--allow-write=${dir}`,
        "--allow-env",
        script,
        out,
      ],
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    assertEquals(code, 0, text.decode(stderr));
    assertEquals(JSON.parse(text.decode(stdout)), [2, 1]);
    const files = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assertEquals(files.length, 2);
    const first = await readBack(join(out, files[0]));
    assertEquals(first.rows, [
      { at: new Date(86_400_000), price: 1.5 },
      { at: new Date(0), price: null },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
