/**
 * Query parameters: finds placeholders outside string literals, quoted identifiers and
 * comments — named ones (`:name`, `$name`) and positional ones (SQLite's `?` and `?NNN`,
 * PostgreSQL's `$1`) — and rewrites them into the driver's positional form (`?1` for SQLite,
 * `$1` for PostgreSQL) with the values in a separate list. A positional placeholder's value is
 * named by its position: `--param 1=1997-01-01` (an anonymous `?` takes the number after the
 * largest one before it, as SQLite numbers them). Values are always bound by the driver, never
 * spliced into the SQL text, so `'; DROP TABLE Orders; --` is a value. A placeholder without a
 * value, a value without a placeholder, and a query mixing named and positional placeholders
 * are refused before the query runs.
 * @module
 */
import { SqlError } from "../core/errors.ts";

/** A value that can be bound to a placeholder. */
export type ParamValue = string | number | bigint | boolean | null;

/** SQL dialect: decides the positional placeholder syntax and dialect-only lexical rules. */
export type SqlDialect = "sqlite" | "postgres";

/** One placeholder occurrence in the SQL text. */
export interface Placeholder {
  /** The parameter name without its sigil; a positional placeholder's position (`"1"`). */
  name: string;
  /** The sigil used: `:` or `$` (named, or PostgreSQL's `$1`), `?` (SQLite's positional). */
  sigil: ":" | "$" | "?";
  /** True for a positional placeholder (`?`, `?2`, `$1`). */
  positional: boolean;
  /** Offset of the sigil in the SQL text. */
  start: number;
  /** Offset just past the name. */
  end: number;
}

/** A query ready for a driver: positional placeholders and their values in order. */
export interface BoundQuery {
  /** SQL text with each placeholder replaced by the driver's positional one. */
  text: string;
  /** Values for positions 1..n. */
  values: ParamValue[];
  /** Parameter names in position order (position i+1 is `names[i]`; `"1"` for `?1`/`$1`). */
  names: string[];
  /** The bound values by name, for the manifest. */
  params: Record<string, ParamValue>;
}

/** Options of {@link bindQuery}. */
export interface BindQueryOptions {
  /** Which positional syntax to produce. @default "sqlite" */
  dialect?: SqlDialect;
  /**
   * A named placeholder allowed beside positional ones (the extractor's watermark, added to a
   * user's query around it). @default none
   */
  reserved?: string;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

/**
 * Every placeholder in `sql`, in order of appearance: named (`:name`, `$name`) and positional
 * (SQLite `?`, `?NNN`; PostgreSQL `$N`), a positional one named by its position. Refuses `$1`
 * in SQLite (there it would be a parameter named "1": use `?1`) and `?0`.
 *
 * @example
 * ```ts
 * import { findPlaceholders } from "./params.ts";
 * findPlaceholders("SELECT * FROM t WHERE d >= :start AND note <> ':x'").map((p) => p.name);
 * // ["start"]
 * findPlaceholders("SELECT * FROM t WHERE a = ? AND b = ?5 AND c = ?").map((p) => p.name);
 * // ["1", "5", "6"]
 * ```
 */
export function findPlaceholders(sql: string, options: BindQueryOptions = {}): Placeholder[] {
  const dialect = options.dialect ?? "sqlite";
  const found: Placeholder[] = [];
  const n = sql.length;
  let i = 0;
  let largest = 0;
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "'" || c === '"' || c === "`") {
      i = skipQuoted(sql, i, c);
    } else if (c === "[" && dialect === "sqlite") {
      // SQLite (and SQL Server) quote identifiers in brackets: [Order Details].
      const close = sql.indexOf("]", i + 1);
      i = close < 0 ? n : close + 1;
    } else if (c === "-" && next === "-") {
      const eol = sql.indexOf("\n", i + 2);
      i = eol < 0 ? n : eol + 1;
    } else if (c === "/" && next === "*") {
      i = skipBlockComment(sql, i, dialect);
    } else if (c === ":" && next === ":") {
      i += 2; // PostgreSQL cast `x::date`, never a placeholder
    } else if (c === "$" && dialect === "postgres" && isDollarQuoteStart(sql, i)) {
      i = skipDollarQuoted(sql, i);
    } else if ((c === ":" || c === "$") && next !== undefined && IDENT_START.test(next)) {
      if (c === "$" || !isPartOfWord(sql, i)) {
        let end = i + 2;
        while (end < n && IDENT_PART.test(sql[end])) end += 1;
        found.push({ name: sql.slice(i + 1, end), sigil: c, positional: false, start: i, end });
        i = end;
      } else {
        i += 1;
      }
    } else if (c === "$" && next !== undefined && /[0-9]/.test(next) && !isPartOfWord(sql, i)) {
      const text = positionalAt(sql, i);
      if (dialect === "sqlite") {
        throw new SqlError(
          `placeholder ${text} is PostgreSQL's positional form; in SQLite write ?${
            text.slice(1)
          } (or ? ), or a named :name, and pass --param ${text.slice(1)}=VALUE`,
        );
      }
      const position = Number(text.slice(1));
      if (position < 1) throw new SqlError(`placeholder ${text}: positions start at $1`);
      found.push({
        name: String(position),
        sigil: "$",
        positional: true,
        start: i,
        end: i + text.length,
      });
      i += text.length;
    } else if (c === "?" && dialect === "sqlite") {
      const text = positionalAt(sql, i);
      // SQLite numbers a bare ? one after the largest position so far.
      const position = text.length > 1 ? Number(text.slice(1)) : largest + 1;
      if (position < 1) throw new SqlError(`placeholder ${text}: positions start at ?1`);
      largest = Math.max(largest, position);
      found.push({
        name: String(position),
        sigil: "?",
        positional: true,
        start: i,
        end: i + text.length,
      });
      i += text.length;
    } else if (IDENT_PART.test(c)) {
      // Skip a whole word so `a$b` (a legal PostgreSQL identifier) is not read as `$b`.
      while (i < n && (IDENT_PART.test(sql[i]) || sql[i] === "$")) i += 1;
    } else {
      i += 1;
    }
  }
  return found;
}

