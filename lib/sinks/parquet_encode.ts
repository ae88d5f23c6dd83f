/**
 * A Parquet file from column vectors, in TypeScript: each column's values laid out PLAIN
 * (little-endian numbers, length-prefixed UTF-8, big-endian decimals) — or, for text that came
 * dictionary-encoded, as a dictionary page and bit-packed indexes (RLE_DICTIONARY) — with
 * definition levels for nulls, compressed with zstd by `node:zlib`, and the footer written in
 * Thrift's compact protocol. One row group per `rowGroupRows` rows, one data page per column
 * per row group, every column OPTIONAL, statistics (null count, min and max of numeric
 * columns) on every column chunk. Compression is synchronous: Deno's asynchronous zstd runs
 * on the calling thread anyway, and four times slower.
 *
 * Why not polars, as the harvest's sinks do: the SQL extractor has its rows as typed arrays
 * already, so a part is a few memcpys and one zstd call per column here, where polars needs
 * them re-encoded as an Arrow IPC stream, copies them into its own memory and keeps them until
 * the garbage collector frees the JavaScript handle — about 60 MB more peak memory and a few
 * hundred milliseconds of CPU per million rows, plus its 110 MB library mapped into the
 * process. The files are plain Parquet 1.0 data pages with the logical types polars, DuckDB
 * and Spark read: INT64, DOUBLE, BOOLEAN, DATE, TIMESTAMP(MILLIS|MICROS, UTC-adjusted or not),
 * STRING and DECIMAL(p,s) (INT32, INT64 or FIXED_LEN_BYTE_ARRAY(16) by precision).
 * @module
 */
import zlib from "node:zlib";
import { type ColumnType, decimalOf, decimalUnscaled } from "./column_types.ts";
import { isDict, nullCount, type VectorColumn } from "./vectors.ts";
import { concatBytes, utf8Length } from "../core/bytes.ts";

/** Options of {@link encodeParquet}. */
export interface ParquetEncodeOptions {
  /** Compression of every page. @default "zstd" */
  compression?: "zstd" | "none";
  /** Rows per row group. @default 100_000 */
  rowGroupRows?: number;
}

const zstdCompressSync = (zlib as unknown as {
  zstdCompressSync: (data: Uint8Array) => Uint8Array;
}).zstdCompressSync;

