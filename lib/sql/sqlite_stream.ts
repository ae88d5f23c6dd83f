/**
 * A SQLite query's result in pages while the query runs, for the reader thread: the query is
 * wrapped as `WITH r(c0, …) AS (query) SELECT tidemark_page(c0, …) FROM r`, where
 * `tidemark_page` is an aggregate function of ours whose step gathers each row's values into
 * column arrays and hands over a page every `pageRows` rows (the hand-over may block until the
 * consumer asks for more, so memory stays bounded).
 *
 * Why, rather than running the query into a temporary table first (`sqlite_read.ts`, still
 * what the inline source does):
 * - Speed. The table made every row wait for the whole result (about 0.1 s more than the query
 *   itself for half a million rows, on the critical path), then a second pass read it back.
 *   Here the first page leaves as soon as SQLite yields the first row (after its sort, for an
 *   ORDER BY), and the consumer converts and encodes while the rest is read. One call into
 *   JavaScript per row costs about 0.6 µs (most of it node:sqlite making the row's values,
 *   whatever the function does; about 0.2 µs with no argument at all); `iterate()` costs about
 *   2.5 µs. Measured and not better: one `json_array(…)` argument per row instead of the
 *   values (0.9 µs: SQLite's JSON is slower than handing the values over), a scalar function,
 *   fixed arity, `PRAGMA threads` for the sort.
 * - The order. A `FROM` subquery's ORDER BY is kept when the outer query is an aggregate over
 *   it alone (SQLite drops it only under an outer ORDER BY or a join), as `INSERT … SELECT`
 *   relied on; SQLite runs it as a co-routine.
 * - Errors. The statement reports SQLite's error (integer overflow, malformed JSON, a busy
 *   database) where `iterate()` would end quietly; pages handed over before it are not the
 *   whole result, so the consumer fails the run and removes what it wrote from them.
 * - Exactness. Integers come as big integers (`useBigIntArguments`) and become numbers only
 *   within ±2^53; a page holding a wider one, a BLOB, or a number JSON cannot carry (±Infinity,
 *   -0) outside a column of numbers only goes as its values (structured clone).
 * - Memory. Only the pages in flight are in memory; a sort spills to SQLite's temporary file
 *   (`temp_store = FILE`, `SQLITE_TMPDIR` moves it).
 * - A consistent snapshot: the result is read in one statement.
 *
 * A plain page has, by column: a `Float64Array` for a column holding only numbers on that page
 * (integers there are within ±2^53, so exact; ±Infinity and -0 too), written as the rows come;
 * a {@link SqliteTextColumn} for one holding only text and nulls (the texts joined as UTF-8,
 * each one's length, a text repeated from the row before sent once); JSON text as UTF-8 bytes
 * for any other mix (`JSON.parse` is V8's fastest way to make those values on the other side).
 * Each buffer moves to the consumer without a copy and waits there outside its heap. Doubles
 * and joined text instead of JSON for every column: this thread's time beyond the calls went
 * from about 0.3 to 0.15 µs a row (Northwind line items), the main thread's decoding from
 * about 0.15 to 0.03 µs.
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { SqlError } from "../core/errors.ts";
import type { PreparedSqliteQuery, SqlitePage, SqliteTextColumn } from "./sqlite_read.ts";

const PAGE_FUNCTION = "tidemark_page";
const utf8 = new TextEncoder();

/**
 * Gathers rows into columns and hands a page over every `pageRows` rows. A column is written
 * straight into a `Float64Array` while it holds only numbers (most columns of most queries),
 * into a text column while it holds only text and nulls, and into an array of values once it
 * holds anything else; the page is made from those without a second pass over the values
 * (`Float64Array.from` and `JSON.stringify` over whole columns were a third of this thread's
 * time beyond SQLite's).
 */
class PageBuilder {
  /** By column: the doubles so far, while every value of the page is a number. */
  #doubles: (Float64Array | null)[] = [];
  /** By column: the texts so far, while every value is text or null. */
  #texts: (string[] | null)[] = [];
  /** By column: the values so far, once neither of the above. */
  #cells: (unknown[] | null)[] = [];
  /** By column: a number JSON cannot carry (±Infinity, -0) is among the doubles so far. */
  #special: boolean[] = [];
  #rows = 0;
  /** False once the page holds a value JSON text cannot carry exactly. */
  #plain = true;

