import { assertEquals, assertThrows } from "../assert.ts";
import pl from "nodejs-polars";
import {
  expressionColumns,
  parseExpression,
  toPolarsExpr,
} from "../../lib/transform/expression.ts";
import { ConfigError } from "../../lib/core/errors.ts";

Deno.test("expressions respect precedence, parentheses and unary minus", () => {
  const frame = pl.DataFrame({ a: [2, 3], b: [10, 20], "c d": [1, 1] });
  const evaluate = (text: string) =>
    frame.select(toPolarsExpr(parseExpression(text, "x")).alias("r")).getColumn("r").toArray();
  assertEquals(evaluate("a + b * 2"), [22, 43]);
  assertEquals(evaluate("(a + b) * 2"), [24, 46]);
  assertEquals(evaluate("-a - -b / 2"), [3, 7]);
  assertEquals(evaluate('b · (1 − "c d" / 4) × 2'), [15, 30]);
  assertEquals(evaluate("`c d` + 1.5e1"), [16, 16]);
});

Deno.test("expressions list the columns they read", () => {
  assertEquals(expressionColumns(parseExpression("UnitPrice * Quantity * (1 - UnitPrice)", "x")), [
    "UnitPrice",
    "Quantity",
  ]);
});

Deno.test("a malformed expression is a config error at its path", () => {
  for (const text of ["a +", "(a", "a b", "a % b", "", '"open']) {
    assertThrows(() => parseExpression(text, "derive.columns.p"), ConfigError, "derive.columns.p");
  }
});
