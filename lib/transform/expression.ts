/**
 * Arithmetic column expressions for derived datasets, e.g.
 * `UnitPrice * Quantity * (1 - Discount)`: numbers, column names (bare, or quoted with `"…"` or
 * `` `…` `` when they hold spaces), `+ - * /` (also `·`, `×`, `−`), unary minus and parentheses.
 * Parsed into a small tree (pure), then turned into a polars expression.
 * @module
 */
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.ts";

/** A parsed expression. */
export type ExpressionNode =
  | { kind: "number"; value: number }
  | { kind: "column"; name: string }
  | { kind: "negate"; operand: ExpressionNode }
  | { kind: "binary"; op: "+" | "-" | "*" | "/"; left: ExpressionNode; right: ExpressionNode };

type Token =
  | { kind: "number"; value: number; at: number }
  | { kind: "column"; name: string; at: number }
  | { kind: "op"; op: string; at: number };

const OPERATORS: Record<string, string> = {
  "+": "+",
  "-": "-",
  "−": "-",
  "*": "*",
  "·": "*",
  "×": "*",
  "/": "/",
  "(": "(",
  ")": ")",
};

function tokenize(text: string, where: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c in OPERATORS) {
      tokens.push({ kind: "op", op: OPERATORS[c], at: i });
      i++;
    } else if (/[0-9.]/.test(c)) {
      const m = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(text.slice(i))!;
      tokens.push({ kind: "number", value: Number(m[0]), at: i });
      i += m[0].length;
    } else if (c === '"' || c === "`") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw bad(where, text, `unclosed ${c} at ${i}`);
      tokens.push({ kind: "column", name: text.slice(i + 1, end), at: i });
      i = end + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      tokens.push({ kind: "column", name: m[0], at: i });
      i += m[0].length;
    } else {
      throw bad(where, text, `unexpected "${c}" at ${i}`);
    }
  }
  return tokens;
}

function bad(where: string, text: string, why: string): ConfigError {
  return new ConfigError("bad derived column", [{
    path: where,
    message: `${JSON.stringify(text)}: ${why}; use numbers, column names, + - * / and parentheses`,
  }]);
}

/**
 * Parses an arithmetic expression; throws {@link ConfigError} at `where` when malformed.
 *
 * @example
 * ```ts
 * import { parseExpression } from "./expression.ts";
 * parseExpression("2 * (1 - Discount)", "derive.columns.x").kind; // "binary"
 * ```
 */
export function parseExpression(text: string, where: string): ExpressionNode {
  const tokens = tokenize(text, where);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (t: Token | undefined, ...ops: string[]) => t?.kind === "op" && ops.includes(t.op);

  function expression(): ExpressionNode {
    let node = term();
    while (isOp(peek(), "+", "-")) {
      const op = (tokens[pos++] as { op: "+" | "-" }).op;
      node = { kind: "binary", op, left: node, right: term() };
    }
    return node;
  }
  function term(): ExpressionNode {
    let node = factor();
    while (isOp(peek(), "*", "/")) {
      const op = (tokens[pos++] as { op: "*" | "/" }).op;
      node = { kind: "binary", op, left: node, right: factor() };
    }
    return node;
  }
  function factor(): ExpressionNode {
    const token = tokens[pos++];
    if (!token) throw bad(where, text, "it ends too early");
    if (token.kind === "number") return { kind: "number", value: token.value };
    if (token.kind === "column") return { kind: "column", name: token.name };
    if (token.op === "-") return { kind: "negate", operand: factor() };
    if (token.op === "(") {
      const inner = expression();
      if (!isOp(tokens[pos++], ")")) throw bad(where, text, `missing ")" for "(" at ${token.at}`);
      return inner;
    }
    throw bad(where, text, `unexpected "${token.op}" at ${token.at}`);
  }

  const node = expression();
  if (pos < tokens.length) throw bad(where, text, `unexpected text at ${tokens[pos].at}`);
  return node;
}

/** Column names an expression reads. */
export function expressionColumns(node: ExpressionNode): string[] {
  switch (node.kind) {
    case "number":
      return [];
    case "column":
      return [node.name];
    case "negate":
      return expressionColumns(node.operand);
    case "binary":
      return [...new Set([...expressionColumns(node.left), ...expressionColumns(node.right)])];
  }
}

/**
 * Turns a parsed expression into a polars expression (Float64 arithmetic).
 *
 * @example
 * ```ts
 * import { parseExpression, toPolarsExpr } from "./expression.ts";
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
