/**
 * PostgreSQL through `pg`, streamed with a server-side cursor: the query runs in a read-only
 * repeatable-read transaction as `DECLARE … NO SCROLL CURSOR`, and rows come `FETCH FORWARD n`
 * at a time into column chunks, so memory is bounded by the chunk size, not the result.
 *
 * Types come from the result's type OIDs and modifiers, natively: int2/int4/int8 → int64
 * (int8 exact beyond 2^53), float4/float8 → float64, `numeric(p,s)` → decimal(p,s) (p ≤ 38),
 * other numerics → text exactly as PostgreSQL prints them (never through a double), bool →
 * boolean, date → date, timestamp → timestamp (µs, no zone), timestamptz → timestamp_tz (µs,
 * UTC), json/jsonb → JSON text, anything else → text. Dates and timestamps are read from the
 * text PostgreSQL prints (`DateStyle` ISO for the session; timestamptz with its offset), never
 * through a JS `Date` in the local time zone; `infinity` and other values the types cannot hold
 * become rejects.
 *
 * The password comes from the URL or `PGPASSWORD` (pg reads it); it never reaches a message,
 * the manifest or a log: the source is described by its URL without credentials.
 * @module
 */
import pg from "pg";
import { SqlError } from "../core/errors.ts";
import { redactText, redactUrl } from "../core/redact.ts";
import { type BuiltChunk, ChunkBuilder, type SqlColumn, type TypeHint } from "./chunker.ts";
import { decimalType } from "../sinks/column_types.ts";
import type { Boundary } from "./boundary.ts";
import type { BoundQuery } from "./params.ts";
import {
  checkUniqueColumns,
  type QueryOptions,
  type QueryStream,
  type SqlSource,
} from "./source.ts";

/** Options of {@link openPostgresSource}. */
export interface PostgresSourceOptions {
  /** Give up connecting after this many milliseconds. @default 10_000 */
  connectTimeoutMs?: number;
  /** Rows per `FETCH` (at most the chunk size). @default 10_000 */
  fetchRows?: number;
}

// Type OIDs (pg_type.oid) of the types that are not plain text.
const OID = {
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  oid: 26,
  float4: 700,
  float8: 701,
  numeric: 1700,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  json: 114,
  jsonb: 3802,
} as const;

const NAMES: Record<number, string> = {
  16: "bool",
  20: "int8",
  21: "int2",
  23: "int4",
  26: "oid",
  700: "float4",
  701: "float8",
  1700: "numeric",
  1082: "date",
  1114: "timestamp",
  1184: "timestamptz",
  25: "text",
  1043: "varchar",
  1042: "bpchar",
  114: "json",
  3802: "jsonb",
};

/**
 * The {@link TypeHint} of a PostgreSQL type OID and type modifier (`numeric(10,2)` has the
 * modifier ((10 << 16) | 2) + 4).
 *
 * @example
 * ```ts
 * import { postgresTypeHint } from "./postgres_source.ts";
 * postgresTypeHint(1700, ((10 << 16) | 2) + 4); // "decimal(10,2)"
 * postgresTypeHint(1184); // "timestamp_tz"
 * ```
 */
export function postgresTypeHint(oid: number, modifier = -1): TypeHint {
  switch (oid) {
    case OID.int2:
    case OID.int4:
    case OID.int8:
    case OID.oid:
      return "int64";
    case OID.float4:
    case OID.float8:
      return "float64";
    case OID.numeric: {
      if (modifier < 4) return "string"; // numeric without a precision: any size, kept as text
      const precision = ((modifier - 4) >> 16) & 0xffff;
      // The scale is an 11-bit signed field (PostgreSQL 15 allows numeric(2,-3) and (2,5)).
      const scale = (((modifier - 4) & 0x7ff) ^ 0x400) - 0x400;
      return precision >= 1 && precision <= 38 && scale >= 0 && scale <= precision
        ? decimalType(precision, scale)
        : "string";
    }
    case OID.bool:
      return "boolean";
    case OID.date:
      return "date";
    case OID.timestamp:
      return "timestamp";
    case OID.timestamptz:
      return "timestamp_tz";
    case OID.json:
    case OID.jsonb:
      return "json";
    default:
      return "string";
  }
}

const MAX_SAFE_DIGITS = 15;

function parseInt64(text: string): number | bigint {
  // Up to 15 digits is always a safe integer; longer text goes through BigInt to stay exact.
  return text.length <= MAX_SAFE_DIGITS ? Number(text) : BigInt(text);
}

/**
 * Parsers by OID for text-format values; everything not listed stays text (numeric, dates,
 * timestamps and JSON are converted exactly by the chunker).
 */
const TYPES = {
  getTypeParser(oid: number): (text: string) => unknown {
    switch (oid) {
      case OID.int2:
      case OID.int4:
      case OID.oid:
        return Number;
      case OID.int8:
        return parseInt64;
      case OID.float4:
      case OID.float8:
        return parseFloat;
      case OID.bool:
        return (text: string) => text === "t";
      default:
        return (text: string) => text;
    }
  },
};

