/**
 * Rows into typed column vectors: the SQL extractor's hot path. Pages of rows (arrays of cells,
 * as `node:sqlite` and `pg` return them in array mode) are written column by column into
 * typed arrays — numbers into `Float64Array`s, days into `Int32Array`s, timestamps as
 * microseconds, text dictionary-encoded while it repeats — and every `chunkRows` rows the
 * vectors are handed off as one {@link BuiltChunk}, ready for the sinks' Arrow encoder.
 *
 * Column types, in order of precedence:
 * 1. a declaration (`columns:`: type, text date `format`, `nullable`, `rename`);
 * 2. the type the database declares (SQLite `INTEGER`, PostgreSQL `timestamptz`, …);
 * 3. for columns without one (SQLite expressions, `DATETIME`, `NUMERIC`), the first non-null
 *    value of the first chunk (integers widen to float64 when a fraction shows up in it);
 * 4. with `inferDates` (SQLite), a text column whose every value across the first chunk is one
 *    ISO-8601 form becomes DATE, TIMESTAMP or TIMESTAMP UTC (declare `type: string` to keep
 *    text).
 *
 * Types are fixed once the first chunk is complete, so every part has the same schema. A row
 * with a value that does not fit its column's type later on is not written: it is handed back
 * as a reject naming the column and the reason (the caller writes the rejects file and checks
 * the reject ratio). A BLOB is an error for the whole run: no output format holds one, and the
 * fix is in the query.
 *
 * With `incremental`, the builder also follows the watermark column across the rows as read
 * (see `incremental.ts`): rows written by the previous run are dropped, and the new boundary is
 * kept from the source's own values, so it compares in SQL as the database compares them.
 * @module
 */
import { SqlError } from "../core/errors.ts";
import type { RejectedRow } from "../contracts/mod.ts";
import {
  type CellConverter,
  type ColumnDecl,
  type ColumnType,
  declaredConverter,
  isTextType,
} from "../sinks/column_types.ts";
import { parseIsoDateTime, scratchParts } from "../sinks/date_text.ts";
import { gatherVector, isDict, type VectorBatch, type VectorColumn } from "../sinks/vectors.ts";
import { type Boundary, BoundaryTracker } from "./boundary.ts";

/**
 * What a source knows about a column's type before any row: an exact {@link ColumnType}
 * (declared `INTEGER`, PostgreSQL `int8`, `timestamptz`, `numeric(10,2)`, ...), `numeric`
 * (SQLite `NUMERIC`/`DECIMAL`: numbers become float64, text stays text) or `any` (no declared
 * type: the first value decides).
 */
export type TypeHint = ColumnType | "numeric" | "any";

/** A result column as a source describes it. */
export interface SqlColumn {
  /** Result column name (unique within a query). */
  name: string;
  /** The type the database declares for it (`INTEGER`, `DATETIME`, `int8`), or null. */
  declaredType: string | null;
  /** How its type is decided. */
  hint: TypeHint;
}

/** What to make of the result's columns. */
export interface ShapeOptions {
  /** Declared columns by result column name (type, format, nullable, rename). @default {} */
  columns?: Record<string, ColumnDecl>;
  /** Result columns to keep, in this order. @default every column, in result order */
  select?: string[];
  /**
   * Type text columns holding one ISO-8601 date or timestamp form across the first chunk as
   * DATE / TIMESTAMP / TIMESTAMP UTC (SQLite, whose dates are text). @default false
   */
  inferDates?: boolean;
}

/** The watermark to follow (see `incremental.ts`). */
export interface IncrementalOptions {
  /** The incremental column (a result column name). */
  column: string;
  /** Columns that identify a row. @default every column of the result */
  keys?: string[];
  /** The previous run's boundary, whose rows are dropped when read again. */
  previous?: Boundary;
}

/** Options of {@link ChunkBuilder}. */
export interface ChunkBuilderOptions {
  /** Rows per chunk (before rejected and dropped rows are taken out). @default 100_000 */
  chunkRows?: number;
  /** Declarations, selection, date inference. */
  shape?: ShapeOptions;
  /** Follow a watermark. */
  incremental?: IncrementalOptions;
  /** Dictionary-encode repeating text (cheaper to move across threads and to encode). @default true */
  encodeText?: boolean;
}

/** A chunk of rows as vectors, with what was taken out of it. */
export interface BuiltChunk {
  /** The kept rows, one vector per output column. */
  batch: VectorBatch;
  /** Index of the chunk's first row in the whole result (0-based). */
  firstRow: number;
  /** Rows of the result the chunk covers (kept, rejected and dropped). */
  rowsRead: number;
  /** Rows whose values do not fit their columns' types (`index`: row of the result, 0-based). */
  rejects: RejectedRow[];
  /** Rows dropped because the previous run wrote them (incremental). */
  dropped: number;
}