  constructor(
    readonly width: number,
    readonly pageRows: number,
    readonly onPage: (page: SqlitePage) => void,
  ) {
    this.#reset();
  }

  #reset(): void {
    this.#doubles = Array.from({ length: this.width }, () => new Float64Array(this.pageRows));
    this.#texts = new Array(this.width).fill(null);
    this.#cells = new Array(this.width).fill(null);
    this.#special = new Array(this.width).fill(false);
    this.#rows = 0;
    this.#plain = true;
  }

  add(values: unknown[]): void {
    const r = this.#rows;
    for (let c = 0; c < this.width; c++) {
      const value = values[c];
      const doubles = this.#doubles[c];
      if (doubles !== null) {
        if (typeof value === "number") {
          doubles[r] = value;
          if (jsonCannotCarry(value)) this.#special[c] = true;
          continue;
        }
        if (typeof value === "bigint") {
          // Exact when it is a safe integer (2^53 itself is not: it stands for 2^53 + 1 too).
          const number = Number(value);
          if (Number.isSafeInteger(number)) {
            doubles[r] = number;
            continue;
          }
        }
        this.#leaveDoubles(c, r, value);
      } else {
        const texts = this.#texts[c];
        if (texts !== null && (typeof value === "string" || value === null)) texts[r] = value!;
        else this.#addCell(c, r, value);
      }
    }
    if (++this.#rows === this.pageRows) this.flush();
  }

  /** Column `c` gets a value that is not a number at row `r`: text or values from now on. */
  #leaveDoubles(c: number, r: number, value: unknown): void {
    const doubles = this.#doubles[c]!;
    this.#doubles[c] = null;
    if (r === 0 && (typeof value === "string" || value === null)) {
      const texts = new Array(this.pageRows);
      texts[0] = value;
      this.#texts[c] = texts;
      return;
    }
    if (this.#special[c]) this.#plain = false;
    const cells: unknown[] = new Array(this.pageRows);
    for (let i = 0; i < r; i++) cells[i] = doubles[i];
    this.#cells[c] = cells;
    this.#addCell(c, r, value);
  }

  /** Column `c` as values: a safe big integer as a number; anything JSON cannot carry noted. */
  #addCell(c: number, r: number, input: unknown): void {
    let cells = this.#cells[c];
    if (cells === null) {
      // A text column gets a value that is not text: its texts so far become values.
      cells = this.#texts[c]!;
      this.#texts[c] = null;
      this.#cells[c] = cells;
    }
    let value = input;
    if (typeof value === "bigint") {
      const number = Number(value);
      if (Number.isSafeInteger(number)) value = number;
      else this.#plain = false;
    } else if (typeof value === "number") {
      if (jsonCannotCarry(value)) this.#plain = false;
    } else if (value !== null && typeof value !== "string") {
      // a BLOB: the chunker names the column
      this.#plain = false;
    }
    cells[r] = value;
  }

  flush(): void {
    const length = this.#rows;
    if (length === 0) return;
    const doubles = this.#doubles;
    const texts = this.#texts;
    const cells = this.#cells;
    const plain = this.#plain;
    this.#reset();
    if (!plain) {
      // Structured clone carries big integers, BLOBs, ±Infinity and -0 as they are.
      const columns = doubles.map((d, c) =>
        d !== null ? Array.from(d.subarray(0, length)) : (texts[c] ?? cells[c]!).slice(0, length)
      );
      this.onPage({ kind: "values", length, columns });
      return;
    }
    const columns = doubles.map((d, c) => {
      // A column of numbers only goes as doubles: no JSON to write here or to parse there.
      if (d !== null) return length < this.pageRows ? d.slice(0, length) : d;
      const t = texts[c];
      if (t !== null) return textColumn(t, length);
      const values = cells[c]!;
      if (length < this.pageRows) values.length = length;
      return utf8.encode(JSON.stringify(values));
    });
    this.onPage({ kind: "json", length, columns });
  }
}

/** ±Infinity and -0, which JSON text cannot carry (NaN never comes out of SQLite: NULL instead). */
function jsonCannotCarry(value: number): boolean {
  return value - value !== 0 || (value === 0 && 1 / value < 0);
}

