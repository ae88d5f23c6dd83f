/**
 * The Parquet part writer a sink gets: the polars engine (`polars_writer.ts`, nodejs-polars
 * through Arrow, on the caller's thread or the shared Parquet thread) when FFI is permitted, else
 * the pure-JS writer (`parquet_wasm.ts`, hyparquet-writer). The polars engine is loaded by a
 * dynamic import on first write, so a process without FFI (Deno Deploy, `--deny-ffi`) never
 * imports it. Both take typed columns and column vectors and write the same schema and rows (see
 * `parquet_wasm.ts` for the one difference in decimals' physical type).
 * @module
 */
import { parquetEngine } from "./ffi.ts";
import { createJsParquetWriter } from "./parquet_wasm.ts";
import type { ParquetWriterOptions } from "./polars_writer.ts";
import type { PartTarget, PartWriter, WrittenPart } from "./part_writer.ts";
import type { TypedColumn } from "./column_types.ts";
import type { VectorColumn } from "./vectors.ts";

export type { ParquetWriterOptions } from "./polars_writer.ts";

/**
 * A Parquet part writer choosing its engine at first use (see the module doc). `thread` only
 * matters to the polars engine; the JS engine always writes on the caller's thread.
 *
 * @example
 * ```ts
 * import { createParquetPartWriter } from "./parquet_writer.ts";
 * const writer = createParquetPartWriter({ compression: "zstd" });
 * writer.extension; // "parquet"
 * ```
 */
export function createParquetPartWriter(options: ParquetWriterOptions = {}): PartWriter {
  let chosen: Promise<PartWriter> | undefined;
  const engine = () =>
    chosen ??= parquetEngine() === "polars"
      ? import("./polars_writer.ts").then((m) => m.createPolarsParquetWriter(options))
      : Promise.resolve(createJsParquetWriter({ rowGroupRows: options.rowGroupRows }));
  return {
    extension: "parquet",
    streamed: false,
    async write(target: PartTarget, columns: TypedColumn[], length: number): Promise<WrittenPart> {
      return await (await engine()).write(target, columns, length);
    },
    async writeVectors(
      target: PartTarget,
      columns: VectorColumn[],
      length: number,
    ): Promise<WrittenPart> {
      // Both engines write vectors; the check keeps PartWriter's method optional.
      const writer = await engine();
      if (!writer.writeVectors) throw new Error("the Parquet engine does not take vectors");
      return await writer.writeVectors(target, columns, length);
    },
    close: async () => chosen ? await (await chosen).close() : [],
    abort: async () => chosen ? await (await chosen).abort() : undefined,
  };
}
