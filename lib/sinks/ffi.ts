/**
 * Whether native code may be loaded. nodejs-polars is a native addon: under `--deny-ffi` (and on
 * platforms without FFI) importing it fails, so Parquet goes through the WebAssembly-free,
 * pure-JS writer instead (`parquet_js.ts`), and polars is never imported.
 * @module
 */

/**
 * True when FFI is granted, so nodejs-polars can be loaded. A prompt counts as not granted:
 * a harvest must not stop to ask.
 *
 * @example
 * ```ts
 * import { ffiAllowed } from "./ffi.ts";
 * const engine = ffiAllowed() ? "polars" : "hyparquet-writer";
 * ```
 */
export function ffiAllowed(): boolean {
  const forced = forcedEngine();
  if (forced !== undefined) return forced === "polars";
  return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
}

/** The engine names {@link ffiAllowed} chooses between. */
export type ParquetEngine = "polars" | "js";

let override: ParquetEngine | undefined;

/**
 * Forces the Parquet engine for this process (tests writing one dataset both ways); `undefined`
 * goes back to asking the FFI permission.
 */
export function forceParquetEngine(engine: ParquetEngine | undefined): void {
  override = engine;
}

function forcedEngine(): ParquetEngine | undefined {
  return override;
}

/** The Parquet engine in use: `polars` when FFI is granted, else `js` (hyparquet-writer). */
export function parquetEngine(): ParquetEngine {
  return ffiAllowed() ? "polars" : "js";
}

/** Thrown where a feature needs polars (FFI) and the process has none. */
export class FfiUnavailableError extends Error {
  /** `what` names the feature that needs FFI. */
  constructor(what: string) {
    super(`${what} needs nodejs-polars, a native library, and FFI is not permitted here`);
    this.name = "FfiUnavailableError";
  }
}
