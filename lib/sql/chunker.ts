/**
 * Rows into column buffers: the SQL extractor's hot path. Each row (an array of cells, as
 * `node:sqlite` and `pg` return them in array mode) is spread into one buffer per column —
 * typed arrays for numbers and booleans, plain arrays for text — and every `chunkRows` rows the
 * buffers are handed off as one {@link ColumnChunk}.
 *
 * Column types come from the declared types (a {@link TypeHint} per column), else from the
 * first non-null value, and are fixed when the first chunk is taken, so every part of an
 * extraction has the same schema: a column that is null throughout the first chunk keeps its
 * declared type, and a later value that does not fit its column is an error naming the column,
 * the row and the value (with the CAST that fixes it) rather than a part with another schema.
 * @module
 */
import { SqlError } from "../errors.ts";
import type { ColumnType } from "../sinks/mod.ts";

/**
 * What a source knows about a column's type before any row: an exact {@link ColumnType}
 * (declared `INTEGER`, PostgreSQL `int8`, ...), `numeric` (SQLite `NUMERIC`/`DECIMAL`: numbers
 * become float64, text stays text) or `any` (no declared type: the first value decides).
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

/** One column of a chunk. `valid[i] === 0` marks row `i` null; `valid` is null when none is. */
export type ChunkColumn =
  | { name: string; type: "int64"; values: Float64Array | BigInt64Array; valid: Uint8Array | null }
  | { name: string; type: "float64"; values: Float64Array; valid: Uint8Array | null }
  | { name: string; type: "boolean"; values: Uint8Array; valid: Uint8Array | null }
  | {
    name: string;
    type: "string" | "date" | "datetime" | "json";
    values: (string | null)[];
    valid: null;
    /**
     * Dictionary form (`encodeText`): `values` is empty and row `i` is `dict[codes[i] - 1]`,
     * null for code 0, until {@link decodeChunk}.
     */
    encoded?: { codes: Uint32Array; dict: string[] };
  };

/**
 * A batch of rows as columns. Int64 values are in a `Float64Array` while every value is a safe
 * integer, and in a `BigInt64Array` once one is not, so no value loses precision.
 */
export interface ColumnChunk {
  /** Rows in the chunk. */
  length: number;
  /** Index of the chunk's first row in the whole result (for error messages). */
  firstRow: number;
  /** One entry per result column, in result order. */
  columns: ChunkColumn[];
}

/** Options of {@link ColumnChunker}. */
export interface ColumnChunkerOptions {
  /** Rows per chunk. @default 100_000 */
  chunkRows?: number;
  /**
   * Hand off smaller batches of at most this many rows, never across a `chunkRows` boundary,
   * for {@link concatChunks} to join into chunks again (the SQLite reader thread posts small
   * batches so it never holds a whole chunk). Column types stay open for the whole first chunk
   * either way. @default chunkRows
   */
  batchRows?: number;
  /**
   * Hand text columns off dictionary-encoded while they repeat values (a code per row and each
   * distinct value once), so row strings die young and cross threads as one typed array.
   * Decode with {@link decodeChunk}. @default false
   */
  encodeText?: boolean;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/**
 * Accumulates rows into column buffers of `chunkRows` rows.
 *
 * @example
 * ```ts
 * import { ColumnChunker } from "./chunker.ts";
 * const chunker = new ColumnChunker([
 *   { name: "id", declaredType: "INTEGER", hint: "int64" },
 *   { name: "name", declaredType: "TEXT", hint: "string" },
 * ], { chunkRows: 2 });
 * chunker.add([1n, "a"]);
 * const full = chunker.add([2n, null]); // true: the chunk is full
 * const chunk = chunker.take(); // { length: 2, columns: [...] }
 * ```
 */
export class ColumnChunker {
  readonly #columns: SqlColumn[];
  readonly #chunkRows: number;
  readonly #batchRows: number;
  readonly #encodeText: boolean;
  /** Columns whose values turned out too varied for a dictionary. */
  readonly #plainText: boolean[];
  #buffers: ColumnBuffer[];
  /** Per column, the fast path of its buffer ({@link FAST_INT} …) and the array it writes to. */
  #kinds: Uint8Array;
  #stores: (Float64Array | (string | null)[] | DictTextBuffer | null)[];
  #length = 0;
  #rowsTaken = 0;
  #fixed = false;

