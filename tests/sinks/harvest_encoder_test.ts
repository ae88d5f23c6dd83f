/**
 * The harvest's Parquet parts (boxed typed columns, zstd or uncompressed, FFI permitted) go
 * through the TypeScript encoder on the caller's thread: the same schema, logical types and
 * rows as polars writes for every column type, and polars is never loaded for them.
 */
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../assert.ts";
import { castColumn, type TypedColumn } from "../../lib/sinks/column_types.ts";
import { forceParquetEngine } from "../../lib/sinks/ffi.ts";
import { createParquetPartWriter } from "../../lib/sinks/parquet_writer.ts";
import { createPolarsParquetWriter } from "../../lib/sinks/polars_writer.ts";
import { fromTypedColumn } from "../../lib/sinks/vectors.ts";

/** One column of every type the harvest casts to, with nulls and values beyond 2^53. */
function everyType(): TypedColumn[] {
  const n = 6;
  const at = (i: number) => i % 4 === 1;
  const rows = Array.from({ length: n }, (_, i) => i);
  return [
    castColumn("id", rows.map((i) => (i === 2 ? 2n ** 60n + 1n : at(i) ? null : i)), "int64"),
    castColumn("x", rows.map((i) => (at(i) ? null : i * 1.25 - 3)), "float64"),
    castColumn("name", rows.map((i) => (at(i) ? null : `näme ${i}`)), "string"),
    castColumn("ok", rows.map((i) => (at(i) ? null : i % 2 === 0)), "boolean"),
    castColumn("day", rows.map((i) => (at(i) ? null : `1997-0${1 + i}-1${i}`)), "date"),
    castColumn(
      "when",
      rows.map((i) => (at(i) ? null : `1998-05-06T0${i}:00:00.12${i}Z`)),
      "datetime",
    ),
    castColumn(
      "wall",
      rows.map((i) => (at(i) ? null : `1996-07-0${1 + i} 10:11:12.34567${i}`)),
      "timestamp",
    ),
    castColumn(
      "zoned",
      rows.map((i) => (at(i) ? null : `2300-01-0${1 + i}T00:00:00+02:00`)),
      "timestamp_tz",
    ),
    castColumn("price", rows.map((i) => (at(i) ? null : `${i}.5`)), "decimal(10,2)"),
    castColumn(
      "huge",
      rows.map((i) => (at(i) ? null : `-1234567890123456789.${i}`)),
      "decimal(38,6)",
    ),
    castColumn("meta", rows.map((i) => (at(i) ? null : { i, tags: ["a"] })), "json"),
  ];
}

async function readBack(path: string) {
  const bytes = await Deno.readFile(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const metadata = parquetMetadata(buffer as ArrayBuffer);
  const schema = metadata.schema.slice(1).map((e) => ({
    name: e.name,
    type: e.type,
    converted: e.converted_type ?? null,
    logical: e.logical_type ? JSON.stringify(e.logical_type) : null,
    precision: e.precision ?? null,
    scale: e.scale ?? null,
  }));
  const rows = await parquetReadObjects({ file: buffer as ArrayBuffer, metadata, utf8: true });
  return { schema, rows };
}

const target = (dir: string, name: string) => ({
  path: join(dir, name),
  relativePath: name,
  partition: {},
});

Deno.test("typed columns of every harvest type: the encoder writes what polars writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-harvest-encoder-" });
  forceParquetEngine("polars");
  try {
    const columns = everyType();
    // Uncompressed on both sides: hyparquet, the independent reader here, has no zstd.
    const encoder = createParquetPartWriter({ compression: "none" });
    const polars = createPolarsParquetWriter({ compression: "none" });
    await encoder.write(target(dir, "encoder.parquet"), columns, 6);
    await polars.write(target(dir, "polars.parquet"), columns, 6);
    const ours = await readBack(join(dir, "encoder.parquet"));
    const theirs = await readBack(join(dir, "polars.parquet"));
    // Decimals: polars writes every precision as FIXED_LEN_BYTE_ARRAY, the encoder INT32/INT64
    // up to precision 18, as the Parquet spec prefers; the logical type is the same. UTC
    // timestamps: the encoder also writes the legacy converted type (TIMESTAMP_MILLIS|MICROS,
    // which means UTC-adjusted) for older readers, polars only the logical type.
    const comparable = (s: typeof ours.schema) =>
      s.map((e) => ({
        ...e,
        type: e.precision !== null ? "decimal" : e.type,
        converted: e.converted?.startsWith("TIMESTAMP_") ? null : e.converted,
      }));
    assertEquals(comparable(ours.schema), comparable(theirs.schema));
    assertEquals(
      ours.schema.filter((e) => e.converted?.startsWith("TIMESTAMP_")).map((e) => e.name),
      ["when", "zoned"],
    );
    assertEquals(ours.rows, theirs.rows);
  } finally {
    forceParquetEngine(undefined);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fromTypedColumn gives undefined for a cell not of its type's kind", () => {
  const bad: TypedColumn = { name: "n", type: "int64", values: [1, "2"], nulls: 0, big: false };
  assertEquals(fromTypedColumn(bad, 2), undefined);
  const ok: TypedColumn = { name: "n", type: "int64", values: [1, null], nulls: 1, big: false };
  assertEquals(fromTypedColumn(ok, 2)?.valid, Uint8Array.of(1, 0));
});

Deno.test("a worker sink with FFI writes zstd rows without loading polars or a Parquet thread", async () => {
  // Only Linux lists a process's mapped libraries (in /proc/self/maps, which Deno lets a
  // process read only with every permission: the child runs with -A, in its own folder).
  if (Deno.build.os !== "linux") return;
  const dir = await Deno.makeTempDir({ prefix: "tidemark-harvest-no-polars-" });
  try {
    const sinks = new URL("../../lib/sinks/mod.ts", import.meta.url).href;
    const script = join(dir, "write.ts");
    await Deno.writeTextFile(
      script,
      `import { openWorkerSink } from ${JSON.stringify(sinks)};
const sink = await openWorkerSink(Deno.args[0], { format: "parquet", runId: "r1" });
await sink.writeRows([{ id: 1, at: new Date(0), price: "1.5" }, { id: 2, at: null, price: null }], { key: "00001" });
await sink.close();
const maps = await Deno.readTextFile("/proc/self/maps");
console.log(JSON.stringify({ rows: sink.parts.map((p) => p.rows), polars: maps.includes("polars") }));
`,
    );
    const config = fileURLToPath(new URL("../../deno.json", import.meta.url));
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        config,
        "-A",
        script,
        join(dir, "out"),
      ],
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    assertEquals(code, 0, text.decode(stderr));
    const result = JSON.parse(text.decode(stdout));
    assertEquals(result, { rows: [2], polars: false });
    assert(result.polars === false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
