import { assertEquals, assertStringIncludes, assertThrows } from "../assert.ts";
import {
  bindQuery,
  findPlaceholders,
  parseParamFlags,
  singleStatement,
} from "../../lib/sql/params.ts";
import { SqlError } from "../../lib/core/errors.ts";

function names(sql: string, dialect: "sqlite" | "postgres" = "sqlite"): string[] {
  return findPlaceholders(sql, { dialect }).map((p) => p.name);
}

Deno.test("finds :name and $name placeholders in order", () => {
  assertEquals(names("SELECT * FROM t WHERE a >= :start AND b < $end AND c = :start"), [
    "start",
    "end",
    "start",
  ]);
});

Deno.test("ignores placeholders inside string literals, doubled quotes included", () => {
  assertEquals(names("SELECT ':no', 'it''s :no', x FROM t WHERE y = :yes"), ["yes"]);
});

Deno.test("ignores placeholders inside quoted identifiers", () => {
  assertEquals(names('SELECT "a:no", [b:no], `c:no` FROM t WHERE d = :yes'), ["yes"]);
});

Deno.test("ignores placeholders inside line and block comments", () => {
  assertEquals(names("SELECT 1 -- :no\n/* :no $no */ WHERE a = :yes"), ["yes"]);
});

Deno.test("PostgreSQL casts (::date) are not placeholders", () => {
  assertEquals(names("SELECT a::date, b::text FROM t WHERE c >= :start::date", "postgres"), [
    "start",
  ]);
});

Deno.test("PostgreSQL dollar-quoted strings and nested comments hide placeholders", () => {
  assertEquals(
    names(
      "SELECT $$ :no $$, $tag$ $no $tag$ /* a /* :no */ :no */ FROM t WHERE a = $yes",
      "postgres",
    ),
    ["yes"],
  );
});

Deno.test("PostgreSQL E'' strings honour backslash escapes", () => {
  assertEquals(names("SELECT E'\\' :no' WHERE a = :yes", "postgres"), ["yes"]);
});

Deno.test("a colon inside a word or array slice is not a placeholder", () => {
  assertEquals(names("SELECT arr[lo:hi], x FROM t WHERE y = :yes", "postgres"), ["yes"]);
});

Deno.test("SQLite positional ? and ?NNN are numbered as SQLite numbers them", () => {
  assertEquals(names("SELECT * FROM t WHERE a = ? AND b = ?5 AND c = ? AND d = '?'"), [
    "1",
    "5",
    "6",
  ]);
  assertEquals(names("SELECT ?2, ?, ?1"), ["2", "3", "1"]);
  // Not placeholders in PostgreSQL, where ? is a jsonb operator.
  assertEquals(names("SELECT doc ? 'key' FROM t WHERE id = $1", "postgres"), ["1"]);
});

Deno.test("positional placeholders bind by position: ?N for SQLite, $N for PostgreSQL", () => {
  const sqlite = bindQuery("SELECT * FROM t WHERE a >= ? AND b < ? AND c = ?1", {
    1: "x",
    2: 7,
  });
  assertEquals(sqlite.text, "SELECT * FROM t WHERE a >= ?1 AND b < ?2 AND c = ?1");
  assertEquals(sqlite.values, ["x", 7]);
  assertEquals(sqlite.params, { 1: "x", 2: 7 });
  const pg = bindQuery("SELECT * FROM t WHERE a = $2 AND b = $1 AND c = $2", { 1: "b", 2: "a" }, {
    dialect: "postgres",
  });
  assertEquals(pg.text, "SELECT * FROM t WHERE a = $2 AND b = $1 AND c = $2");
  assertEquals(pg.values, ["b", "a"]);
  // Gaps close up: the driver sees positions 1..n.
  const gap = bindQuery("SELECT $3, $1", { 1: "one", 3: "three" }, { dialect: "postgres" });
  assertEquals([gap.text, gap.values], ["SELECT $2, $1", ["one", "three"]]);
});