  /** Starts empty buffers for `columns`. */
  constructor(columns: SqlColumn[], options: ColumnChunkerOptions = {}) {
    const chunkRows = options.chunkRows ?? 100_000;
    if (!Number.isInteger(chunkRows) || chunkRows < 1) {
      throw new SqlError(`chunk rows must be a positive whole number, got ${chunkRows}`);
    }
    this.#columns = columns;
    this.#chunkRows = chunkRows;
    this.#batchRows = Math.max(1, Math.min(options.batchRows ?? chunkRows, chunkRows));
    this.#encodeText = options.encodeText ?? false;
    this.#plainText = columns.map(() => false);
    this.#buffers = columns.map((c, i) => this.#newBuffer(i, initialType(c.hint)));
    this.#kinds = new Uint8Array(columns.length);
    this.#stores = new Array(columns.length).fill(null);
    this.#refreshAll();
  }

  /** Rows buffered since the last {@link take}. */
  get length(): number {
    return this.#length;
  }

  /** Rows taken out so far. */
  get rowsTaken(): number {
    return this.#rowsTaken;
  }

  /** The column types decided so far (`undefined` while a column has shown no value). */
  get types(): (ColumnType | undefined)[] {
    return this.#buffers.map((b) => b.type);
  }

  /** Adds one row (cells in result-column order); returns true when the chunk is full. */
  add(row: readonly unknown[]): boolean {
    const i = this.#length;
    const kinds = this.#kinds;
    const stores = this.#stores;
    // The hot path: one monomorphic switch per cell for the common cases (safe integers, floats,
    // text); nulls, conversions, type decisions and widening go through the buffer objects.
    for (let c = 0; c < kinds.length; c++) {
      const value = row[c];
      switch (kinds[c]) {
        case FAST_INT:
          if (typeof value === "bigint") {
            const n = Number(value);
            if (Number.isSafeInteger(n)) {
              (stores[c] as Float64Array)[i] = n;
              continue;
            }
          } else if (typeof value === "number" && Number.isSafeInteger(value)) {
            (stores[c] as Float64Array)[i] = value;
            continue;
          }
          break;
        case FAST_FLOAT:
          if (typeof value === "number") {
            (stores[c] as Float64Array)[i] = value;
            continue;
          }
          break;
        case FAST_TEXT:
          if (typeof value === "string") {
            (stores[c] as (string | null)[])[i] = value;
            continue;
          }
          break;
        case FAST_DICT:
          if (typeof value === "string" && (stores[c] as DictTextBuffer).put(i, value)) continue;
          break;
      }
      this.#slow(c, i, value);
    }
    this.#length = i + 1;
    return this.#length >= this.#batchRows ||
      (this.#rowsTaken + this.#length) % this.#chunkRows === 0;
  }

  #slow(c: number, i: number, value: unknown): void {
    const buffer = this.#buffers[c];
    if (value === null || value === undefined) {
      buffer.setNull(i);
    } else if (buffer.set(i, value)) {
      // stored
    } else if (buffer instanceof DictTextBuffer && buffer.full) {
      // Too many distinct values for a dictionary: plain text from here on for this column.
      this.#plainText[c] = true;
      this.#buffers[c] = buffer.toPlain(i);
      this.#buffers[c].set(i, value);
    } else {
      this.#settle(c, i, value);
    }
    this.#refresh(c);
  }

  #newBuffer(c: number, type: ColumnType | undefined): ColumnBuffer {
    const column = this.#columns[c];
    if (
      this.#encodeText && !this.#plainText[c] &&
      (type === "string" || type === "date" || type === "datetime" || type === "json")
    ) {
      return new DictTextBuffer(column, this.#batchRows, type);
    }
    return newBuffer(column, this.#batchRows, type);
  }

  #refresh(c: number): void {
    const fast = this.#buffers[c].fast();
    this.#kinds[c] = fast ? fast.kind : FAST_NONE;
    this.#stores[c] = fast ? fast.store : null;
  }