/** Parquet physical types (parquet.thrift `Type`). */
const PHYSICAL = { BOOLEAN: 0, INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6, FLBA: 7 } as const;
/** Thrift compact protocol field types. */
const T = { TRUE: 1, FALSE: 2, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;
const ENCODING = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
const CODEC = { none: 0, zstd: 6 } as const;
const TWO_32 = 4294967296;
const encoder = new TextEncoder();

/** A growable little-endian byte buffer. */
class Bytes {
  bytes: Uint8Array;
  view: DataView;
  length = 0;
  constructor(capacity = 256) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }
  ensure(more: number): void {
    if (this.length + more <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + more));
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }
  byte(value: number): void {
    this.ensure(1);
    this.bytes[this.length++] = value;
  }
  set(data: Uint8Array): void {
    this.ensure(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }
  int32(value: number): void {
    this.ensure(4);
    this.view.setInt32(this.length, value, true);
    this.length += 4;
  }
  /** Unsigned LEB128 of a non-negative safe integer. */
  varint(value: number): void {
    while (value >= 0x80) {
      this.byte((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    this.byte(value);
  }
  done(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** Thrift compact protocol writer: just what the Parquet footer and page headers use. */
class Thrift {
  readonly out = new Bytes();
  #last: number[] = [0];
  #field(id: number, type: number): void {
    const delta = id - this.#last[this.#last.length - 1];
    if (delta > 0 && delta <= 15) this.out.byte((delta << 4) | type);
    else {
      this.out.byte(type);
      this.#zigzag(id);
    }
    this.#last[this.#last.length - 1] = id;
  }
  #zigzag(value: number): void {
    this.out.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }
  i32(id: number, value: number): this {
    this.#field(id, T.I32);
    this.#zigzag(value);
    return this;
  }
  i64(id: number, value: number): this {
    this.#field(id, T.I64);
    this.#zigzag(value);
    return this;
  }
  bool(id: number, value: boolean): this {
    this.#field(id, value ? T.TRUE : T.FALSE);
    return this;
  }
  binary(id: number, value: Uint8Array | string): this {
    this.#field(id, T.BINARY);
    const bytes = typeof value === "string" ? encoder.encode(value) : value;
    this.out.varint(bytes.length);
    this.out.set(bytes);
    return this;
  }
  /** A struct field; `body` writes its fields. */
  struct(id: number, body: (t: this) => void): this {
    this.#field(id, T.STRUCT);
    this.#begin();
    body(this);
    this.#end();
    return this;
  }
  /** A list field of `type` elements; `each` writes one element (a struct's fields, or a value). */
  list<V>(id: number, type: number, items: readonly V[], each: (t: this, item: V) => void): this {
    this.#field(id, T.LIST);
    if (items.length < 15) this.out.byte((items.length << 4) | type);
    else {
      this.out.byte(0xf0 | type);
      this.out.varint(items.length);
    }
    for (const item of items) {
      if (type === T.STRUCT) {
        this.#begin();
        each(this, item);
        this.#end();
      } else {
        each(this, item);
      }
    }
    return this;
  }
  /** A bare element value inside a list. */
  elementI32(value: number): void {
    this.#zigzag(value);
  }
  elementBinary(value: string): void {
    const bytes = encoder.encode(value);
    this.out.varint(bytes.length);
    this.out.set(bytes);
  }
  #begin(): void {
    this.#last.push(0);
  }
  #end(): void {
    this.out.byte(0); // STOP
    this.#last.pop();
  }
  /** Ends the top-level struct and returns its bytes. */
  finish(): Uint8Array {
    this.out.byte(0);
    return this.out.done();
  }
}

/** How a column type is stored: physical type, byte width of FIXED_LEN_BYTE_ARRAY, and schema. */
interface Layout {
  physical: number;
  typeLength?: number;
  /** Writes the SchemaElement fields after name and repetition (converted and logical type). */
  schema(t: Thrift): void;
}

function layoutOf(type: ColumnType): Layout {
  const decimal = decimalOf(type);
  if (decimal) {
    const { precision, scale } = decimal;
    const physical = precision <= 9
      ? PHYSICAL.INT32
      : precision <= 18
      ? PHYSICAL.INT64
      : PHYSICAL.FLBA;
    return {
      physical,
      typeLength: physical === PHYSICAL.FLBA ? 16 : undefined,
      schema: (t) =>
        t.i32(6, 5).i32(7, scale).i32(8, precision)
          .struct(10, (l) => l.struct(5, (d) => d.i32(1, scale).i32(2, precision))),
    };
  }
  switch (type) {
    case "int64":
      return { physical: PHYSICAL.INT64, schema: () => {} };
    case "float64":
      return { physical: PHYSICAL.DOUBLE, schema: () => {} };
    case "boolean":
      return { physical: PHYSICAL.BOOLEAN, schema: () => {} };
    case "date":
      return {
        physical: PHYSICAL.INT32,
        schema: (t) => t.i32(6, 6).struct(10, (l) => l.struct(6, () => {})),
      };
    case "datetime":
    case "timestamp_tz":
    case "timestamp": {
      const millis = type === "datetime";
      const utc = type !== "timestamp";
      return {
        physical: PHYSICAL.INT64,
        schema: (t) => {
          // The converted type TIMESTAMP_* means UTC-adjusted: only for zoned timestamps.
          if (utc) t.i32(6, millis ? 9 : 10);
          t.struct(
            10,
            (l) =>
              l.struct(
                8,
                (ts) => ts.bool(1, utc).struct(2, (unit) => unit.struct(millis ? 1 : 2, () => {})),
              ),
          );
        },
      };
    }
    default:
      // string, json: UTF-8 text
      return {
        physical: PHYSICAL.BYTE_ARRAY,
        schema: (t) => t.i32(6, 0).struct(10, (l) => l.struct(1, () => {})),
      };
  }
}

/** Rows `start..end-1` of a column are valid? (`valid` bytes, or non-null text.) */
function validAt(column: VectorColumn): (i: number) => boolean {
  const values = column.values;
  if (column.valid !== null) {
    const valid = column.valid;
    return (i) => valid[i] !== 0;
  }
  if (Array.isArray(values)) return (i) => values[i] !== null;
  if (isDict(values)) return (i) => values.codes[i] !== 0;
  return () => true;
}

/** Definition levels of rows `start..end-1` (RLE/bit-packed hybrid, 4-byte length prefix). */
function definitionLevels(column: VectorColumn, start: number, end: number, nulls: number): Bytes {
  const n = end - start;
  const out = new Bytes(16 + (n >> 3));
  out.int32(0); // length, patched below
  if (nulls === 0) {
    out.varint(n * 2); // one RLE run of 1s
    out.byte(1);
  } else {
    // Bit-packed groups of 8 with bit width 1: a validity bitmap, least significant bit first.
    const groups = (n + 7) >> 3;
    out.varint(groups * 2 + 1);
    out.ensure(groups);
    const bits = out.bytes;
    const at = out.length;
    bits.fill(0, at, at + groups);
    const valid = validAt(column);
    for (let i = 0; i < n; i++) if (valid(start + i)) bits[at + (i >> 3)] |= 1 << (i & 7);
    out.length += groups;
  }
  out.view.setInt32(0, out.length - 4, true);
  return out;
}

/** Min, max (as PLAIN bytes) of the non-null numbers written, for the statistics. */
interface Extremes {
  min: Uint8Array;
  max: Uint8Array;
}

/** PLAIN values of the non-null rows `start..end-1`, and their extremes where cheap. */
function plainValues(
  column: VectorColumn,
  layout: Layout,
  start: number,
  end: number,
  present: number,
): { bytes: Uint8Array; extremes?: Extremes } {
  const values = column.values;
  const valid = column.valid;
  const decimal = decimalOf(column.type);
  if (Array.isArray(values) || isDict(values)) {
    const texts = isDict(values) ? undefined : values;
    if (decimal) return { bytes: decimalValues(column, layout, start, end, present) };
    return { bytes: textValues(texts, isDict(values) ? values : undefined, start, end) };
  }
  if (column.type === "boolean") {
    const bits = new Uint8Array((present + 7) >> 3);
    let k = 0;
    const flags = values as Uint8Array;
    for (let i = start; i < end; i++) {
      if (valid !== null && valid[i] === 0) continue;
      if (flags[i] !== 0) bits[k >> 3] |= 1 << (k & 7);
      k++;
    }
    return { bytes: bits };
  }
  // One function per type: a loop shared by every type would lose its optimized code each time
  // the type changes (V8 deoptimizes on the new feedback), and an extraction writes only a few
  // dozen column chunks, most of them before V8 would settle.
  if (column.type === "date") return dateValues(values as Int32Array, valid, start, end, present);
  if (column.type === "float64") {
    return floatValues(values as Float64Array, valid, start, end, present);
  }
  // int64, timestamps: 64-bit little-endian integers
  if (values instanceof BigInt64Array) return wideValues(values, valid, start, end, present);
  return integerValues(values as Float64Array, valid, start, end, present);
}

/** PLAIN of DATE: days as 32-bit integers. */
function dateValues(
  days: Int32Array,
  valid: Uint8Array | null,
  start: number,
  end: number,
  present: number,
): { bytes: Uint8Array; extremes?: Extremes } {
  const out = new Int32Array(present);
  let k = 0;
  let min = Infinity, max = -Infinity;
  for (let i = start; i < end; i++) {
    if (valid !== null && valid[i] === 0) continue;
    const v = days[i];
    out[k++] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    bytes: new Uint8Array(out.buffer),
    extremes: present > 0
      ? {
        min: Uint8Array.from(new Uint8Array(Int32Array.of(min).buffer)),
        max: new Uint8Array(Int32Array.of(max).buffer),
      }
      : undefined,
  };
}

/** PLAIN of DOUBLE. */
function floatValues(
  doubles: Float64Array,
  valid: Uint8Array | null,
  start: number,
  end: number,
  present: number,
): { bytes: Uint8Array; extremes?: Extremes } {
  // Without nulls the values are the page's bytes as they are: a view, not a copy.
  const out = valid === null ? doubles.subarray(start, end) : new Float64Array(present);
  let min = Infinity, max = -Infinity;
  let k = 0;
  for (let i = start; i < end; i++) {
    if (valid !== null) {
      if (valid[i] === 0) continue;
      out[k++] = doubles[i];
    }
    const v = doubles[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength),
    // NaN makes the order undefined: no extremes then.
    extremes: present > 0 && !Number.isNaN(min) && !Number.isNaN(max)
      ? {
        min: new Uint8Array(Float64Array.of(min).buffer),
        max: new Uint8Array(Float64Array.of(max).buffer),
      }
      : undefined,
  };
}

/** PLAIN of INT64 held as big integers (beyond 2^53). */
function wideValues(
  values: BigInt64Array,
  valid: Uint8Array | null,
  start: number,
  end: number,
  present: number,
): { bytes: Uint8Array; extremes?: Extremes } {
  const out = new BigInt64Array(present);
  let k = 0;
  let min = 0n, max = 0n;
  for (let i = start; i < end; i++) {
    if (valid !== null && valid[i] === 0) continue;
    const v = values[i];
    if (k === 0 || v < min) min = v;
    if (k === 0 || v > max) max = v;
    out[k++] = v;
  }
  return {
    bytes: new Uint8Array(out.buffer),
    extremes: present > 0
      ? {
        min: new Uint8Array(BigInt64Array.of(min).buffer),
        max: new Uint8Array(BigInt64Array.of(max).buffer),
      }
      : undefined,
  };
}

/** PLAIN of INT64 held as doubles (safe integers). */
function integerValues(
  numbers: Float64Array,
  valid: Uint8Array | null,
  start: number,
  end: number,
  present: number,
): { bytes: Uint8Array; extremes?: Extremes } {
  const words = scratchWords(present * 2);
  let k = 0;
  let min = Infinity, max = -Infinity;
  for (let i = start; i < end; i++) {
    if (valid !== null && valid[i] === 0) continue;
    const v = numbers[i];
    // Safe integers as two 32-bit halves: `| 0` keeps the low 32 bits (two's complement).
    words[k++] = v | 0;
    words[k++] = Math.floor(v / TWO_32);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    bytes: new Uint8Array(words.buffer, 0, words.byteLength),
    extremes: present > 0
      ? {
        min: new Uint8Array(BigInt64Array.of(BigInt(min)).buffer),
        max: new Uint8Array(BigInt64Array.of(BigInt(max)).buffer),
      }
      : undefined,
  };
}

/** The buffer {@link scratchWords} hands out again and again. */
let scratch = new Int32Array(0);

/**
 * `length` 32-bit words for a page's values, which `columnPages` copies after the page's
 * levels before it asks for another: one buffer for every page. A new one each time is
 * megabytes of fresh memory per chunk for the kernel to map and zero (page faults), which cost
 * more than the encoding itself in a process that writes a few dozen column chunks.
 */
function scratchWords(length: number): Int32Array {
  if (scratch.length < length) scratch = new Int32Array(Math.max(length, scratch.length * 2));
  return scratch.subarray(0, length);
}

/** BYTE_ARRAY PLAIN: a 4-byte length then the UTF-8 bytes of each non-null text. */
function textValues(
  texts: readonly (string | null)[] | undefined,
  dict: { codes: Uint32Array; dict: string[] } | undefined,
  start: number,
  end: number,
): Uint8Array {
  if (dict) {
    const encoded = dict.dict.map((v) => encoder.encode(v));
    let total = 0;
    for (let i = start; i < end; i++) {
      const code = dict.codes[i];
      if (code !== 0) total += 4 + encoded[code - 1].length;
    }
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    let at = 0;
    for (let i = start; i < end; i++) {
      const code = dict.codes[i];
      if (code === 0) continue;
      const bytes = encoded[code - 1];
      view.setInt32(at, bytes.length, true);
      at += 4;
      if (bytes.length <= 16) {
        for (let b = 0; b < bytes.length; b++) out[at + b] = bytes[b];
      } else {
        out.set(bytes, at);
      }
      at += bytes.length;
    }
    return out;
  }
  const joined = joinedTextValues(texts!, start, end);
  if (joined) return joined;
  const out = new Bytes(1024);
  for (let i = start; i < end; i++) {
    const text = texts![i];
    if (text === null) continue;
    // ASCII needs one byte a character; encodeInto says what it wrote otherwise.
    out.ensure(4 + text.length * 3);
    const { written } = encoder.encodeInto(text, out.bytes.subarray(out.length + 4));
    out.view.setInt32(out.length, written, true);
    out.length += 4 + written;
  }
  return out.done();
}

/**
 * BYTE_ARRAY PLAIN of the rows' text joined and encoded in one call, then each value copied
 * after its length. One `encodeInto` per value costs about as much again as the whole page, and
 * allocates its result (the harvest's batches are mostly short strings). Returns `undefined`
 * when the values' UTF-8 lengths do not add up to what the join encoded: a value ending in half
 * a surrogate pair joined to the next value's other half encodes as one character spanning both.
 */
function joinedTextValues(
  texts: readonly (string | null)[],
  start: number,
  end: number,
): Uint8Array | undefined {
  // join() writes null as "": exactly the zero bytes a null cell takes.
  const joined = start === 0 && end === texts.length
    ? texts.join("")
    : texts.slice(start, end).join("");
  // Three bytes per UTF-16 unit always suffice (a pair of them takes four).
  const utf8 = new Uint8Array(joined.length * 3);
  const { written } = encoder.encodeInto(joined, utf8);
  let present = 0;
  for (let i = start; i < end; i++) if (texts[i] !== null) present++;
  // ASCII: one byte a character. Otherwise each value's UTF-8 length, checked against the join.
  let lengths: Int32Array | undefined;
  if (written !== joined.length) {
    lengths = new Int32Array(end - start);
    let total = 0;
    for (let i = start; i < end; i++) {
      const text = texts[i];
      if (text !== null) total += lengths[i - start] = utf8Length(text);
    }
    if (total !== written) return undefined;
  }
  const out = new Uint8Array(present * 4 + written);
  const view = new DataView(out.buffer);
  let at = 0;
  let from = 0;
  for (let i = start; i < end; i++) {
    const text = texts[i];
    if (text === null) continue;
    const n = lengths === undefined ? text.length : lengths[i - start];
    view.setInt32(at, n, true);
    at += 4;
    if (n <= 16) {
      for (let b = 0; b < n; b++) out[at + b] = utf8[from + b];
    } else {
      out.set(utf8.subarray(from, from + n), at);
    }
    at += n;
    from += n;
  }
  return out;
}

/** DECIMAL as INT32, INT64 or 16-byte big-endian two's complement, by precision. */
function decimalValues(
  column: VectorColumn,
  layout: Layout,
  start: number,
  end: number,
  present: number,
): Uint8Array {
  const values = column.values as (string | null)[] | { codes: Uint32Array; dict: string[] };
  const textAt = isDict(values)
    ? (i: number) => values.codes[i] === 0 ? null : values.dict[values.codes[i] - 1]
    : (i: number) => values[i];
  const width = layout.physical === PHYSICAL.INT32
    ? 4
    : layout.physical === PHYSICAL.INT64
    ? 8
    : 16;
  const out = new Uint8Array(present * width);
  const view = new DataView(out.buffer);
  let at = 0;
  for (let i = start; i < end; i++) {
    const text = textAt(i);
    if (text === null) continue;
    const unscaled = decimalUnscaled(text);
    if (width === 4) view.setInt32(at, Number(unscaled), true);
    else if (width === 8) view.setBigInt64(at, unscaled, true);
    else {
      view.setBigInt64(at, BigInt.asIntN(64, unscaled >> 64n), false);
      view.setBigUint64(at + 8, BigInt.asUintN(64, unscaled), false);
    }
    at += width;
  }
  return out;
}

/** One column chunk, ready to place: its pages (headers and compressed bodies) and metadata. */
interface Chunk {
  /** The dictionary page (header and body), when the text is dictionary-encoded. */
  dictionary?: [Uint8Array, Uint8Array];
  header: Uint8Array;
  body: Uint8Array;
  uncompressed: number;
  values: number;
  nulls: number;
  extremes?: Extremes;
}

/**
 * A page header: `size` bytes uncompressed (taken before compression: a compressor on another
 * thread may take the page's buffer), stored as `body`.
 */
function pageHeader(type: number, size: number, body: Uint8Array, fields: (t: Thrift) => void) {
  const t = new Thrift().i32(1, type).i32(2, size).i32(3, body.length);
  fields(t);
  return t.finish();
}

/** A column chunk's pages before compression, and how to finish it from their bodies. */
interface ColumnPages {
  /** The uncompressed pages: the dictionary page (when any), then the data page. */
  raw: Uint8Array[];
  /** The chunk, from the bodies of `raw` (compressed, or the pages themselves), in order. */
  finish(bodies: Uint8Array[]): Chunk;
}

function columnPages(
  column: VectorColumn,
  layout: Layout,
  start: number,
  end: number,
  allocate: (length: number) => Uint8Array,
): ColumnPages {
  const nulls = nullCountIn(column, start, end);
  const present = end - start - nulls;
  const levels = definitionLevels(column, start, end, nulls);
  const values = column.values;
  let dictPage: Uint8Array | undefined;
  let dictSize = 0;
  let bytes: Uint8Array;
  let extremes: Extremes | undefined;
  let encoding: number = ENCODING.PLAIN;
  if (isDict(values) && !decimalOf(column.type)) {
    // The dictionary once (PLAIN), then each row's index, bit-packed.
    dictPage = textValues(values.dict, undefined, 0, values.dict.length);
    dictSize = values.dict.length;
    bytes = dictionaryIndexes(values.codes, values.dict.length, start, end, present);
    encoding = ENCODING.RLE_DICTIONARY;
  } else {
    ({ bytes, extremes } = plainValues(column, layout, start, end, present));
  }
  const page = allocate(levels.length + bytes.length);
  page.set(levels.done());
  page.set(bytes, levels.length);
  // Sizes now: a compressor on another thread may take the pages' buffers.
  const pageSize = page.length;
  const dictPageSize = dictPage?.length ?? 0;
  return {
    raw: dictPage ? [dictPage, page] : [page],
    finish(bodies) {
      let dictionary: [Uint8Array, Uint8Array] | undefined;
      if (dictPage) {
        dictionary = [
          pageHeader(
            2,
            dictPageSize,
            bodies[0],
            (t) => t.struct(7, (d) => d.i32(1, dictSize).i32(2, ENCODING.PLAIN)),
          ),
          bodies[0],
        ];
      }
      const body = bodies[bodies.length - 1];
      const header = pageHeader(
        0,
        pageSize,
        body,
        (t) =>
          t.struct(
            5,
            (d) => d.i32(1, end - start).i32(2, encoding).i32(3, ENCODING.RLE).i32(4, ENCODING.RLE),
          ),
      );
      const dictionarySize = dictionary ? dictionary[0].length + dictionary[1].length : 0;
      return {
        dictionary,
        header,
        body,
        uncompressed: header.length + pageSize + dictionarySize +
          (dictPage ? dictPageSize - bodies[0].length : 0),
        values: end - start,
        nulls,
        extremes,
      };
    },
  };
}

/**
 * The data of a dictionary-encoded page: the bit width, then the indexes (code − 1) of the
 * non-null rows in one bit-packed run of the RLE/bit-packed hybrid.
 */
function dictionaryIndexes(
  codes: Uint32Array,
  size: number,
  start: number,
  end: number,
  present: number,
): Uint8Array {
  const width = Math.max(1, Math.ceil(Math.log2(Math.max(size, 2))));
  const groups = (present + 7) >> 3;
  const header = new Bytes(8);
  header.byte(width);
  header.varint(groups * 2 + 1);
  const out = new Uint8Array(header.length + groups * width);
  out.set(header.done());
  // Values packed least significant bit first, `width` bits each, across bytes.
  let at = header.length;
  let acc = 0;
  let bits = 0;
  for (let i = start; i < end; i++) {
    const code = codes[i];
    if (code === 0) continue;
    acc |= (code - 1) << bits;
    bits += width;
    while (bits >= 8) {
      out[at++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out[at++] = acc & 0xff;
  return out;
}

function nullCountIn(column: VectorColumn, start: number, end: number): number {
  if (start === 0) return nullCount(column, end);
  let nulls = 0;
  const valid = validAt(column);
  for (let i = start; i < end; i++) if (!valid(i)) nulls++;
  return nulls;
}

/**
 * Encodes `length` rows of column vectors as a Parquet file (see the module notes), as the
 * pieces of the file in order — written one after another, they are the file, without one
 * more copy of it in memory.
 *
 * @example
 * ```ts
 * import { encodeParquetPieces } from "./parquet_encode.ts";
 * const pieces = encodeParquetPieces([
 *   { name: "id", type: "int64", values: Float64Array.of(1, 2), valid: null },
 * ], 2);
 * pieces.reduce((n, p) => n + p.length, 0); // the file's size
 * ```
 */
export function encodeParquetPieces(
  columns: readonly VectorColumn[],
  length: number,
  options: ParquetEncodeOptions = {},
): Uint8Array[] {
  const compression = options.compression ?? "zstd";
  const draft = draftParquet(columns, length, options.rowGroupRows);
  return assembleParquet(
    columns,
    draft,
    draft.pages.map((page) => compression === "zstd" ? zstdCompressSync(page) : page),
    compression,
  );
}

/**
 * {@link encodeParquetPieces} with zstd done by `compress` — on another thread, for a caller
 * whose own thread is the busy one. `compress` must return the zstd frame of the page it is
 * given (it may take ownership of the page's buffer).
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { encodeParquetPiecesWith } from "./parquet_encode.ts";
 * const pieces = await encodeParquetPiecesWith([
 *   { name: "id", type: "int64", values: Float64Array.of(1, 2), valid: null },
 * ], 2, {}, (page) => Promise.resolve(zlib.zstdCompressSync(page)));
 * ```
 */
export async function encodeParquetPiecesWith(
  columns: readonly VectorColumn[],
  length: number,
  options: Pick<ParquetEncodeOptions, "rowGroupRows">,
  compress: (page: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array[]> {
  const synchronous = (compress as Partial<SynchronousTag>)[SYNCHRONOUS] === true;
  const arena = synchronous ? takeArena() : undefined;
  try {
    const draft = draftParquet(columns, length, options.rowGroupRows, arena?.start());
    const bodies = await Promise.all(draft.pages.map((page) => compress(page)));
    return assembleParquet(columns, draft, bodies, "zstd");
  } finally {
    if (arena) giveArena(arena);
  }
}

const SYNCHRONOUS: unique symbol = Symbol("synchronous page compressor");
interface SynchronousTag {
  [SYNCHRONOUS]: true;
}

/**
 * A compressor for {@link encodeParquetPiecesWith} that is done with each page when it returns
 * and returns a new buffer (zstd on the calling thread): the encoder may then lay the raw pages
 * of every file in the same reused memory instead of fresh buffers. Fresh buffers are megabytes
 * per file for the kernel to map and zero (page faults), which cost more than the encoding in
 * a process that writes a few dozen column chunks.
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { encodeParquetPiecesWith, synchronousCompressor } from "./parquet_encode.ts";
 * const compress = synchronousCompressor((page) => zlib.zstdCompressSync(page));
 * const pieces = await encodeParquetPiecesWith([
 *   { name: "id", type: "int64", values: Float64Array.of(1, 2), valid: null },
 * ], 2, {}, compress);
 * ```
 */
export function synchronousCompressor(
  compress: (page: Uint8Array) => Uint8Array,
): (page: Uint8Array) => Promise<Uint8Array> {
  const wrapped = (page: Uint8Array) => Promise.resolve(compress(page));
  return Object.assign(wrapped, { [SYNCHRONOUS]: true as const });
}

/**
 * Memory for the raw pages of one file at a time, kept between files: blocks of at least 4 MB,
 * handed out in order from the first again by `start` (a file's pages are all compressed
 * before its arena serves another file, see {@link synchronousCompressor}).
 */
class PageArena {
  readonly #blocks: Uint8Array[] = [];
  #block = 0;
  #used = 0;
  /** An allocator for the next file's pages, reusing the memory of the last one. */
  start(): (length: number) => Uint8Array {
    this.#block = 0;
    this.#used = 0;
    return (length) => this.#take(length);
  }
  #take(length: number): Uint8Array {
    for (;;) {
      let block = this.#blocks[this.#block];
      if (block === undefined) {
        block = new Uint8Array(Math.max(ARENA_BLOCK, length));
        this.#blocks.push(block);
      }
      if (this.#used + length <= block.length) {
        const page = block.subarray(this.#used, this.#used + length);
        this.#used += length;
        // Not zeroed: `columnPages` writes every byte of its page (levels, then values).
        return page;
      }
      this.#block++;
      this.#used = 0;
    }
  }
}

const ARENA_BLOCK = 4 << 20;
/**
 * Arenas between encodings. An encoding takes one for its file and gives it back once every page
 * is compressed: encodings that pause (or several assets' batches in one process) each lay their
 * pages in memory of their own. At most {@link MAX_IDLE_ARENAS} are kept: a harvest of 4 key
 * ranges runs 4 encodings at once now and then, and keeping every arena it ever used held ~15 MB
 * more for the rest of the run; the others are left to the garbage collector.
 */
const idleArenas: PageArena[] = [];
const MAX_IDLE_ARENAS = 2;

function takeArena(): PageArena {
  return idleArenas.pop() ?? new PageArena();
}

function giveArena(arena: PageArena): void {
  if (idleArenas.length < MAX_IDLE_ARENAS) idleArenas.push(arena);
}

/**
 * {@link encodeParquetPieces} in steps, awaiting `pause` after each column chunk is encoded and
 * after each few pages are compressed: a 10 000-row batch takes tens of milliseconds, and a caller
 * whose thread also serves requests (a harvest's next page) lets them run in between instead of
 * holding them for the whole batch. The same bytes as {@link encodeParquetPieces}.
 *
 * @example
 * ```ts
 * import { encodeParquetPiecesPausing } from "./parquet_encode.ts";
 * const pieces = await encodeParquetPiecesPausing([
 *   { name: "id", type: "int64", values: Float64Array.of(1, 2), valid: null },
 * ], 2, {}, () => new Promise((resolve) => setTimeout(resolve, 0)));
 * ```
 */
export async function encodeParquetPiecesPausing(
  columns: readonly VectorColumn[],
  length: number,
  options: ParquetEncodeOptions,
  pause: () => Promise<void>,
): Promise<Uint8Array[]> {
  const compression = options.compression ?? "zstd";
  // Uncompressed pages are the file's pieces themselves: they cannot live in reused memory.
  const arena = compression === "zstd" ? takeArena() : undefined;
  try {
    const steps = draftSteps(columns, length, options.rowGroupRows, arena?.start());
    let step = steps.next();
    while (!step.done) {
      await pause();
      step = steps.next();
    }
    const draft = step.value;
    const bodies: Uint8Array[] = [];
    for (const page of draft.pages) {
      if (compression !== "zstd") {
        bodies.push(page);
        continue;
      }
      bodies.push(zstdCompressSync(page));
      if (bodies.length % 4 === 0) await pause();
    }
    return assembleParquet(columns, draft, bodies, compression);
  } finally {
    if (arena) giveArena(arena);
  }
}

/** Every column chunk's pages of every row group, before compression. */
interface Draft {
  groups: { start: number; end: number; columns: ColumnPages[] }[];
  /** The raw pages of every chunk, in file order. */
  pages: Uint8Array[];
}

function draftParquet(
  columns: readonly VectorColumn[],
  length: number,
  rowGroupRows?: number,
  allocate?: (length: number) => Uint8Array,
): Draft {
  const steps = draftSteps(columns, length, rowGroupRows, allocate);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/** {@link draftParquet} one column chunk at a time: it yields after each, returns the draft. */
function* draftSteps(
  columns: readonly VectorColumn[],
  length: number,
  rowGroupRows = 100_000,
  allocate: (length: number) => Uint8Array = (n) => new Uint8Array(n),
): Generator<void, Draft> {
  const groupRows = Math.max(1, rowGroupRows);
  const layouts = columns.map((c) => layoutOf(c.type));
  const groups: Draft["groups"] = [];
  for (let start = 0; start < length || (start === 0 && groups.length === 0); start += groupRows) {
    const end = Math.min(length, start + groupRows);
    const chunks: ColumnPages[] = [];
    for (let k = 0; k < columns.length; k++) {
      chunks.push(columnPages(columns[k], layouts[k], start, end, allocate));
      yield;
    }
    groups.push({ start, end, columns: chunks });
    if (length === 0) break;
  }
  return { groups, pages: groups.flatMap((g) => g.columns.flatMap((c) => c.raw)) };
}

/** The file's pieces from a draft and the bodies of its pages (in the draft's order). */
function assembleParquet(
  columns: readonly VectorColumn[],
  draft: Draft,
  bodies: Uint8Array[],
  compression: "zstd" | "none",
): Uint8Array[] {
  const layouts = columns.map((c) => layoutOf(c.type));
  let next = 0;
  const groups = draft.groups.map((group) => ({
    start: group.start,
    end: group.end,
    chunks: group.columns.map((pages) => {
      const own = bodies.slice(next, next + pages.raw.length);
      next += pages.raw.length;
      return pages.finish(
        own.map((body) => new Uint8Array(body.buffer, body.byteOffset, body.length)),
      );
    }),
  }));
  // Layout: PAR1, every row group's column chunks in order, the footer, its length, PAR1.
  let offset = 4;
  const rowGroupMeta = groups.map((group) => {
    const placed = group.chunks.map((chunk) => {
      const dictionaryAt = chunk.dictionary ? offset : undefined;
      if (chunk.dictionary) offset += chunk.dictionary[0].length + chunk.dictionary[1].length;
      const at = offset;
      offset += chunk.header.length + chunk.body.length;
      return { chunk, at, dictionaryAt };
    });
    return { group, placed };
  });
  const footer = new Thrift()
    .i32(1, 1)
    .list(2, T.STRUCT, [null, ...columns], (t, column) => {
      if (column === null) {
        t.binary(4, "schema").i32(5, columns.length);
        return;
      }
      const layout = layoutOf(column.type);
      t.i32(1, layout.physical);
      if (layout.typeLength !== undefined) t.i32(2, layout.typeLength);
      t.i32(3, 1).binary(4, column.name); // OPTIONAL
      layout.schema(t);
    })
    .i64(3, draft.groups.reduce((n, g) => n + g.end - g.start, 0))
    .list(4, T.STRUCT, rowGroupMeta, (t, { group, placed }) => {
      let bytes = 0;
      t.list(1, T.STRUCT, placed, (c, { chunk, at, dictionaryAt }) => {
        const k = placed.findIndex((p) => p.chunk === chunk);
        const first = dictionaryAt ?? at;
        const size = chunk.header.length + chunk.body.length + (at - first);
        bytes += chunk.uncompressed;
        const encodings = chunk.dictionary
          ? [ENCODING.PLAIN, ENCODING.RLE, ENCODING.RLE_DICTIONARY]
          : [ENCODING.PLAIN, ENCODING.RLE];
        c.i64(2, first).struct(3, (m) => {
          m.i32(1, layouts[k].physical)
            .list(2, T.I32, encodings, (e, v) => e.elementI32(v))
            .list(3, T.BINARY, [columns[k].name], (e, v) => e.elementBinary(v))
            .i32(4, CODEC[compression])
            .i64(5, chunk.values)
            .i64(6, chunk.uncompressed)
            .i64(7, size)
            .i64(9, at);
          if (dictionaryAt !== undefined) m.i64(11, dictionaryAt);
          m.struct(12, (s) => {
            s.i64(3, chunk.nulls);
            if (chunk.extremes) s.binary(5, chunk.extremes.max).binary(6, chunk.extremes.min);
          });
        });
      });
      t.i64(2, bytes).i64(3, group.end - group.start);
    })
    .binary(6, "tidemark")
    .finish();
  const magic = encoder.encode("PAR1");
  const pieces: Uint8Array[] = [magic];
  for (const { placed } of rowGroupMeta) {
    for (const { chunk } of placed) {
      if (chunk.dictionary) pieces.push(...chunk.dictionary);
      pieces.push(chunk.header, chunk.body);
    }
  }
  const trailer = new Uint8Array(8);
  new DataView(trailer.buffer).setInt32(0, footer.length, true);
  trailer.set(magic, 4);
  pieces.push(footer, trailer);
  return pieces;
}

/**
 * {@link encodeParquetPieces} as one array: the whole file.
 *
 * @example
 * ```ts
 * import { encodeParquet } from "./parquet_encode.ts";
 * const bytes = encodeParquet([
 *   { name: "id", type: "int64", values: Float64Array.of(1, 2), valid: null },
 * ], 2);
 * await Deno.writeFile("ids.parquet", bytes);
 * ```
 */
export function encodeParquet(
  columns: readonly VectorColumn[],
  length: number,
  options: ParquetEncodeOptions = {},
): Uint8Array {
  return concatBytes(encodeParquetPieces(columns, length, options));
}