Deno.test("positional placeholders: unbound, unknown, mixed and misspelt forms are refused", () => {
  const unbound = assertThrows(() => bindQuery("SELECT ?, ?", { 1: "a" }), SqlError);
  assertStringIncludes(unbound.message, "? (position 2) has no value; pass --param 2=VALUE");
  assertThrows(
    () => bindQuery("SELECT ?", { 1: "a", 2: "b" }),
    SqlError,
    "--param 2 is not used by the query (its placeholders: ?1)",
  );
  assertThrows(() => bindQuery("SELECT :a, ?", { a: 1, 1: 2 }), SqlError, "mixes named (:a)");
  assertThrows(() => names("SELECT * FROM t WHERE a = $1"), SqlError, "in SQLite write ?1");
  assertThrows(() => names("SELECT $0", "postgres"), SqlError, "start at $1");
  // The extractor's watermark may sit beside positional placeholders.
  const wrapped = bindQuery("SELECT * FROM (SELECT ? AS x) WHERE x >= :wm", { 1: 5, wm: 3 }, {
    reserved: "wm",
  });
  assertEquals([wrapped.text, wrapped.values], ["SELECT * FROM (SELECT ?1 AS x) WHERE x >= ?2", [
    5,
    3,
  ]]);
});

Deno.test("bindQuery rewrites to ?N for SQLite and reuses a repeated name's position", () => {
  const q = bindQuery("SELECT :a, $b, :a", { a: "x", b: 2 });
  assertEquals(q.text, "SELECT ?1, ?2, ?1");
  assertEquals(q.values, ["x", 2]);
  assertEquals(q.params, { a: "x", b: 2 });
});

Deno.test("bindQuery rewrites to $N for PostgreSQL", () => {
  const q = bindQuery("SELECT * FROM t WHERE d >= :start::date", { start: "1997-01-01" }, {
    dialect: "postgres",
  });
  assertEquals(q.text, "SELECT * FROM t WHERE d >= $1::date");
  assertEquals(q.values, ["1997-01-01"]);
});

Deno.test("an injection attempt stays a value and never reaches the SQL text", () => {
  const evil = "'; DROP TABLE Orders; --";
  const q = bindQuery("SELECT * FROM Orders WHERE CustomerID = :c", { c: evil });
  assertEquals(q.text, "SELECT * FROM Orders WHERE CustomerID = ?1");
  assertEquals(q.values, [evil]);
});

Deno.test("an unbound placeholder is refused, naming it and the flag to pass", () => {
  const error = assertThrows(() => bindQuery("SELECT :start, :end", { start: "1" }), SqlError);
  assertStringIncludes(error.message, ":end has no value");
  assertStringIncludes(error.message, "--param end=VALUE");
});

Deno.test("an unknown --param is refused, listing the query's placeholders", () => {
  const error = assertThrows(
    () => bindQuery("SELECT :start", { start: "1", country: "USA" }),
    SqlError,
  );
  assertStringIncludes(error.message, "--param country is not used");
  assertStringIncludes(error.message, ":start");
});

Deno.test("parseParamFlags splits on the first = and keeps the rest of the value", () => {
  assertEquals(parseParamFlags(["start=1997-01-01", "expr=a=b", "empty="]), {
    start: "1997-01-01",
    expr: "a=b",
    empty: "",
  });
});

Deno.test("parseParamFlags refuses a flag without = and a repeated name; positions are names", () => {
  assertThrows(() => parseParamFlags(["start"]), SqlError, "name=value");
  assertThrows(() => parseParamFlags(["a=1", "a=2"]), SqlError, "given twice");
  assertThrows(() => parseParamFlags(["0=x"]), SqlError, "a position");
  assertEquals(parseParamFlags(["1=1997-01-01", "2=x"]), { 1: "1997-01-01", 2: "x" });
});

Deno.test("singleStatement drops a trailing semicolon, comments and whitespace", () => {
  assertEquals(singleStatement("SELECT 1 ; -- done\n/* end */ \n"), "SELECT 1");
  assertEquals(singleStatement("SELECT ';' -- trailing"), "SELECT ';'");
});

Deno.test("singleStatement refuses a second statement and an empty query", () => {
  assertThrows(() => singleStatement("SELECT 1; DROP TABLE Orders"), SqlError, "more than one");
  assertThrows(() => singleStatement(" -- nothing\n ; "), SqlError, "empty");
});

Deno.test("bindQuery binds the single statement without its trailing semicolon", () => {
  assertEquals(bindQuery("SELECT :a;\n", { a: 1 }).text, "SELECT ?1");
});