  #refreshAll(): void {
    for (let c = 0; c < this.#buffers.length; c++) this.#refresh(c);
  }

  /**
   * Hands off the buffered rows as a chunk and starts new buffers. The first call fixes every
   * column's type (a column that has shown no value yet becomes `string`).
   */
  take(): ColumnChunk {
    const length = this.#length;
    const fixing = !this.#fixed && this.#rowsTaken + length >= this.#chunkRows;
    // A column with no value yet is handed off as all-null text; it stays undecided (a later
    // batch of the first chunk may still type it) until the first chunk is complete.
    const columns = this.#buffers.map((b) =>
      b.type === undefined ? b.retype("string", length).finish(length) : b.finish(length)
    );
    const chunk: ColumnChunk = { length, firstRow: this.#rowsTaken, columns };
    this.#rowsTaken += length;
    this.#length = 0;
    if (fixing) this.#fixed = true;
    this.#buffers = this.#buffers.map((b, c) =>
      this.#newBuffer(c, b.type ?? (this.#fixed ? "string" : undefined))
    );
    this.#refreshAll();
    return chunk;
  }

  /** A value its buffer refused: decide the column's type, widen it, or fail. */
  #settle(c: number, i: number, value: unknown): void {
    const buffer = this.#buffers[c];
    const column = this.#columns[c];
    let next: ColumnType | undefined;
    if (buffer.type === undefined) {
      next = typeFromValue(column, value);
    } else if (!this.#fixed && buffer.type === "int64" && typeof value === "number") {
      // `any`/`numeric` columns: SQLite stores 32.0 as the integer 32, so a column can start
      // with integers and show a fraction later; widen while the schema is still open.
      if (column.hint === "any" || column.hint === "numeric") next = "float64";
    }
    if (next === undefined) throw mismatch(column, buffer.type!, this.#rowsTaken + i, value);
    const widened = buffer.retype(next, i);
    this.#buffers[c] = widened;
    if (!widened.set(i, value)) {
      throw mismatch(column, next, this.#rowsTaken + i, value);
    }
  }
}

/**
 * Joins consecutive batches of one result (from a chunker with `batchRows`) into one chunk.
 * A column typed int64 in one batch and float64 in a later one (widened while the first chunk
 * was open) becomes float64; an all-null text column takes the type of the others.
 *
 * @example
 * ```ts
 * import { ColumnChunker, concatChunks } from "./chunker.ts";
 * const chunker = new ColumnChunker([{ name: "x", declaredType: null, hint: "any" }], {
 *   chunkRows: 4,
 *   batchRows: 2,
 * });
 * chunker.add([1n]);
 * chunker.add([2n]);
 * const first = chunker.take();
 * chunker.add([2.5]);
 * const chunk = concatChunks([first, chunker.take()]); // x: float64 [1, 2, 2.5]
 * ```
 */
export function concatChunks(batches: readonly ColumnChunk[]): ColumnChunk {
  if (batches.length === 1) return batches[0];
  const length = batches.reduce((n, b) => n + b.length, 0);
  const columns = batches[0].columns.map((_, c) => {
    const parts = batches.map((b) => b.columns[c]);
    return concatColumn(parts, batches.map((b) => b.length), length);
  });
  return { length, firstRow: batches[0].firstRow, columns };
}

function concatColumn(parts: ChunkColumn[], lengths: number[], length: number): ChunkColumn {
  const name = parts[0].name;
  const allNullText = (p: ChunkColumn) =>
    p.type === "string" && (p.values as (string | null)[]).every((v) => v === null);
  const typed = parts.filter((p) => !allNullText(p));
  const types = new Set(typed.map((p) => p.type));
  let type: ColumnType = typed.length === 0 ? "string" : typed[0].type;
  if (types.size > 1) {
    if ([...types].every((t) => t === "int64" || t === "float64")) type = "float64";
    else throw new Error(`column "${name}" changed type across batches: ${[...types].join(", ")}`);
  }
  if (type === "string" || type === "date" || type === "datetime" || type === "json") {
    const values: (string | null)[] = [];
    parts.forEach((p, k) => {
      if (p.type === type) values.push(...(p.values as (string | null)[]));
      else for (let i = 0; i < lengths[k]; i++) values.push(null);
    });
    return { name, type, values, valid: null };
  }
  const big = type === "int64" &&
    parts.some((p) => p.type === "int64" && p.values instanceof BigInt64Array);
  const values = type === "boolean"
    ? new Uint8Array(length)
    : big
    ? new BigInt64Array(length)
    : new Float64Array(length);
  let valid: Uint8Array | null = null;
  let at = 0;
  parts.forEach((p, k) => {
    const n = lengths[k];
    if (allNullText(p) && p.type !== type) {
      valid ??= new Uint8Array(length).fill(1);
      valid.fill(0, at, at + n);
    } else {
      if (big && !(p.values instanceof BigInt64Array)) {
        const src = p.values as Float64Array;
        for (let i = 0; i < n; i++) (values as BigInt64Array)[at + i] = BigInt(src[i]);
      } else {
        (values as Float64Array).set(p.values as Float64Array, at);
      }
      if (p.valid) {
        valid ??= new Uint8Array(length).fill(1);
        valid.set(p.valid, at);
      }
    }
    at += n;
  });
  return { name, type, values, valid } as ChunkColumn;
}

/**
 * The columns of a chunk as plain arrays (`null` for missing cells), the form
 * `Sink.writeColumns` takes. Int64 cells are numbers, or bigints beyond 2^53.
 */
export function chunkToArrays(chunk: ColumnChunk): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const column of chunk.columns) out[column.name] = columnToArray(column, chunk.length);
  return out;
}