/** An output column: where it comes from and what it is written as. */
export interface OutputColumn {
  /** Name written (after `rename`). */
  name: string;
  /** Result column it comes from. */
  source: string;
  /** Its type, once fixed (after the first chunk). */
  type?: ColumnType;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Parts a text column's date scan reads right after each parse (one object for every cell). */
const SCANNED_PARTS = scratchParts();

/**
 * Checks a shape against the result's columns before any row is read: declared and selected
 * columns must exist, output names must be unique. Throws {@link SqlError} naming the column.
 */
export function planOutput(
  columns: readonly SqlColumn[],
  shape: ShapeOptions = {},
): OutputColumn[] {
  const names = columns.map((c) => c.name);
  const list = names.join(", ");
  for (const name of Object.keys(shape.columns ?? {})) {
    if (!names.includes(name)) {
      throw new SqlError(
        `columns: ${name} is not a column of the query (columns: ${list}); fix its name`,
      );
    }
  }
  const selected = shape.select ?? names;
  for (const name of selected) {
    if (!names.includes(name)) {
      throw new SqlError(`select: ${name} is not a column of the query (columns: ${list})`);
    }
  }
  if (new Set(selected).size !== selected.length) {
    throw new SqlError(`select lists a column twice (${selected.join(", ")}); list each once`);
  }
  const out = selected.map((source) => ({
    name: shape.columns?.[source]?.rename ?? source,
    source,
  }));
  const seen = new Set<string>();
  for (const column of out) {
    if (seen.has(column.name)) {
      throw new SqlError(
        `two output columns are named "${column.name}" (after rename); give one another name`,
      );
    }
    seen.add(column.name);
  }
  return out;
}

/** Rows being written, as columns in result order: row `r` is `columns[c][r]` for every `c`. */
interface Page {
  readonly columns: readonly (readonly unknown[])[];
}

/** Collects the rejects of a chunk: one per row, with every failed column. */
class Rejects {
  readonly byRow = new Map<number, RejectedRow>();
  constructor(readonly names: readonly string[]) {}
  add(at: number, page: Page, r: number, column: string, message: string): void {
    let reject = this.byRow.get(at);
    if (!reject) {
      const record: Record<string, unknown> = {};
      this.names.forEach((name, c) => record[name] = page.columns[c][r]);
      reject = { row: record, index: at, issues: [], reason: "column_type" };
      this.byRow.set(at, reject);
    }
    reject.issues.push({ path: column, message });
  }
}

type PooledArray = Float64Array | Int32Array | Uint8Array | Uint32Array;

/**
 * The typed arrays of whole chunks, handed back ({@link ChunkBuilder.release}) once a chunk is
 * written and taken again by the next: the builder allocates a chunk's arrays a few times per
 * run, not once per chunk. Without it, each chunk's arrays outlive a few young-generation
 * collections, move to the old generation and wait there for a full collection — tens of MB
 * of dead buffers at any time.
 */
class BufferPool {
  readonly #free = new Map<unknown, PooledArray[]>();
  constructor(readonly capacity: number) {}
  /** A chunk-sized array of `kind` (zeroed only when new: writers overwrite what they use). */
  take<T extends PooledArray>(kind: { new (length: number): T }): T {
    const array = this.#free.get(kind)?.pop();
    return (array as T | undefined) ?? new kind(this.capacity);
  }
  /** Takes back a chunk-sized array no one reads any more. */
  give(array: unknown): void {
    if (
      !(array instanceof Float64Array || array instanceof Int32Array ||
        array instanceof Uint8Array || array instanceof Uint32Array) ||
      array.length !== this.capacity
    ) {
      return;
    }
    const list = this.#free.get(array.constructor) ?? [];
    // A handful per kind covers the chunks in flight; more would only hold memory.
    if (list.length < 16) list.push(array);
    this.#free.set(array.constructor, list);
  }
}

/** Writes one column's cells of a chunk into its vector. */
abstract class ColumnWriter {
  protected valid: Uint8Array | null = null;
  constructor(
    readonly out: OutputColumn & { type: ColumnType },
    readonly pool: BufferPool,
    readonly nullable: boolean,
  ) {}
  /** Rows per chunk. */
  get capacity(): number {
    return this.pool.capacity;
  }
  /** Rows `0..length-1` of a chunk-sized array: itself when full, else a copy (the array goes back). */
  protected trim<T extends PooledArray | BigInt64Array>(array: T, length: number): T {
    if (length === this.capacity) return array;
    const copy = array.slice(0, length) as T;
    this.pool.give(array);
    return copy;
  }
  /** A null at `at`: a reject when the column is declared not nullable. */
  protected checkNull(at: number, page: Page, r: number, rejects: Rejects): void {
    if (!this.nullable) {
      rejects.add(at, page, r, this.out.source, "null in a column declared nullable: false");
    }
  }
  /** A null at `at` of a fixed-width column: marked in the validity bytes. */
  protected setNull(at: number, page: Page, r: number, rejects: Rejects): void {
    this.checkNull(at, page, r, rejects);
    if (this.valid === null) this.valid = this.pool.take(Uint8Array).fill(1);
    this.valid[at] = 0;
  }
  /** Rows `from..to-1` of the chunk are null (they came before the column's type was known). */
  markNulls(from: number, to: number): void {
    if (from >= to) return;
    if (this.valid === null) this.valid = this.pool.take(Uint8Array).fill(1);
    this.valid.fill(0, from, to);
  }
  /** Writes cells of column `c` of `rows[from..to)` at chunk positions `at..`. */
  abstract fill(
    page: Page,
    c: number,
    from: number,
    to: number,
    at: number,
    rejects: Rejects,
  ): void;
  /** The vector of the chunk's first `length` rows; the writer starts over. */
  abstract finish(length: number): VectorColumn;
  protected takeValid(length: number): Uint8Array | null {
    const valid = this.valid;
    this.valid = null;
    if (valid === null) return null;
    return this.trim(valid, length);
  }
}

/** How a value that misses the fast path is converted, and why it may not fit. */
interface Fallback {
  converter: CellConverter;
  /** Appended to the reason of a reject: where the column's type came from. */
  context: string;
}

/**
 * Int64 and timestamps: numbers in a Float64Array, moving to a BigInt64Array beyond 2^53. An
 * untyped column's writer may widen to float64 while the first chunk is open (`widen`): SQLite
 * stores 32.0 as the integer 32, so such a column can start with integers and show a fraction
 * later.
 */
class IntegerWriter extends ColumnWriter {
  #values: Float64Array | BigInt64Array;
  /** May still become float64 (an untyped column in the first chunk). */
  widen = false;
  /** Became float64: every number is stored as it is. */
  floating = false;
  constructor(
    out: OutputColumn & { type: ColumnType },
    pool: BufferPool,
    nullable: boolean,
    public fallback: Fallback,
    /** Convert every non-null value (timestamps from text), not only the misfits. */
    readonly convertAll: boolean,
  ) {
    super(out, pool, nullable);
    this.#values = pool.take(Float64Array);
  }
  /** Switches to float64 for good: integers stored so far become doubles. */
  #toFloat(at: number): void {
    const values = this.#values;
    if (values instanceof BigInt64Array) {
      const doubles = new Float64Array(this.capacity);
      for (let i = 0; i < at; i++) doubles[i] = Number(values[i]);
      this.#values = doubles;
    }
    this.floating = true;
    this.out.type = "float64";
    this.fallback = { ...this.fallback, converter: declaredConverter({ type: "float64" }) };
  }
  fill(
    page: Page,
    c: number,
    from: number,
    to: number,
    at: number,
    rejects: Rejects,
  ): void {
    const cells = page.columns[c];
    if (cells instanceof Float64Array && !this.convertAll) {
      // A page column of doubles (`sqlite_stream.ts`): integers copy over in a loop of their
      // own; the first value that is not one goes on through the general loop below.
      const skipped = this.#fillIntegers(cells, from, to, at);
      from += skipped;
      at += skipped;
    }
    const convert = this.fallback.converter.convert;
    let lastText: unknown = undefined;
    let lastValue: number | bigint | undefined = undefined;
    for (let r = from; r < to; r++, at++) {
      const value = cells[r];
      const values = this.#values;
      if (!this.convertAll && values instanceof Float64Array) {
        if (typeof value === "number" && Number.isSafeInteger(value)) {
          values[at] = value;
          continue;
        }
        if (typeof value === "number" && (this.floating || this.widen)) {
          if (!this.floating) this.#toFloat(at);
          values[at] = value;
          continue;
        }
        if (typeof value === "bigint" && value >= -MAX_SAFE && value <= MAX_SAFE) {
          values[at] = Number(value);
          continue;
        }
      }
      if (value === null || value === undefined) {
        this.setNull(at, page, r, rejects);
        continue;
      }
      if (value instanceof Uint8Array) throw blobError(this.out.source);
      let cell: number | bigint | undefined;
      if (value === lastText) {
        cell = lastValue;
        // The common case of a run (a sorted date's rows): no conversion, no call.
        if (typeof cell === "number" && values instanceof Float64Array) {
          values[at] = cell;
          continue;
        }
      } else {
        // Text dates repeat row after row (sorted results): convert each run once.
        const converted = convert(value);
        cell = typeof converted === "number" || typeof converted === "bigint"
          ? converted
          : undefined;
        lastText = value;
        lastValue = cell;
      }
      if (cell === undefined) {
        rejects.add(at, page, r, this.out.source, this.#reason(value));
        continue;
      }
      this.#set(at, cell);
    }
  }
  /** Copies the safe integers of `cells[from..to)` from `at` on; returns how many there were. */
  #fillIntegers(cells: Float64Array, from: number, to: number, at: number): number {
    const values = this.#values;
    if (!(values instanceof Float64Array)) return 0;
    let r = from;
    for (; r < to; r++) {
      const value = cells[r];
      if (!Number.isSafeInteger(value)) break;
      values[at + r - from] = value;
    }
    return r - from;
  }
  #reason(value: unknown): string {
    return this.fallback.converter.explain(value) + this.fallback.context;
  }
  #set(at: number, cell: number | bigint): void {
    const values = this.#values;
    if (values instanceof BigInt64Array) {
      values[at] = BigInt(cell);
    } else if (typeof cell === "number") {
      values[at] = cell;
    } else if (cell >= -MAX_SAFE && cell <= MAX_SAFE) {
      values[at] = Number(cell);
    } else {
      if (this.floating) {
        values[at] = Number(cell);
        return;
      }
      const wide = new BigInt64Array(this.capacity);
      for (let i = 0; i < at; i++) wide[i] = BigInt(values[i]);
      wide[at] = cell;
      this.#values = wide;
    }
  }
  finish(length: number): VectorColumn {
    const values = this.#values;
    this.#values = this.pool.take(Float64Array);
    return {
      name: this.out.name,
      type: (this.floating ? "float64" : this.out.type) as "int64",
      values: this.trim(values, length),
      valid: this.takeValid(length),
    };
  }
}

