/**
 * The row count of a Parquet file read from its footer without a Parquet library: the count
 * hyparquet reads, for files written by Tidemark's encoder (one and several row groups), by
 * polars and by hyparquet-writer; a file that is not Parquet, or whose footer is cut, is
 * refused with its path.
 */
import { assertEquals, assertRejects } from "../assert.ts";
import { join } from "node:path";
import pl from "nodejs-polars";
import { ByteWriter, parquetWrite } from "hyparquet-writer";
import { encodeParquet } from "../../lib/sinks/parquet_encode.ts";
import { parquetFooter } from "../../lib/sinks/parquet_js.ts";
import { parquetFileRows } from "../../lib/sinks/parquet_rows.ts";
import { TidemarkError } from "../../lib/core/errors.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark-parquet-rows-");

Deno.test("rows from the footer equal hyparquet's, whoever wrote the file", async () => {
  await withDir(async (dir) => {
    const n = 2_345;
    const ours = join(dir, "ours.parquet");
    await Deno.writeFile(
      ours,
      encodeParquet(
        [
          {
            name: "id",
            type: "int64",
            values: Float64Array.from({ length: n }, (_, i) => i),
            valid: null,
          },
          {
            name: "flag",
            type: "boolean",
            values: Uint8Array.from({ length: n }, (_, i) => i % 2),
            valid: Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : 1)),
          },
          {
            name: "t",
            type: "string",
            values: Array.from({ length: n }, (_, i) => `é${i}`),
            valid: null,
          },
        ],
        n,
        { rowGroupRows: 1000 },
      ),
    );
    const byPolars = join(dir, "polars.parquet");
    pl.DataFrame({ a: [1, 2, 3], b: ["x", null, "z"], c: [true, false, null] }).writeParquet(
      byPolars,
    );
    const byHyparquet = join(dir, "hyparquet.parquet");
    const writer = new ByteWriter();
    parquetWrite({ writer, columnData: [{ name: "k", data: [1, 2, 3, 4] }] });
    await Deno.writeFile(byHyparquet, new Uint8Array(writer.getBuffer()));
    for (const [path, rows] of [[ours, n], [byPolars, 3], [byHyparquet, 4]] as const) {
      assertEquals(await parquetFileRows(path), rows, path);
      assertEquals(Number((await parquetFooter(path)).num_rows), rows, path);
    }
  });
});

Deno.test("a file that is not Parquet, or whose footer is cut, is refused with its path", async () => {
  await withDir(async (dir) => {
    const text = join(dir, "notes.parquet");
    await Deno.writeTextFile(text, "not parquet at all");
    await assertRejects(
      () => parquetFileRows(text),
      TidemarkError,
      `${text} is not a Parquet file`,
    );
    const whole = encodeParquet(
      [{ name: "id", type: "int64", values: Float64Array.of(1, 2), valid: null }],
      2,
    );
    const cut = join(dir, "cut.parquet");
    // The footer's length and PAR1 kept, the footer itself half gone.
    await Deno.writeFile(cut, new Uint8Array([...whole.subarray(0, 4), ...whole.subarray(-20)]));
    await assertRejects(() => parquetFileRows(cut), TidemarkError, "footer");
  });
});
