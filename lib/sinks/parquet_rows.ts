/**
 * The footer of a Parquet file, found at its end (also for hyparquet's metadata reader), and its
 * row count read with a few lines of Thrift: a run's summary of its outputs counts the rows of
 * every part, and loading a Parquet library for that alone (hyparquet and its writer, ~0.1–0.2 s
 * of module loading at the end of every run that replaces or merges an asset) cost more than the
 * whole count. No native code: it runs where FFI is denied (Deno Deploy).
 * @module
 */
import { TidemarkError } from "../core/errors.ts";

const MAGIC = 0x31524150; // "PAR1", little-endian

/**
 * Rows of a Parquet file: `num_rows` of its footer (`FileMetaData`, Thrift compact protocol).
 * Throws {@link TidemarkError} naming the file when it is not Parquet or its footer is cut.
 *
 * @example
 * ```ts
 * import { parquetFileRows } from "./parquet_rows.ts";
 * const rows = await parquetFileRows("out/parquet/Orders/part-20261123T101500Z-3fa9c1-00001.parquet");
 * ```
 */
export async function parquetFileRows(path: string): Promise<number> {
  const tail = await parquetFooterBytes(path);
  const rows = footerRows(tail.subarray(0, tail.length - 8));
  if (rows === undefined) throw new TidemarkError(`${path}: its Parquet footer has no row count`);
  return rows;
}

/**
 * The end of a Parquet file from its footer on: the encoded `FileMetaData`, its length and
 * `PAR1`, in a buffer of its own (what a Parquet library parses the metadata from). Throws
 * {@link TidemarkError} naming the file when it is not Parquet or its footer is cut.
 *
 * @example
 * ```ts
 * import { parquetFooterBytes } from "./parquet_rows.ts";
 * const tail = await parquetFooterBytes("out/parquet/Orders/part-20261123T101500Z-3fa9c1-00001.parquet");
 * ```
 */
export async function parquetFooterBytes(path: string): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    const end = await readFileRange(file, Math.max(0, size - 8), Math.min(size, 8));
    const view = new DataView(end.buffer, end.byteOffset, end.byteLength);
    if (end.length < 8 || view.getUint32(4, true) !== MAGIC) {
      throw new TidemarkError(`${path} is not a Parquet file (no PAR1 at its end)`);
    }
    const length = view.getUint32(0, true);
    if (length + 8 > size) throw new TidemarkError(`${path}: its Parquet footer is cut`);
    const tail = await readFileRange(file, size - 8 - length, length + 8);
    if (tail.length < length + 8) throw new TidemarkError(`${path}: its Parquet footer is cut`);
    return tail;
  } finally {
    file.close();
  }
}

/** `length` bytes of an open file from `offset` (fewer when the file ends first). */
async function readFileRange(
  file: Deno.FsFile,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const out = new Uint8Array(length);
  let read = 0;
  while (read < length) {
    const n = await file.read(out.subarray(read));
    if (n === null) break;
    read += n;
  }
  return out.subarray(0, read);
}

/** `num_rows` (field 3, i64) of an encoded `FileMetaData`, or undefined when it has none. */
function footerRows(footer: Uint8Array): number | undefined {
  const reader = new CompactReader(footer);
  let id = 0;
  for (;;) {
    const header = reader.byte();
    const type = header & 0x0f;
    if (type === STOP) return undefined;
    const delta = header >> 4;
    id = delta === 0 ? reader.zigzag() : id + delta;
    if (id === 3 && type === I64) return Number(reader.zigzagBig());
    reader.skip(type);
  }
}

const STOP = 0;
const I64 = 6;

/** Reads (and skips) values of the Thrift compact protocol. */
class CompactReader {
  #at = 0;
  constructor(readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.#at >= this.bytes.length) throw new TidemarkError("the Parquet footer is cut");
    return this.bytes[this.#at++];
  }

  /** An unsigned varint, as a bigint (a row count may pass 2^53 in principle). */
  varintBig(): bigint {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value;
      shift += 7n;
    }
  }

  varint(): number {
    return Number(this.varintBig());
  }

  zigzagBig(): bigint {
    const n = this.varintBig();
    return (n >> 1n) ^ -(n & 1n);
  }

  zigzag(): number {
    return Number(this.zigzagBig());
  }

  /** Skips one value of compact type `type`. */
  skip(type: number): void {
    switch (type) {
      case 1: // true
      case 2: // false
        return;
      case 3: // byte
        this.#at += 1;
        return;
      case 4: // i16
      case 5: // i32
      case 6: // i64
        this.varintBig();
        return;
      case 7: // double
        this.#at += 8;
        return;
      case 8: { // binary
        // The length first: `this.#at += this.varint()` would read #at before the varint moves it.
        const length = this.varint();
        this.#at += length;
        return;
      }
      case 9: // list
      case 10: { // set
        const header = this.byte();
        const size = header >> 4 === 15 ? this.varint() : header >> 4;
        const element = header & 0x0f;
        // A boolean element of a list takes a byte of its own.
        for (let i = 0; i < size; i++) element <= 2 ? this.#at++ : this.skip(element);
        return;
      }
      case 11: { // map
        const size = this.varint();
        if (size === 0) return;
        const kinds = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(kinds >> 4);
          this.skip(kinds & 0x0f);
        }
        return;
      }
      case 12: { // struct
        for (;;) {
          const header = this.byte();
          const field = header & 0x0f;
          if (field === STOP) return;
          if (header >> 4 === 0) this.zigzag();
          this.skip(field);
        }
      }
      default:
        throw new TidemarkError(`the Parquet footer holds an unknown Thrift type ${type}`);
    }
  }
}