class FloatWriter extends ColumnWriter {
  #values: Float64Array;
  constructor(
    out: OutputColumn & { type: ColumnType },
    pool: BufferPool,
    nullable: boolean,
    readonly fallback: Fallback,
  ) {
    super(out, pool, nullable);
    this.#values = pool.take(Float64Array);
  }
  fill(
    page: Page,
    c: number,
    from: number,
    to: number,
    at: number,
    rejects: Rejects,
  ): void {
    const cells = page.columns[c];
    const values = this.#values;
    if (cells instanceof Float64Array) {
      // A page column of doubles (`sqlite_stream.ts`): numbers only, copied as they are.
      values.set(cells.subarray(from, to), at);
      return;
    }
    for (let r = from; r < to; r++, at++) {
      const value = cells[r];
      if (typeof value === "number") {
        values[at] = value;
      } else if (value === null || value === undefined) {
        this.setNull(at, page, r, rejects);
      } else if (typeof value === "bigint") {
        values[at] = Number(value);
      } else {
        if (value instanceof Uint8Array) throw blobError(this.out.source);
        const cell = this.fallback.converter.convert(value);
        if (typeof cell === "number") values[at] = cell;
        else {
          rejects.add(
            at,
            page,
            r,
            this.out.source,
            this.fallback.converter.explain(value) + this.fallback.context,
          );
        }
      }
    }
  }
  finish(length: number): VectorColumn {
    const values = this.#values;
    this.#values = this.pool.take(Float64Array);
    return {
      name: this.out.name,
      type: "float64",
      values: this.trim(values, length),
      valid: this.takeValid(length),
    };
  }
}

