/**
 * Test support: reads a Parquet file's footer (Thrift compact protocol) to check what nodejs-polars
 * does not expose — row groups, their row counts and the compression codec of each column chunk.
 * @module
 */

type Value = number | bigint | boolean | Uint8Array | Value[] | Struct;
type Struct = Map<number, Value>;

/** Row groups and codecs of a Parquet file. */
export interface ParquetFooter {
  /** Total rows. */
  rows: number;
  /** Rows of each row group, in order. */
  rowGroups: number[];
  /** Codec names of the column chunks of the first row group (UNCOMPRESSED, SNAPPY, ZSTD, …). */
  codecs: string[];
  /** The writer's `created_by` (`tidemark` for the TypeScript encoder, polars names itself). */
  createdBy: string;
}

const CODECS = ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"];

/** Reads the footer of the Parquet file at `path`. */
export async function readParquetFooter(path: string): Promise<ParquetFooter> {
  const data = await Deno.readFile(path);
  const tail = new TextDecoder().decode(data.subarray(data.length - 4));
  if (tail !== "PAR1") throw new Error(`${path} does not end with PAR1`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = view.getUint32(data.length - 8, true);
  const reader = new CompactReader(data.subarray(data.length - 8 - length, data.length - 8));
  const meta = reader.struct();
  const groups = (meta.get(4) as Struct[] | undefined) ?? [];
  const firstColumns = (groups[0]?.get(1) as Struct[] | undefined) ?? [];
  return {
    rows: Number(meta.get(3)),
    rowGroups: groups.map((g) => Number(g.get(3))),
    codecs: firstColumns.map((c) => CODECS[Number((c.get(3) as Struct).get(4))]),
    createdBy: new TextDecoder().decode(
      (meta.get(6) as Uint8Array | undefined) ?? new Uint8Array(),
    ),
  };
}

class CompactReader {
  #pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  #byte(): number {
    return this.bytes[this.#pos++];
  }

  #varint(): bigint {
    let result = 0n, shift = 0n;
    for (;;) {
      const b = this.#byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  #zigzag(): bigint {
    const n = this.#varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  struct(): Struct {
    const fields: Struct = new Map();
    let id = 0;
    for (;;) {
      const header = this.#byte();
      if (header === 0) return fields;
      const delta = header >> 4;
      id = delta === 0 ? Number(this.#zigzag()) : id + delta;
      fields.set(id, this.#value(header & 0x0f));
    }
  }

  #value(type: number): Value {
    switch (type) {
      case 1:
        return true;
      case 2:
        return false;
      case 3:
        return this.#byte();
      case 4:
      case 5:
        return Number(this.#zigzag());
      case 6:
        return this.#zigzag();
      case 7:
        this.#pos += 8;
        return 0;
      case 8: {
        const n = Number(this.#varint());
        const out = this.bytes.subarray(this.#pos, this.#pos + n);
        this.#pos += n;
        return out;
      }
      case 9:
      case 10: {
        const header = this.#byte();
        let size = header >> 4;
        if (size === 15) size = Number(this.#varint());
        const items: Value[] = [];
        for (let i = 0; i < size; i++) items.push(this.#element(header & 0x0f));
        return items;
      }
      case 11: {
        const size = Number(this.#varint());
        if (size === 0) return [];
        const kinds = this.#byte();
        const items: Value[] = [];
        for (let i = 0; i < size; i++) {
          items.push([this.#element(kinds >> 4), this.#element(kinds & 0x0f)]);
        }
        return items;
      }
      case 12:
        return this.struct();
    }
    throw new Error(`unknown thrift compact type ${type}`);
  }

  #element(type: number): Value {
    // Inside lists, booleans are one byte each.
    if (type === 1 || type === 2) return this.#byte() === 1;
    return this.#value(type);
  }
}