/**
 * Connects to PostgreSQL at `url` (`postgres://user@host:port/db`; password from the URL or
 * `PGPASSWORD`). Throws {@link SqlError} naming the server (without credentials) when it cannot.
 *
 * @example
 * ```ts
 * import { openPostgresSource } from "./postgres_source.ts";
 * const source = await openPostgresSource("postgres://etl@127.0.0.1:5432/northwind");
 * await source.close();
 * ```
 */
export async function openPostgresSource(
  url: string,
  options: PostgresSourceOptions = {},
): Promise<SqlSource> {
  const description = redactUrl(url);
  const secrets = secretsOf(url);
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types: TYPES,
    application_name: "tidemark",
  });
  // A connection dropped by the server is reported by the query that needs it; without a
  // listener an 'error' event would end the process.
  client.on("error", () => {});
  try {
    await client.connect();
    // Dates and timestamps printed as ISO-8601 whatever the server's default; the field order
    // for reading date literals in the query stays the server's.
    await client.query("SET DateStyle TO ISO");
  } catch (error) {
    await client.end().catch(() => {});
    throw new SqlError(
      `cannot connect to ${description}: ${explain(error, secrets)}; check the host, port, ` +
        "database and user, that the server runs, and PGPASSWORD",
    );
  }
  return new PostgresSource(client, description, secrets, options.fetchRows ?? 10_000);
}

function secretsOf(url: string): string[] {
  const out: string[] = [];
  const env = globalThis.Deno?.env.get("PGPASSWORD");
  if (env) out.push(env);
  try {
    const password = new URL(url).password;
    if (password) out.push(decodeURIComponent(password));
  } catch {
    // not a URL: nothing embedded
  }
  return out;
}

function explain(error: unknown, secrets: string[]): string {
  const e = error as { message?: string; code?: string; errors?: { message: string }[] };
  let message = e.message || e.errors?.map((x) => x.message).join("; ") || String(error);
  if (e.code === "ECONNREFUSED") message = "connection refused";
  return redactText(message, secrets);
}

class PostgresSource implements SqlSource {
  readonly dialect = "postgres" as const;
  #client: pg.Client | undefined;
  #busy = false;

  constructor(
    client: pg.Client,
    readonly description: string,
    readonly secrets: string[],
    readonly fetchRows: number,
  ) {
    this.#client = client;
  }

  async query(query: BoundQuery, options: QueryOptions = {}): Promise<QueryStream> {
    const client = this.#client;
    if (!client) throw new SqlError(`connection to ${this.description} is closed`);
    if (this.#busy) throw new SqlError("one query at a time per PostgreSQL source");
    this.#busy = true;
    const chunkRows = options.chunkRows ?? 100_000;
    const fetchRows = Math.min(this.fetchRows, chunkRows);
    const fetch = `FETCH FORWARD ${fetchRows} FROM tidemark_cursor`;
    let first: pg.QueryArrayResult;
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      await client.query({
        text: `DECLARE tidemark_cursor NO SCROLL CURSOR FOR ${query.text}`,
        values: query.values.map(toPg),
      });
      first = await client.query({ text: fetch, rowMode: "array" });
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      this.#busy = false;
      throw new SqlError(
        `the query failed on ${this.description}: ${explain(error, this.secrets)}`,
      );
    }
    const columns: SqlColumn[] = first.fields.map((
      f: { name: string; dataTypeID: number; dataTypeModifier: number },
    ) => ({
      name: f.name,
      declaredType: NAMES[f.dataTypeID] ?? `oid ${f.dataTypeID}`,
      hint: postgresTypeHint(f.dataTypeID, f.dataTypeModifier),
    }));
    let builder: ChunkBuilder;
    try {
      checkUniqueColumns(columns);
      builder = new ChunkBuilder(columns, {
        chunkRows,
        shape: options.shape,
        incremental: options.incremental,
      });
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      this.#busy = false;
      throw error;
    }
    let done = false;
    const finish = async (commit: boolean) => {
      if (done) return;
      done = true;
      await client.query(commit ? "COMMIT" : "ROLLBACK").catch(() => {});
      this.#busy = false;
    };
    const describe = this.description;
    const secrets = this.secrets;
    let read = 0;
    async function* chunks(): AsyncGenerator<BuiltChunk> {
      let batch = first;
      try {
        for (;;) {
          read += batch.rows.length;
          yield* builder.push(batch.rows);
          if (batch.rows.length < fetchRows) break;
          try {
            batch = await client.query({ text: fetch, rowMode: "array" });
          } catch (error) {
            throw new SqlError(
              `the query failed after ${read} rows on ${describe}: ` + explain(error, secrets),
            );
          }
        }
        const last = builder.finish();
        if (last) yield last;
        await finish(true);
      } finally {
        await finish(false);
      }
    }
    return {
      columns,
      chunks: chunks(),
      boundary: (): Boundary | undefined => builder.boundary(),
      release: (chunk: BuiltChunk) => builder.release(chunk),
      cancel: () => finish(false),
    };
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}

function toPg(value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