class BooleanWriter extends ColumnWriter {
  #values: Uint8Array;
  constructor(
    out: OutputColumn & { type: ColumnType },
    pool: BufferPool,
    nullable: boolean,
    readonly fallback: Fallback,
  ) {
    super(out, pool, nullable);
    this.#values = pool.take(Uint8Array);
  }
  fill(
    page: Page,
    c: number,
    from: number,
    to: number,
    at: number,
    rejects: Rejects,
  ): void {
    const cells = page.columns[c];
    const values = this.#values;
    for (let r = from; r < to; r++, at++) {
      const value = cells[r];
      if (value === null || value === undefined) {
        this.setNull(at, page, r, rejects);
        continue;
      }
      if (value instanceof Uint8Array) throw blobError(this.out.source);
      const cell = value === true || value === false
        ? value
        : this.fallback.converter.convert(value);
      if (typeof cell === "boolean") {
        values[at] = cell ? 1 : 0;
      } else {
        rejects.add(
          at,
          page,
          r,
          this.out.source,
          this.fallback.converter.explain(value) + this.fallback.context,
        );
      }
    }
  }
  finish(length: number): VectorColumn {
    const values = this.#values;
    this.#values = this.pool.take(Uint8Array);
    return {
      name: this.out.name,
      type: "boolean",
      values: this.trim(values, length),
      valid: this.takeValid(length),
    };
  }
}

class DateWriter extends ColumnWriter {
  #values: Int32Array;
  constructor(
    out: OutputColumn & { type: ColumnType },
    pool: BufferPool,
    nullable: boolean,
    readonly fallback: Fallback,
  ) {
    super(out, pool, nullable);
    this.#values = pool.take(Int32Array);
  }
  fill(
    page: Page,
    c: number,
    from: number,
    to: number,
    at: number,
    rejects: Rejects,
  ): void {
    const cells = page.columns[c];
    const values = this.#values;
    let last: unknown = undefined;
    let lastDay: number | undefined = undefined;
    for (let r = from; r < to; r++, at++) {
      const value = cells[r];
      if (value === null || value === undefined) {
        this.setNull(at, page, r, rejects);
        continue;
      }
      if (value instanceof Uint8Array) throw blobError(this.out.source);
      if (value !== last) {
        const cell = this.fallback.converter.convert(value);
        last = value;
        lastDay = typeof cell === "number" ? cell : undefined;
      }
      if (lastDay === undefined) {
        rejects.add(
          at,
          page,
          r,
          this.out.source,
          this.fallback.converter.explain(value) + this.fallback.context,
        );
      } else {
        values[at] = lastDay;
      }
    }
  }
  finish(length: number): VectorColumn {
    const values = this.#values;
    this.#values = this.pool.take(Int32Array);
    return {
      name: this.out.name,
      type: "date",
      values: this.trim(values, length),
      valid: this.takeValid(length),
    };
  }
}