/**
 * Texts and nulls as one UTF-8 text and each value's length in UTF-16 units (-1: null, -2: the
 * same text as the row before), cut apart again by `decodePage`: joining copies the characters
 * once, where `JSON.stringify` looks at each for escapes (and `JSON.parse` again on the other
 * side), and a text repeated row after row (a sorted date, an order's customer) is sent once and
 * comes out as the same string, which the chunker then looks up once. Exact: strings from SQLite
 * are well-formed UTF-16 (node:sqlite replaces invalid UTF-8), so UTF-8 carries them unchanged.
 */
function textColumn(texts: (string | null)[], length: number): SqliteTextColumn {
  const lengths = new Int32Array(length);
  const parts: string[] = [];
  let previous: string | null = null;
  for (let r = 0; r < length; r++) {
    const text = texts[r];
    if (text === null) {
      lengths[r] = -1;
    } else if (text === previous) {
      lengths[r] = -2;
    } else {
      lengths[r] = text.length;
      parts.push(text);
    }
    previous = text;
  }
  return { text: utf8.encode(parts.join("")), lengths };
}

/**
 * Runs the prepared query on `db`, calling `onPage` with every `pageRows` rows as they come
 * (and with the last, shorter page); an error thrown by `onPage` stops the query. Throws
 * {@link SqlError} with SQLite's message when the query fails.
 */
export function streamPages(
  db: DatabaseSync,
  prepared: PreparedSqliteQuery,
  pageRows: number,
  onPage: (page: SqlitePage) => void,
): void {
  // A sort (ORDER BY, DISTINCT, GROUP BY) spills to a temporary file, not memory, whatever
  // the build's default: the result may be larger than the memory the extract may use.
  db.exec("PRAGMA temp_store = FILE");
  const builder = new PageBuilder(prepared.columns.length, pageRows, onPage);
  db.aggregate(
    PAGE_FUNCTION,
    {
      start: 0,
      varargs: true,
      useBigIntArguments: true,
      step: (count: number, ...values: unknown[]) => {
        builder.add(values);
        return count + 1;
      },
    } as unknown as Parameters<DatabaseSync["aggregate"]>[1],
  );
  const names = prepared.columns.map((_, i) => `c${i}`).join(", ");
  // The CTE's column list names the columns whatever the query calls them.
  const sql = `WITH tidemark_result(${names}) AS (\n${prepared.text}\n)\n` +
    `SELECT ${PAGE_FUNCTION}(${names}) FROM tidemark_result`;
  try {
    db.prepare(sql).get(...prepared.values);
  } catch (error) {
    throw new SqlError(
      `the query failed: ${(error as Error).message}; fix the query (or the data) and run ` +
        "again — nothing from this run was kept",
    );
  }
  builder.flush();
}

/** Slots of a reader's control counter (an `Int32Array` over a `SharedArrayBuffer`). */
const CREDITS = 0;
const STOP = 1;

/**
 * The counter by which a consumer lets its reader thread run ahead: it starts with `readAhead`
 * credits, one per page the reader may post before the consumer has taken one. Shared memory,
 * not messages: the reader is inside one synchronous statement and handles no message until it
 * ends.
 */
export function newReaderControl(readAhead: number): Int32Array {
  const control = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  control[CREDITS] = readAhead;
  return control;
}

/** The consumer took a page: the reader may post one more. */
export function giveCredit(control: Int32Array): void {
  Atomics.add(control, CREDITS, 1);
  Atomics.notify(control, CREDITS);
}

/** The consumer stopped: the reader's next {@link takeCredit} throws, ending its query. */
export function stopReader(control: Int32Array): void {
  Atomics.store(control, STOP, 1);
  Atomics.notify(control, CREDITS);
}

/**
 * On the reader thread: waits until the consumer may take one more page and takes that credit;
 * throws once the consumer has stopped.
 */
export function takeCredit(control: Int32Array): void {
  for (;;) {
    if (Atomics.load(control, STOP) !== 0) throw new SqlError("the consumer stopped reading");
    const credits = Atomics.load(control, CREDITS);
    if (credits > 0) {
      if (Atomics.compareExchange(control, CREDITS, credits, credits - 1) === credits) return;
    } else {
      // Woken by a credit or a stop; the timeout only bounds a missed wake-up.
      Atomics.wait(control, CREDITS, 0, 1000);
    }
  }
}