/**
 * Rewrites `sql`'s placeholders into the driver's positional ones and binds `params` to them
 * (by name; by position for positional placeholders: `{ "1": … }`), after
 * {@link singleStatement}. Positional placeholders come first, in position order, then named
 * ones in order of appearance. Throws {@link SqlError} when a placeholder has no value, a value
 * has no placeholder, or named and positional placeholders are mixed.
 *
 * @example
 * ```ts
 * import { bindQuery } from "./params.ts";
 * const q = bindQuery("SELECT * FROM Orders WHERE OrderDate >= :start", { start: "1997-01-01" });
 * // q.text === "SELECT * FROM Orders WHERE OrderDate >= ?1"; q.values === ["1997-01-01"]
 * bindQuery("SELECT * FROM t WHERE a = $2 AND b = $1", { 1: "x", 2: "y" }, { dialect: "postgres" });
 * // text "… a = $2 AND b = $1", values ["x", "y"]
 * ```
 */
export function bindQuery(
  sql: string,
  params: Record<string, ParamValue>,
  options: BindQueryOptions = {},
): BoundQuery {
  const dialect = options.dialect ?? "sqlite";
  sql = singleStatement(sql, { dialect });
  const placeholders = findPlaceholders(sql, { dialect });
  const positional = placeholders.find((p) => p.positional);
  const named = placeholders.find((p) => !p.positional && p.name !== options.reserved);
  if (positional && named) {
    throw new SqlError(
      `the query mixes named (${named.sigil}${named.name}) and positional ` +
        `(${sql.slice(positional.start, positional.end)}) placeholders; use one kind`,
    );
  }
  const names: string[] = [];
  const position = new Map<string, number>();
  // Positional ones keep their order (positions without a placeholder are not bound), named
  // ones follow in order of appearance.
  const numbers = [...new Set(placeholders.filter((p) => p.positional).map((p) => Number(p.name)))]
    .sort((a, b) => a - b);
  for (const number of numbers) {
    position.set(String(number), names.length + 1);
    names.push(String(number));
  }
  for (const p of placeholders) {
    if (!position.has(p.name)) {
      position.set(p.name, names.length + 1);
      names.push(p.name);
    }
  }
  const missing = names.filter((name) => !Object.hasOwn(params, name));
  if (missing.length > 0) {
    const first = placeholders.find((p) => p.name === missing[0])!;
    const shown = first.positional
      ? sql.slice(first.start, first.end) +
        (first.end - first.start === 1 ? ` (position ${first.name})` : "")
      : `${first.sigil}${first.name}`;
    throw new SqlError(
      `query placeholder ${shown} has no value; pass --param ` +
        `${missing[0]}=VALUE${
          missing.length > 1 ? ` (also unbound: ${missing.slice(1).join(", ")})` : ""
        }`,
    );
  }
  const unknown = Object.keys(params).filter((name) => !position.has(name));
  if (unknown.length > 0) {
    const used = names.length > 0
      ? names.map((n) => /^\d+$/.test(n) ? `${dialect === "postgres" ? "$" : "?"}${n}` : `:${n}`)
        .join(", ")
      : "none";
    throw new SqlError(
      `--param ${unknown[0]} is not used by the query (its placeholders: ${used}); ` +
        "remove it or add the placeholder to the query",
    );
  }
  let text = "";
  let last = 0;
  for (const p of placeholders) {
    const index = position.get(p.name)!;
    text += sql.slice(last, p.start) + (dialect === "postgres" ? `$${index}` : `?${index}`);
    last = p.end;
  }
  text += sql.slice(last);
  const bound: Record<string, ParamValue> = {};
  for (const name of names) bound[name] = params[name];
  return { text, values: names.map((name) => params[name]), names, params: bound };
}