/**
 * Text (string, json, decimal): dictionary codes while a chunk's values repeat (at most a
 * quarter distinct), plain strings once they do not. While `scan` is on (an untyped text
 * column in the first chunk), it also finds out whether every value is one ISO date form
 * ({@link TextWriter.dateForm}) — checking each distinct value once.
 */
class TextWriter extends ColumnWriter {
  #codes: Uint32Array | null;
  #index = new Map<string, number>();
  #dict: string[] = [];
  #plain: (string | null)[] | null = null;
  readonly #limit: number;
  /** Look for one date form across the values. */
  scan = false;
  /** The date form so far: undefined before any value, null once the values are not one. */
  #form: ColumnType | null | undefined = undefined;
  #lastScanned: string | undefined;
  constructor(
    out: OutputColumn & { type: ColumnType },
    pool: BufferPool,
    nullable: boolean,
    readonly fallback: Fallback | null,
    readonly encode: boolean,
  ) {
    super(out, pool, nullable);
    this.#limit = Math.max(16, pool.capacity >> 2);
    this.#codes = encode ? pool.take(Uint32Array) : null;
    if (!encode) this.#plain = [];
  }
  /** The one date type every value read so far has (see the class notes), or undefined. */
  dateForm(): ColumnType | undefined {
    return this.#form ?? undefined;
  }
  #scanValue(text: string): void {
    if (this.#form === null || text === this.#lastScanned) return;
    this.#lastScanned = text;
    const parts = parseIsoDateTime(text, SCANNED_PARTS);
    const form: ColumnType | null = !parts || parts.subMicro
      ? null
      : !parts.hasTime
      ? parts.offsetMinutes === null ? "date" : null
      : parts.offsetMinutes === null
      ? "timestamp"
      : "timestamp_tz";
    this.#form = this.#form === undefined || this.#form === form ? form : null;
  }
  /** Stops dictionary encoding: the rows so far become plain strings. */
  #toPlain(length: number): (string | null)[] {
    const plain = this.decoded(length);
    this.#plain = plain;
    this.#codes = null;
    return plain;
  }
  /** Rows `0..length-1` as strings. */
  decoded(length: number): (string | null)[] {
    if (this.#codes === null) return this.#plain!.slice(0, length);
    const plain = new Array<string | null>(length);
    const codes = this.#codes;
    for (let i = 0; i < length; i++) {
      const code = codes[i];
      plain[i] = code === 0 ? null : this.#dict[code - 1];
    }
    return plain;
  }
  override markNulls(from: number, to: number): void {
    if (this.#codes !== null) this.#codes.fill(0, from, to);
    else for (let i = from; i < to; i++) this.#plain![i] = null;
  }
  fill(
    page: Page,
    c: number,
    from: number,
    to: number,
    at: number,
    rejects: Rejects,
  ): void {
    const cells = page.columns[c];
    const converter = this.fallback?.converter;
    // Text repeats row after row (a sorted date, an order's lines): the same string, when the
    // source hands it over as the same string, is looked up once.
    let lastValue: unknown = undefined;
    let lastCode = 0;
    for (let r = from; r < to; r++, at++) {
      const value = cells[r];
      if (value === lastValue && lastCode !== 0 && this.#codes !== null) {
        this.#codes[at] = lastCode;
        continue;
      }
      let text: string | null;
      if (value === null || value === undefined) {
        this.checkNull(at, page, r, rejects);
        text = null;
      } else if (converter === undefined) {
        if (typeof value === "string") {
          text = value;
          if (this.scan && this.#codes === null) this.#scanValue(text);
        } else if (value instanceof Uint8Array) {
          throw blobError(this.out.source);
        } else {
          // SQLite is dynamically typed: a text column may hold a number here and there.
          text = String(value);
          this.#form = null;
        }
      } else {
        if (value instanceof Uint8Array) throw blobError(this.out.source);
        const cell = converter.convert(value);
        if (typeof cell !== "string") {
          rejects.add(
            at,
            page,
            r,
            this.out.source,
            converter.explain(value) + this.fallback!.context,
          );
          text = null;
        } else {
          text = cell;
        }
      }
      const codes = this.#codes;
      if (codes !== null) {
        if (text === null) {
          codes[at] = 0;
          continue;
        }
        let code = this.#index.get(text);
        if (code === undefined) {
          if (this.scan) this.#scanValue(text);
          if (this.#dict.length < this.#limit) {
            code = this.#dict.push(text);
            this.#index.set(text, code);
          } else {
            this.#toPlain(at)[at] = text;
            continue;
          }
        }
        codes[at] = code;
        if (typeof value === "string" && !this.scan) {
          lastValue = value;
          lastCode = code;
        }
      } else {
        this.#plain![at] = text;
      }
    }
  }
  finish(length: number): VectorColumn {
    const codes = this.#codes;
    const dict = this.#dict;
    const plain = this.#plain;
    this.#index = new Map();
    this.#dict = [];
    this.#codes = this.encode ? this.pool.take(Uint32Array) : null;
    this.#plain = this.encode ? null : [];
    this.valid = null;
    if (codes !== null) {
      return {
        name: this.out.name,
        type: this.out.type,
        values: { codes: this.trim(codes, length), dict },
        valid: null,
      };
    }
    const values = plain!.length === length ? plain! : plain!.slice(0, length);
    return { name: this.out.name, type: this.out.type, values, valid: null };
  }
}

function blobError(column: string): SqlError {
  return new SqlError(
    `column "${column}" holds binary (BLOB) values, which the output formats cannot ` +
      `hold; select hex(${column}) or CAST(${column} AS TEXT) instead`,
  );
}

/** One output column's state in the builder. */
interface Slot {
  /** The output column. */
  out: OutputColumn & { type: ColumnType };
  /** Its result column and index. */
  column: SqlColumn;
  c: number;
  decl: ColumnDecl | undefined;
  /** Null until the column's type is known (an untyped column that showed only nulls). */
  writer: ColumnWriter | null;
}

/**
 * Builds typed chunks from pages of rows (see the module notes). Each page is written into the
 * chunk's column vectors as it comes; nothing of a page is held after `push` returns, so memory
 * is the chunk's vectors whatever the result's size.
 *
 * @example
 * ```ts
 * import { ChunkBuilder } from "./chunker.ts";
 * const builder = new ChunkBuilder([
 *   { name: "id", declaredType: "INTEGER", hint: "int64" },
 *   { name: "at", declaredType: "DATETIME", hint: "any" },
 * ], { chunkRows: 2, shape: { inferDates: true } });
 * const [chunk] = builder.push([[1, "1996-07-04 00:00:00"], [2, "1996-07-05 00:00:00"]]);
 * chunk.batch.columns.map((c) => c.type); // ["int64", "timestamp"]
 * ```
 */
export class ChunkBuilder {
  readonly #columns: SqlColumn[];
  readonly #chunkRows: number;
  readonly #shape: ShapeOptions;
  readonly #encodeText: boolean;
  readonly #output: OutputColumn[];
  readonly #slots: Slot[];
  readonly #incremental: IncrementalOptions | undefined;
  #tracker: BoundaryTracker | undefined;
  /** True until the first chunk is handed off: types may still be decided or widened. */
  #open = true;
  /** Rows written into the current chunk's writers (kept or rejected). */
  #length = 0;
  /** Rows of the result covered by the current chunk (incl. dropped). */
  #read = 0;
  #dropped = 0;
  #rowsBefore = 0;
  #rejects: Rejects;
  readonly #pool: BufferPool;
  /** Chunk position → row read, once the chunk dropped a row (else they are equal). */
  #rowMap: Int32Array | null = null;
  /** Result indexes of the incremental column and the key columns. */
  readonly #trackedColumns: [string, number][];

  /** A builder for a result with `columns`. Throws {@link SqlError} for a bad shape. */
  constructor(columns: SqlColumn[], options: ChunkBuilderOptions = {}) {
    const chunkRows = options.chunkRows ?? 100_000;
    if (!Number.isInteger(chunkRows) || chunkRows < 1) {
      throw new SqlError(`chunk rows must be a positive whole number, got ${chunkRows}`);
    }
    this.#columns = columns;
    this.#chunkRows = chunkRows;
    this.#pool = new BufferPool(chunkRows);
    this.#shape = options.shape ?? {};
    this.#encodeText = options.encodeText ?? true;
    this.#output = planOutput(columns, this.#shape);
    this.#incremental = options.incremental;
    this.#rejects = new Rejects(columns.map((c) => c.name));
    this.#slots = this.#output.map((out) => {
      const c = columns.findIndex((x) => x.name === out.source);
      const slot: Slot = {
        out: out as OutputColumn & { type: ColumnType },
        column: columns[c],
        c,
        decl: this.#shape.columns?.[out.source],
        writer: null,
      };
      const { decl, column } = slot;
      if (decl) {
        this.#decide(slot, decl.type, "");
      } else if (column.hint !== "any" && column.hint !== "numeric") {
        this.#decide(
          slot,
          column.hint,
          `; the column is ${column.hint} (declared ${column.declaredType ?? "type"}): CAST it ` +
            "in the query or declare its type under columns:",
        );
      }
      return slot;
    });
    const tracked = options.incremental
      ? [
        ...new Set([
          options.incremental.column,
          ...(options.incremental.keys ?? columns.map((c) => c.name)),
        ]),
      ]
      : [];
    this.#trackedColumns = tracked.map((name) => {
      const c = columns.findIndex((x) => x.name === name);
      if (c < 0) {
        throw new SqlError(
          `${name} (the incremental column or a key) is not a column of the query (columns: ${
            columns.map((x) => x.name).join(", ")
          })`,
        );
      }
      return [name, c];
    });
  }

  /** The output columns (names, sources; types once known). */
  get output(): OutputColumn[] {
    return this.#output.map((o) => ({ ...o }));
  }

  /** Rows handed off in chunks so far (result rows, incl. rejected and dropped ones). */
  get rowsTaken(): number {
    return this.#rowsBefore;
  }

  /** Adds a page of rows (cells in result-column order); returns the chunks it completed. */
  push(rows: readonly (readonly unknown[])[]): BuiltChunk[] {
    const width = this.#columns.length;
    const columns: unknown[][] = Array.from({ length: width }, () => new Array(rows.length));
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      for (let c = 0; c < width; c++) columns[c][r] = row[c];
    }
    return this.pushColumns(columns, rows.length);
  }

  /**
   * Adds a page of `length` rows given as columns in result order (`columns[c][r]`, as a
   * SQLite JSON page decodes); returns the chunks it completed.
   */
  pushColumns(columns: readonly (readonly unknown[])[], length: number): BuiltChunk[] {
    const done: BuiltChunk[] = [];
    let from = 0;
    while (from < length) {
      const room = this.#chunkRows - this.#read;
      const to = Math.min(length, from + room);
      const page = from === 0 && to === length
        ? { columns }
        : { columns: columns.map((column) => column.slice(from, to)) };
      this.#write(page, to - from);
      if (this.#read >= this.#chunkRows) done.push(this.#take());
      from = to;
    }
    return done;
  }

  /** The last, partial chunk; an empty one when the result had no row (its types). */
  finish(): BuiltChunk | undefined {
    return this.#read > 0 || this.#rowsBefore === 0 ? this.#take() : undefined;
  }

  /**
   * Takes back the arrays of a chunk whose rows nobody reads any more (the sink has written
   * them), for the next chunks to fill. Optional: a chunk not released is left to the GC.
   */
  release(chunk: BuiltChunk): void {
    for (const column of chunk.batch.columns) {
      this.#pool.give(column.valid);
      const values = column.values;
      this.#pool.give(isDict(values) ? values.codes : values);
    }
  }

  /** The boundary to store after the run (incremental); the previous one when no row came. */
  boundary(): Boundary | undefined {
    return this.#tracker?.boundary() ?? this.#incremental?.previous;
  }

  /** Gives a slot its type and writer. */
  #decide(slot: Slot, type: ColumnType, context: string): ColumnWriter {
    slot.out.type = type;
    const fallback: Fallback = {
      converter: declaredConverter({ type, format: slot.decl?.format }),
      context,
    };
    const writer = makeWriter(slot.out, this.#pool, slot.decl, fallback, {
      encode: this.#encodeText,
      convertText: slot.decl !== undefined || type !== "string",
    });
    // An untyped or text column's first chunk may still change its type (see the module notes).
    if (this.#open && !slot.decl) {
      if (writer instanceof IntegerWriter && (slot.column.hint === "any")) writer.widen = true;
      if (writer instanceof TextWriter && this.#shape.inferDates) writer.scan = true;
    }
    slot.writer = writer;
    return writer;
  }

  /** Decides an untyped column's type by its first non-null value (at page row `r`). */
  #decideByValue(slot: Slot, value: unknown): ColumnWriter {
    if (value instanceof Uint8Array) throw blobError(slot.column.name);
    const numeric = typeof value === "number" || typeof value === "bigint";
    const type: ColumnType = numeric
      ? slot.column.hint === "numeric" ||
          (typeof value === "number" && !Number.isInteger(value))
        ? "float64"
        : "int64"
      : typeof value === "boolean"
      ? "boolean"
      : "string";
    return this.#decide(
      slot,
      type,
      `; the column is ${type}, from its first values: CAST it in the query or declare its ` +
        "type under columns:",
    );
  }

  /** Writes a page of `length` rows into the current chunk (after the incremental filter). */
  #write(input: Page, length: number): void {
    const readBefore = this.#read;
    this.#read += length;
    let page = input;
    let rows = length;
    let keep: number[] | null = null;
    if (this.#incremental) {
      const tracker = this.#tracker ?? this.#startTracker(input, length);
      if (tracker) {
        const cells: Record<string, readonly unknown[]> = {};
        for (const [name, c] of this.#trackedColumns) cells[name] = input.columns[c];
        keep = tracker.visit(cells as Record<string, unknown[]>, length);
        if (keep) {
          const kept = keep;
          this.#dropped += length - kept.length;
          page = { columns: input.columns.map((column) => kept.map((i) => column[i])) };
          rows = kept.length;
        }
      }
    }
    if (keep !== null || this.#rowMap !== null) {
      // Rejects name the row as read; once rows are dropped, positions and rows differ.
      if (this.#rowMap === null) {
        this.#rowMap = new Int32Array(this.#chunkRows);
        for (let i = 0; i < this.#length; i++) this.#rowMap[i] = i;
      }
      for (let j = 0; j < rows; j++) {
        this.#rowMap[this.#length + j] = readBefore + (keep ? keep[j] : j);
      }
    }
    const at = this.#length;
    for (const slot of this.#slots) {
      let writer = slot.writer;
      let from = 0;
      if (writer === null) {
        // An untyped column that showed only nulls so far: its first value decides.
        const cells = page.columns[slot.c];
        while (from < rows && (cells[from] ?? null) === null) from++;
        if (from === rows) continue;
        writer = this.#decideByValue(slot, cells[from]);
        writer.markNulls(0, at + from);
      }
      writer.fill(page, slot.c, from, rows, at + from, this.#rejects);
    }
    this.#length += rows;
  }

  /** The tracker, once a page shows a value of the incremental column (its type by it). */
  #startTracker(page: Page, length: number): BoundaryTracker | undefined {
    const { column, keys, previous } = this.#incremental!;
    const c = this.#columns.findIndex((x) => x.name === column);
    const hint = this.#columns[c].hint;
    let type = previous?.type as ColumnType | undefined;
    if (type === undefined && (hint === "int64" || hint === "float64")) type = hint;
    if (type === undefined && (hint === "any" || hint === "numeric")) {
      const cells = page.columns[c];
      let value: unknown = null;
      for (let r = 0; r < length && (value === null || value === undefined); r++) value = cells[r];
      if (value === null || value === undefined) return undefined; // nothing to follow yet
      type = typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value))
        ? "int64"
        : typeof value === "number"
        ? "float64"
        : "string";
    }
    this.#tracker = new BoundaryTracker(
      column,
      type ?? "string",
      keys ?? this.#columns.map((x) => x.name),
      { previous },
    );
    return this.#tracker;
  }

  /** Fixes the types still open at the end of the first chunk. */
  #close(length: number): void {
    this.#open = false;
    for (const slot of this.#slots) {
      if (slot.writer === null) {
        // Nothing but nulls in the first chunk: text.
        this.#decide(slot, "string", "").markNulls(0, length);
        continue;
      }
      const writer = slot.writer;
      if (writer instanceof IntegerWriter) writer.widen = false;
      if (!(writer instanceof TextWriter) || !writer.scan) continue;
      writer.scan = false;
      const form = writer.dateForm();
      if (form === undefined) continue;
      // Every value of the first chunk reads as one date form: the column is that type, and
      // the chunk's text is converted once (it all parses: no reject).
      const values = writer.decoded(length);
      const typed = this.#decide(
        slot,
        form,
        `; the column is ${form}, as every value of its first chunk reads: declare it under ` +
          "columns: (type: string keeps text)",
      );
      typed.fill({ columns: [values] }, 0, 0, length, 0, this.#rejects);
    }
  }

  /** Hands off the current chunk: vectors, minus rejected rows. */
  #take(): BuiltChunk {
    const length = this.#length;
    if (this.#open) this.#close(length);
    let columns = this.#slots.map((slot) => slot.writer!.finish(length));
    const rejected = this.#rejects.byRow;
    const rowMap = this.#rowMap;
    const rejects = [...rejected.values()].map((r) => ({
      ...r,
      index: this.#rowsBefore + (rowMap ? rowMap[r.index] : r.index),
    }));
    let kept = length;
    if (rejected.size > 0) {
      const keep: number[] = [];
      for (let i = 0; i < length; i++) if (!rejected.has(i)) keep.push(i);
      columns = columns.map((column) => gatherVector(column, keep));
      kept = keep.length;
    }
    const chunk: BuiltChunk = {
      batch: { length: kept, columns },
      firstRow: this.#rowsBefore,
      rowsRead: this.#read,
      rejects,
      dropped: this.#dropped,
    };
    this.#rowsBefore += this.#read;
    this.#read = 0;
    this.#length = 0;
    this.#dropped = 0;
    this.#rowMap = null;
    this.#rejects = new Rejects(this.#columns.map((c) => c.name));
    return chunk;
  }
}

function makeWriter(
  out: OutputColumn & { type: ColumnType },
  pool: BufferPool,
  decl: ColumnDecl | undefined,
  fallback: Fallback,
  options: { encode: boolean; convertText: boolean },
): ColumnWriter {
  const nullable = decl?.nullable ?? true;
  switch (out.type) {
    case "int64":
      return new IntegerWriter(out, pool, nullable, fallback, false);
    case "timestamp":
    case "timestamp_tz":
    case "datetime":
      return new IntegerWriter(out, pool, nullable, fallback, true);
    case "float64":
      return new FloatWriter(out, pool, nullable, fallback);
    case "boolean":
      return new BooleanWriter(out, pool, nullable, fallback);
    case "date":
      return new DateWriter(out, pool, nullable, fallback);
  }
  if (!isTextType(out.type)) throw new Error(`no writer for column type ${out.type}`);
  return new TextWriter(
    out,
    pool,
    nullable,
    options.convertText ? fallback : null,
    options.encode,
  );
}
