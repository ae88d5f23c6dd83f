/**
 * An asset's output given its pages prepared as they are staged (`prepare`, then
 * `writePrepared` at the commit) writes what it writes given the batch's rows (`write`): the
 * same parts, names, column types and values, whatever the pages hold.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { join } from "node:path";
import { type AssetOutputOptions, openAssetOutput } from "../../lib/pipeline/asset_output.ts";
import { describeFiles } from "../../lib/pipeline/output_files.ts";
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

Deno.test("partitions by a text column, date parts and the load time: the same folders and rows", async () => {
  await withDir(async (dir) => {
    const base = options().output;
    const { rows, prepared } = await bothWays(dir, [
      [
        { id: 1, city: "Reims", at: "1996-07-04 00:00:00.000" },
        { id: 2, city: "a/b=c", at: "1997-01-02 10:00:00.000" },
      ],
      [{ id: 3, city: null, at: null }, { id: 4, city: "", at: "1996-12-31 23:59:59.999" }],
      [{ id: 5, city: "Reims", at: "1997-01-02 00:00:00.000" }],
    ], {
      columns: { at: "timestamp" },
      loadTime: new Date("2026-12-04T10:00:00Z"),
      output: {
        ...base,
        partition_by: ["city", "year(at)", "month(at)", "load_date"],
      } as AssetOutputOptions["output"],
    });
    assertEquals(prepared, rows);
    assertEquals(prepared.map((p) => p.file.split("/").slice(0, -1).join("/")), [
      "city=Reims/year=1996/month=07/load_date=2026-12-04",
      "city=Reims/year=1997/month=01/load_date=2026-12-04",
      "city=__empty__/year=1996/month=12/load_date=2026-12-04",
      "city=__null__/year=__null__/month=__null__/load_date=2026-12-04",
      "city=a%2Fb%3Dc/year=1997/month=01/load_date=2026-12-04",
    ]);
  });
});

Deno.test("CSV, JSONL and partitions whose folders a cast would rewrite take rows: no page is prepared", async () => {
  await withDir(async (dir) => {
    const page = [{ id: 1, city: "Reims", at: "1996-07-04 00:00:00.000", n: 3 }];
    for (
      const [label, output] of [
        ["csv", { format: "csv" }],
        ["jsonl", { format: "jsonl" }],
        // A timestamp's folder is its source text; a number's, its text ("003" stays "003").
        ["timestamp", { format: "parquet", partition_by: ["at"] }],
        ["number", { format: "parquet", partition_by: ["n"] }],
        // A column no page has shown yet is left to write (which reports a misspelt one).
        ["unknown", { format: "parquet", partition_by: ["ctiy"] }],
      ] as const
    ) {
      const base = options().output;
      const asset = await openAssetOutput(join(dir, label), "Orders", {
        ...options({ columns: { at: "timestamp" } }),
        output: { ...base, ...output } as AssetOutputOptions["output"],
      });
      assertEquals(asset.prepare(page), undefined, label);
      // Decided once: later pages are not prepared either.
      assertEquals(asset.prepare(page), undefined, label);
    }
  });
});

Deno.test("a replace asset describes the parts it wrote as their writer hashed them, any other file by reading it", async () => {
  await withDir(async (out) => {
    const replace = (partitionBy: string[]) =>
      options({
        output: { ...options().output, mode: "replace", partition_by: partitionBy },
      });
    const output = await openAssetOutput(out, "Orders", replace(["ShipCountry"]));
    await output.write([
      { OrderID: 1, ShipCountry: "France" },
      { OrderID: 2, ShipCountry: "USA" },
      { OrderID: 3, ShipCountry: "USA" },
    ], "00001-00001");
    // A part an interrupted run of the same plan left in the staging folder: not written here.
    const staged = join(out, output.relDir, "ShipCountry=France");
    await Deno.copyFile(
      join(staged, `part-${RUN}-00001-00001.parquet`),
      join(staged, `part-${RUN}-00000-00000.parquet`),
    );
    const files = await output.finish();
    assert(files !== null);
    assertEquals(files.length, 3);
    const described = await output.describe(files);
    assertEquals(described, await describeFiles(out, files), "the same facts as reading them");
    assertEquals(described.map((f) => f.rows), [1, 1, 2]);
    // Which were read: only the file this process did not write sees a change made after.
    for (const file of files.slice(0, 2)) await Deno.copyFile(join(out, files[2]), join(out, file));
    const again = await output.describe(files);
    assertEquals(again.map((f) => f.rows), [2, 1, 2]);
  });
});