/** One chunk column as a plain array of `length` cells. */
export function columnToArray(column: ChunkColumn, length: number): unknown[] {
  if (column.type === "string" || column.type === "date" || column.type === "datetime") {
    return column.values.length === length ? column.values : column.values.slice(0, length);
  }
  if (column.type === "json") return column.values.slice(0, length);
  const out: unknown[] = new Array(length);
  const { values, valid } = column;
  if (column.type === "boolean") {
    for (let i = 0; i < length; i++) out[i] = valid && !valid[i] ? null : values[i] === 1;
    return out;
  }
  if (values instanceof BigInt64Array) {
    for (let i = 0; i < length; i++) {
      if (valid && !valid[i]) {
        out[i] = null;
      } else {
        const v = values[i];
        out[i] = v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
      }
    }
    return out;
  }
  for (let i = 0; i < length; i++) out[i] = valid && !valid[i] ? null : values[i];
  return out;
}

/** The type a hint starts a column with (`undefined`: decided by the first value). */
function initialType(hint: TypeHint): ColumnType | undefined {
  return hint === "any" || hint === "numeric" ? undefined : hint;
}

function typeFromValue(column: SqlColumn, value: unknown): ColumnType | undefined {
  switch (typeof value) {
    case "bigint":
      return column.hint === "numeric" ? "float64" : "int64";
    case "number":
      return column.hint === "numeric" || !Number.isInteger(value) ? "float64" : "int64";
    case "string":
      return "string";
    case "boolean":
      return "boolean";
  }
  if (value instanceof Uint8Array) {
    throw new SqlError(
      `column "${column.name}" holds binary (BLOB) values, which the output formats cannot ` +
        `hold; select hex(${column.name}) or CAST(${column.name} AS TEXT) instead`,
    );
  }
  return undefined;
}

function mismatch(column: SqlColumn, type: ColumnType, row: number, value: unknown): SqlError {
  if (value instanceof Uint8Array) typeFromValue(column, value); // throws the BLOB message
  const shown = typeof value === "string"
    ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
    : typeof value === "bigint"
    ? `${value}`
    : String(value);
  const cast = type === "int64" ? "INTEGER" : type === "float64" ? "REAL" : "TEXT";
  const declared = column.declaredType ? `declared ${column.declaredType}, ` : "";
  return new SqlError(
    `column "${column.name}" (${declared}typed ${type} from its first values) holds ` +
      `${shown} (${typeof value}) at result row ${row + 1}, which is not a ${type}; ` +
      `CAST it in the query, e.g. CAST(${column.name} AS ${
        type === "int64" && typeof value === "number" ? "REAL" : cast
      })`,
  );
}

