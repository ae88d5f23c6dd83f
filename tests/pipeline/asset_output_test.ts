/**
 * An asset's output given its pages prepared as they are staged (`prepare`, then
 * `writePrepared` at the commit) writes what it writes given the batch's rows (`write`): the
 * same parts, names, column types and values, whatever the pages hold.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { join } from "node:path";
import { type AssetOutputOptions, openAssetOutput } from "../../lib/pipeline/asset_output.ts";
import type { PreparedRows } from "../../lib/pipeline/record_shape.ts";
import { listFiles, parquetDtypes, parquetRows } from "../sinks/read_back.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark-asset-output-");
const RUN = "20261204T100000Z-abcdef";

function options(extra: Partial<AssetOutputOptions> = {}): AssetOutputOptions {
  return {
    output: {
      format: "parquet",
      mode: "append",
      compression: "zstd",
      row_group_rows: 100_000,
      partition_by: [],
    } as unknown as AssetOutputOptions["output"],
    runId: RUN,
    ...extra,
  };
}

/** Writes `pages` both ways into two folders; returns each folder's parts (files, dtypes, rows). */
async function bothWays(
  dir: string,
  pages: Record<string, unknown>[][],
  extra: Partial<AssetOutputOptions> = {},
) {
  const read = async (out: string) => {
    const folder = join(out, "parquet/Orders");
    const files = await listFiles(folder, ".parquet");
    return files.map((f) => ({
      file: f,
      dtypes: parquetDtypes(join(folder, f)),
      rows: parquetRows(join(folder, f)),
    }));
  };
  const rowsOut = join(dir, "rows");
  const byRows = await openAssetOutput(rowsOut, "Orders", options(extra));
  const rowPaths = await byRows.write(pages.flat(), "00001-00003");

  const preparedOut = join(dir, "prepared");
  const byPages = await openAssetOutput(preparedOut, "Orders", options(extra));
  const prepared = pages.map((rows) => byPages.prepare(rows));
  assert(prepared.every((p) => p !== undefined), "Parquet without partition_by prepares pages");
  const preparedPaths = await byPages.writePrepared(prepared as PreparedRows[], "00001-00003");
  assertEquals(preparedPaths, rowPaths);
  assertEquals(byPages.schema, byRows.schema);
  return { rows: await read(rowsOut), prepared: await read(preparedOut), schema: byPages.schema };
}

Deno.test("a column null on the first pages is typed by the values of a later one, not as text", async () => {
  await withDir(async (dir) => {
    const { rows, prepared, schema } = await bothWays(dir, [
      [{ id: 1, price: null, note: null }, { id: 2, price: null, note: null }],
      [{ id: 3, price: null, note: null }],
      [{ id: 4, price: 2.5, note: null }, { id: 5, price: 3, note: null }],
    ]);
    assertEquals(prepared, rows);
    // A column without a value in the whole batch is text, as a batch cast whole makes it.
    assertEquals(schema, { id: "int64", price: "float64", note: "string" });
    assertEquals(prepared[0].rows.map((r) => r.price), [null, null, null, 2.5, 3]);
  });
});

Deno.test("columns a later page brings, text timestamps and ids beyond 2^53 come out the same", async () => {
  await withDir(async (dir) => {
    const { rows, prepared } = await bothWays(dir, [
      [{ id: 1, at: "1996-07-04 00:00:00.000", city: "Reims" }],
      [{ id: 2 ** 53 + 2, at: null, city: "Bólido 😀" }, { id: 3, at: "1996-07-05 10:00:00.120" }],
      [{ id: 4, at: "1996-07-06 00:00:00.000", city: null, flag: true, extra: { a: 1 } }],
    ], { columns: { at: "timestamp" } });
    assertEquals(prepared, rows);
    assertEquals(prepared[0].dtypes.at, "Datetime(us,)");
    assertEquals(prepared[0].rows.map((r) => r.flag), [null, null, null, true]);
  });
});

Deno.test("a batch over batchRows is cut into -b001… parts as write cuts it", async () => {
  await withDir(async (dir) => {
    const page = (from: number) =>
      Array.from({ length: 4 }, (_, i) => ({ id: from + i, name: `n${from + i}` }));
    const { rows, prepared } = await bothWays(dir, [page(0), page(4), page(8)], { batchRows: 5 });
    assertEquals(prepared, rows);
    assertEquals(prepared.map((p) => p.file), [
      `part-${RUN}-00001-00003-b001.parquet`,
      `part-${RUN}-00001-00003-b002.parquet`,
      `part-${RUN}-00001-00003-b003.parquet`,
    ]);
  });
});

Deno.test("a page whose value does not fit its column's type is refused when it is prepared", async () => {
  await withDir(async (dir) => {
    const output = await openAssetOutput(dir, "Orders", options());
    output.prepare([{ id: 1 }]);
    assertThrows(() => output.prepare([{ id: "ten" }]), Error, 'column "id" has type int64');
    // Nothing was written, and the rows of a failed batch go nowhere.
    await assertRejects(() => Deno.stat(join(dir, "parquet/Orders/x")));
    assertEquals(await listFiles(join(dir, "parquet/Orders"), ".parquet"), []);
  });
});

Deno.test("CSV, JSONL and partitioned Parquet take rows: they prepare nothing", async () => {
  await withDir(async (dir) => {
    for (
      const output of [
        { format: "csv" },
        { format: "jsonl" },
        { format: "parquet", partition_by: ["city"] },
      ]
    ) {
      const base = options().output;
      const asset = await openAssetOutput(join(dir, output.format), "Orders", {
        ...options(),
        output: { ...base, ...output } as AssetOutputOptions["output"],
      });
      assertEquals(asset.prepare([{ id: 1, city: "Reims" }]), undefined);
    }
  });
});