/**
 * The query as one statement without its trailing `;`, comments and whitespace, so it can be
 * wrapped as a subquery. Refuses a second statement (`SELECT 1; DROP TABLE t`) and an empty one.
 *
 * @example
 * ```ts
 * import { singleStatement } from "./params.ts";
 * singleStatement("SELECT 1; -- done\n"); // "SELECT 1"
 * ```
 */
export function singleStatement(sql: string, options: BindQueryOptions = {}): string {
  const dialect = options.dialect ?? "sqlite";
  const n = sql.length;
  let i = 0;
  let end = 0; // just past the last character of code (not comment or whitespace)
  let statementEnd = -1;
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    let j: number;
    if (c === "-" && next === "-") {
      const eol = sql.indexOf("\n", i + 2);
      i = eol < 0 ? n : eol + 1;
      continue;
    } else if (c === "/" && next === "*") {
      i = skipBlockComment(sql, i, dialect);
      continue;
    } else if (/\s/.test(c)) {
      i += 1;
      continue;
    } else if (c === ";") {
      if (statementEnd < 0) statementEnd = end;
      i += 1;
      continue;
    } else if (c === "'" || c === '"' || c === "`") {
      j = skipQuoted(sql, i, c);
    } else if (c === "[" && dialect === "sqlite") {
      const close = sql.indexOf("]", i + 1);
      j = close < 0 ? n : close + 1;
    } else if (c === "$" && dialect === "postgres" && isDollarQuoteStart(sql, i)) {
      j = skipDollarQuoted(sql, i);
    } else {
      j = i + 1;
    }
    if (statementEnd >= 0) {
      throw new SqlError(
        `the query holds more than one statement (a second one starts at "${
          sql.slice(i, i + 30).split("\n")[0]
        }"); extract runs one SELECT`,
      );
    }
    i = j;
    end = j;
  }
  const body = sql.slice(0, statementEnd >= 0 ? statementEnd : end);
  if (body.trim() === "") throw new SqlError("the query is empty; give a SELECT statement");
  return body;
}

/**
 * Parses `--param name=value` flags into a record. Names are identifiers, or positions (`1`)
 * for positional placeholders; a repeated name is refused (it would silently drop a value).
 */
export function parseParamFlags(flags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    const name = eq < 0 ? flag : flag.slice(0, eq);
    if (eq < 0 || !/^([A-Za-z_][A-Za-z0-9_]*|[1-9][0-9]*)$/.test(name)) {
      throw new SqlError(
        `--param "${flag}" must look like name=value with name a placeholder name (letters, ` +
          "digits, _) or a position (1, 2, …), e.g. --param start=1997-01-01 or --param 1=1997-01-01",
      );
    }
    if (Object.hasOwn(out, name)) {
      throw new SqlError(`--param ${name} is given twice; give each parameter once`);
    }
    out[name] = flag.slice(eq + 1);
  }
  return out;
}

function isPartOfWord(sql: string, i: number): boolean {
  return i > 0 && (IDENT_PART.test(sql[i - 1]) || sql[i - 1] === "$");
}

function positionalAt(sql: string, i: number): string {
  const m = /^[?$][0-9]*/.exec(sql.slice(i, i + 12));
  return m ? m[0] : sql[i];
}

function skipQuoted(sql: string, i: number, quote: string): number {
  // A doubled quote inside is an escaped quote ('it''s'); backslashes are not escapes in
  // standard SQL strings. PostgreSQL E'..' strings use backslash escapes.
  const escapeString = quote === "'" && i > 0 && /[eE]/.test(sql[i - 1]) &&
    (i < 2 || !IDENT_PART.test(sql[i - 2]));
  let j = i + 1;
  while (j < sql.length) {
    const c = sql[j];
    if (escapeString && c === "\\") {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (sql[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j += 1;
  }
  return sql.length;
}

function skipBlockComment(sql: string, i: number, dialect: SqlDialect): number {
  // PostgreSQL block comments nest; SQLite's do not.
  let depth = 0;
  let j = i;
  while (j < sql.length) {
    if (sql[j] === "/" && sql[j + 1] === "*") {
      if (depth === 0 || dialect === "postgres") depth += 1;
      j += 2;
    } else if (sql[j] === "*" && sql[j + 1] === "/") {
      depth -= 1;
      j += 2;
      if (depth === 0) return j;
    } else {
      j += 1;
    }
  }
  return sql.length;
}

const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

function isDollarQuoteStart(sql: string, i: number): boolean {
  return !isPartOfWord(sql, i) && DOLLAR_TAG.test(sql.slice(i, i + 66));
}

function skipDollarQuoted(sql: string, i: number): number {
  const tag = DOLLAR_TAG.exec(sql.slice(i, i + 66))![0];
  const close = sql.indexOf(tag, i + tag.length);
  return close < 0 ? sql.length : close + tag.length;
}