const FAST_NONE = 0;
/** Safe integers into a Float64Array. */
const FAST_INT = 1;
/** Numbers into a Float64Array. */
const FAST_FLOAT = 2;
/** Strings into an array. */
const FAST_TEXT = 3;
/** Strings into a dictionary-encoding buffer. */
const FAST_DICT = 4;

/** Where the chunker may write a common value directly, bypassing `set`. */
interface FastStore {
  kind: typeof FAST_INT | typeof FAST_FLOAT | typeof FAST_TEXT | typeof FAST_DICT;
  store: Float64Array | (string | null)[] | DictTextBuffer;
}

/** A column's buffer for one chunk; `set` returns false for a value it cannot hold. */
interface ColumnBuffer {
  readonly column: SqlColumn;
  readonly type: ColumnType | undefined;
  /** The direct-write target for the common case, or null (after widening to 64-bit). */
  fast(): FastStore | null;
  set(i: number, value: unknown): boolean;
  setNull(i: number): void;
  /** A buffer of another type holding rows `0..length-1` converted. */
  retype(type: ColumnType, length: number): ColumnBuffer;
  finish(length: number): ChunkColumn;
}

function newBuffer(column: SqlColumn, capacity: number, type: ColumnType | undefined) {
  switch (type) {
    case undefined:
      return new NullBuffer(column, capacity);
    case "int64":
      return new Int64Buffer(column, capacity);
    case "float64":
      return new Float64Buffer(column, capacity);
    case "boolean":
      return new BooleanBuffer(column, capacity);
    default:
      return new TextBuffer(column, capacity, type as "string" | "date" | "datetime" | "json");
  }
}

/** Marks nulls lazily: most columns have none, and then no validity array is allocated. */
class Validity {
  valid: Uint8Array | null = null;
  constructor(readonly capacity: number) {}
  clear(i: number): void {
    if (this.valid === null) this.valid = new Uint8Array(this.capacity).fill(1);
    this.valid[i] = 0;
  }
  isNull(i: number): boolean {
    return this.valid !== null && this.valid[i] === 0;
  }
  slice(length: number): Uint8Array | null {
    if (this.valid === null) return null;
    return length === this.capacity ? this.valid : this.valid.slice(0, length);
  }
}

/** A column that has shown only nulls so far. */
class NullBuffer implements ColumnBuffer {
  readonly type = undefined;
  constructor(readonly column: SqlColumn, readonly capacity: number) {}
  fast(): null {
    return null;
  }
  set(): boolean {
    return false;
  }
  setNull(): void {}
  retype(type: ColumnType, length: number): ColumnBuffer {
    const next = newBuffer(this.column, this.capacity, type);
    for (let i = 0; i < length; i++) next.setNull(i);
    return next;
  }
  finish(): ChunkColumn {
    throw new Error("a column without a type cannot be finished");
  }
}

/** Int64, float64 and boolean columns: values in a typed array, nulls in a {@link Validity}. */
abstract class FixedBuffer implements ColumnBuffer {
  abstract readonly type: "int64" | "float64" | "boolean";
  protected readonly validity: Validity;
  constructor(readonly column: SqlColumn, readonly capacity: number) {
    this.validity = new Validity(capacity);
  }
  abstract fast(): FastStore | null;
  abstract set(i: number, value: unknown): boolean;
  abstract finish(length: number): ChunkColumn;
  /** Row `i`'s value in the form `set` takes it back. */
  protected abstract valueAt(i: number): unknown;
  setNull(i: number): void {
    this.validity.clear(i);
  }
  retype(type: ColumnType, length: number): ColumnBuffer {
    const next = newBuffer(this.column, this.capacity, type);
    for (let i = 0; i < length; i++) {
      if (this.validity.isNull(i)) next.setNull(i);
      else next.set(i, this.valueAt(i));
    }
    return next;
  }
}

