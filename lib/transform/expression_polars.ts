/**
 * Derived-column expressions (`expression.ts`) as polars expressions: Float64 arithmetic.
 * Apart from the parser so that checking a config loads no native code.
 * @module
 */
import pl from "nodejs-polars";
import type { ExpressionNode } from "./expression.ts";

/**
 * Turns a parsed expression into a polars expression (Float64 arithmetic).
 *
 * @example
 * ```ts
 * import { parseExpression } from "./expression.ts";
 * import { toPolarsExpr } from "./expression_polars.ts";
 * const price = toPolarsExpr(parseExpression("UnitPrice * Quantity", "x")).alias("price");
 * ```
 */
export function toPolarsExpr(node: ExpressionNode): pl.Expr {
  switch (node.kind) {
    case "number":
      return pl.lit(node.value).cast(pl.Float64);
    case "column":
      return pl.col(node.name).cast(pl.Float64);
    case "negate":
      return pl.lit(0).cast(pl.Float64).sub(toPolarsExpr(node.operand));
    case "binary": {
      const left = toPolarsExpr(node.left), right = toPolarsExpr(node.right);
      if (node.op === "+") return left.add(right);
      if (node.op === "-") return left.sub(right);
      if (node.op === "*") return left.mul(right);
      return left.div(right);
    }
  }
}
