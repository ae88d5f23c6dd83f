/**
 * The Parquet part writer a sink gets: nodejs-polars when FFI is permitted, else the pure-JS
 * writer (`parquet_wasm.ts`). Polars is loaded by a dynamic import on first write, so a process
 * without FFI (Deno Deploy, `--deny-ffi`) never imports it. Both write the same schema and rows.
 * @module
 */
import { parquetEngine } from "./ffi.ts";
import { createJsParquetWriter } from "./parquet_wasm.ts";
import type { ParquetWriterOptions } from "./parquet.ts";
import type { PartTarget, PartWriter, WrittenPart } from "./part_writer.ts";
import type { TypedColumn } from "./column_types.ts";

/**
 * A Parquet part writer choosing its engine at first use (see the module doc).
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
      ? import("./parquet.ts").then((m) => m.createParquetWriter(options))
      : Promise.resolve(createJsParquetWriter({ rowGroupRows: options.rowGroupRows }));
  return {
    extension: "parquet",
    streamed: false,
    async write(target: PartTarget, columns: TypedColumn[], length: number): Promise<WrittenPart> {
      return await (await engine()).write(target, columns, length);
    },
    close: async () => chosen ? await (await chosen).close() : [],
    abort: async () => chosen ? await (await chosen).abort() : undefined,
  };
}