class Int64Buffer extends FixedBuffer {
  readonly type = "int64" as const;
  #values: Float64Array | BigInt64Array;
  constructor(column: SqlColumn, capacity: number) {
    super(column, capacity);
    this.#values = new Float64Array(capacity);
  }
  fast(): FastStore | null {
    const values = this.#values;
    return values instanceof Float64Array ? { kind: FAST_INT, store: values } : null;
  }
  set(i: number, value: unknown): boolean {
    const values = this.#values;
    if (typeof value === "bigint") {
      if (values instanceof BigInt64Array) {
        values[i] = value;
        return true;
      }
      if (value >= MIN_SAFE && value <= MAX_SAFE) {
        values[i] = Number(value);
        return true;
      }
      if (value < -(2n ** 63n) || value >= 2n ** 63n) return false;
      this.#widen(i);
      (this.#values as BigInt64Array)[i] = value;
      return true;
    }
    if (typeof value === "number" && Number.isInteger(value)) {
      if (values instanceof BigInt64Array) values[i] = BigInt(value);
      else if (Number.isSafeInteger(value)) values[i] = value;
      else {
        this.#widen(i);
        (this.#values as BigInt64Array)[i] = BigInt(value);
      }
      return true;
    }
    if (typeof value === "boolean") {
      return this.set(i, value ? 1 : 0);
    }
    if (typeof value === "string" && /^[+-]?\d+$/.test(value)) {
      // PostgreSQL int8 and numeric-as-text arrive as digit strings.
      return this.set(i, BigInt(value));
    }
    return false;
  }
  /** Moves to 64-bit integers once a value is beyond 2^53. */
  #widen(length: number): void {
    const wide = new BigInt64Array(this.capacity);
    const old = this.#values as Float64Array;
    for (let j = 0; j < length; j++) wide[j] = this.validity.isNull(j) ? 0n : BigInt(old[j]);
    this.#values = wide;
  }
  protected valueAt(i: number): unknown {
    return this.#values[i];
  }
  finish(length: number): ChunkColumn {
    const values = length === this.capacity ? this.#values : this.#values.slice(0, length);
    return { name: this.column.name, type: "int64", values, valid: this.validity.slice(length) };
  }
}

class Float64Buffer extends FixedBuffer {
  readonly type = "float64" as const;
  readonly #values: Float64Array;
  constructor(column: SqlColumn, capacity: number) {
    super(column, capacity);
    this.#values = new Float64Array(capacity);
  }
  fast(): FastStore {
    return { kind: FAST_FLOAT, store: this.#values };
  }
  set(i: number, value: unknown): boolean {
    if (typeof value === "number") {
      this.#values[i] = value;
      return true;
    }
    if (typeof value === "bigint") {
      this.#values[i] = Number(value);
      return true;
    }
    if (typeof value === "string" && value.trim() !== "") {
      // PostgreSQL numeric arrives as text.
      const n = Number(value);
      if (Number.isNaN(n) && value.trim() !== "NaN") return false;
      this.#values[i] = n;
      return true;
    }
    return false;
  }
  protected valueAt(i: number): unknown {
    return this.#values[i];
  }
  finish(length: number): ChunkColumn {
    const values = length === this.capacity ? this.#values : this.#values.slice(0, length);
    return { name: this.column.name, type: "float64", values, valid: this.validity.slice(length) };
  }
}

class BooleanBuffer extends FixedBuffer {
  readonly type = "boolean" as const;
  readonly #values: Uint8Array;
  constructor(column: SqlColumn, capacity: number) {
    super(column, capacity);
    this.#values = new Uint8Array(capacity);
  }
  fast(): null {
    return null;
  }
  set(i: number, value: unknown): boolean {
    if (value === true || value === 1 || value === 1n) this.#values[i] = 1;
    else if (value === false || value === 0 || value === 0n) this.#values[i] = 0;
    else return false;
    return true;
  }
  protected valueAt(i: number): unknown {
    return this.#values[i] === 1;
  }
  finish(length: number): ChunkColumn {
    const values = length === this.capacity ? this.#values : this.#values.slice(0, length);
    return { name: this.column.name, type: "boolean", values, valid: this.validity.slice(length) };
  }
}

class TextBuffer implements ColumnBuffer {
  #values: (string | null)[] = [];
  constructor(
    readonly column: SqlColumn,
    readonly capacity: number,
    readonly type: "string" | "date" | "datetime" | "json",
  ) {}
  fast(): FastStore {
    return { kind: FAST_TEXT, store: this.#values };
  }
  set(i: number, value: unknown): boolean {
    if (typeof value === "string") {
      this.#values[i] = value;
      return true;
    }
    if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
      // SQLite is dynamically typed: a text column may hold a number here and there.
      this.#values[i] = String(value);
      return true;
    }
    return false;
  }
  setNull(i: number): void {
    this.#values[i] = null;
  }
  retype(type: ColumnType, length: number): ColumnBuffer {
    const next = newBuffer(this.column, this.capacity, type);
    for (let i = 0; i < length; i++) {
      const v = this.#values[i];
      if (v === null) next.setNull(i);
      else next.set(i, v);
    }
    return next;
  }
  finish(length: number): ChunkColumn {
    // Rows are set in order from 0, so the array is dense up to `length`.
    const values = this.#values.length === length ? this.#values : this.#values.slice(0, length);
    this.#values = [];
    return { name: this.column.name, type: this.type, values, valid: null };
  }
}

/**
 * Text as codes into a per-batch dictionary (see `encodeText`). Gives up (`full`) when a batch
 * holds more than a quarter distinct values: then plain text is cheaper.
 */
class DictTextBuffer implements ColumnBuffer {
  readonly #codes: Uint32Array;
  readonly #index = new Map<string, number>();
  readonly #dict: string[] = [];
  readonly #limit: number;
  full = false;
  constructor(
    readonly column: SqlColumn,
    readonly capacity: number,
    readonly type: "string" | "date" | "datetime" | "json",
  ) {
    this.#codes = new Uint32Array(capacity);
    this.#limit = Math.max(16, capacity >> 2);
  }
  fast(): FastStore {
    return { kind: FAST_DICT, store: this };
  }
  put(i: number, value: string): boolean {
    let code = this.#index.get(value);
    if (code === undefined) {
      if (this.#dict.length >= this.#limit) {
        this.full = true;
        return false;
      }
      code = this.#dict.push(value);
      this.#index.set(value, code);
    }
    this.#codes[i] = code;
    return true;
  }
  set(i: number, value: unknown): boolean {
    if (typeof value === "string") return this.put(i, value);
    if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
      return this.put(i, String(value));
    }
    return false;
  }
  setNull(i: number): void {
    this.#codes[i] = 0;
  }
  /** Rows `0..length-1` decoded into `next`. */
  #copyInto(next: ColumnBuffer, length: number): ColumnBuffer {
    decodeCodes(this.#codes, this.#dict, length).forEach((v, i) =>
      v === null ? next.setNull(i) : next.set(i, v)
    );
    return next;
  }
  /** The rows so far as a plain text buffer. */
  toPlain(length: number): ColumnBuffer {
    return this.#copyInto(new TextBuffer(this.column, this.capacity, this.type), length);
  }
  retype(type: ColumnType, length: number): ColumnBuffer {
    return this.#copyInto(newBuffer(this.column, this.capacity, type), length);
  }
  finish(length: number): ChunkColumn {
    const codes = length === this.capacity ? this.#codes : this.#codes.slice(0, length);
    return {
      name: this.column.name,
      type: this.type,
      values: [],
      valid: null,
      encoded: { codes, dict: this.#dict },
    };
  }
}

/** Rows `0..length-1` of a dictionary-encoded column: code 0 is null, code `c` is `dict[c - 1]`. */
function decodeCodes(codes: Uint32Array, dict: string[], length: number): (string | null)[] {
  const values: (string | null)[] = new Array(length);
  for (let i = 0; i < length; i++) {
    const code = codes[i];
    values[i] = code === 0 ? null : dict[code - 1];
  }
  return values;
}

/** Turns dictionary-encoded text columns of a chunk back into plain arrays, in place. */
export function decodeChunk(chunk: ColumnChunk): ColumnChunk {
  for (const column of chunk.columns) {
    if (!("encoded" in column) || column.encoded === undefined) continue;
    column.values = decodeCodes(column.encoded.codes, column.encoded.dict, chunk.length);
    delete column.encoded;
  }
  return chunk;
}
