/**
 * YAML text → a plain value, the one place Tidemark reads YAML (configs, schedules). It uses
 * `js-yaml`: one ES module, ready in ~10 ms, where the `yaml` package's CommonJS build — dozens of
 * files, each resolved through Node's `require` — took ~0.1 s of every harvest's start. Its
 * default (YAML 1.2 core) schema reads `2024-01-01` as text, `yes` as text and `0x1F` as 31, as
 * before; duplicate keys are an error; merge keys (`<<`) are not YAML 1.2 and stay unsupported.
 * @module
 */
import { load } from "js-yaml";
import type { ConfigIssue } from "../core/errors.ts";

/** Alias nodes (`*name`) a document may hold. */
const MAX_ALIASES = 100;
/**
 * Values a document may expand to once its aliases are followed. Aliases share the node they
 * name, so a few dozen can stand for billions of values (the "billion laughs"): walking such a
 * document would never end. No config comes near this.
 */
const MAX_VALUES = 100_000;

/** What {@link parseYaml} gives: the value, or the problems with their line and column. */
export type YamlResult = { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] };

/**
 * Parses one YAML document. Blank text is `null`. A syntax error, a duplicate key or a document
 * whose aliases expand too far comes back as an issue whose path is `line L, column C`.
 *
 * @example
 * ```ts
 * import { parseYaml } from "./yaml.ts";
 * parseYaml("name: x\nassets: []\n"); // { ok: true, value: { name: "x", assets: [] } }
 * parseYaml("name: x\nname: y\n"); // { ok: false, issues: [{ path: "line 2, column 1", … }] }
 * ```
 */
export function parseYaml(text: string): YamlResult {
  if (text.trim() === "") return { ok: true, value: null };
  let value: unknown;
  try {
    value = load(text, { maxAliases: MAX_ALIASES });
  } catch (error) {
    const { reason, mark } = error as { reason?: string; mark?: { line: number; column: number } };
    const message = reason ?? (error as Error)?.message ?? String(error);
    return {
      ok: false,
      issues: [{
        path: mark ? `line ${mark.line + 1}, column ${mark.column + 1}` : "",
        message: message.charAt(0).toLowerCase() + message.slice(1),
      }],
    };
  }
  if (expandsBeyond(value, MAX_VALUES)) {
    return {
      ok: false,
      issues: [{
        path: "",
        message: `its aliases expand to more than ${MAX_VALUES} values; write the values out, ` +
          "or name fewer of them by alias",
      }],
    };
  }
  return { ok: true, value };
}

/** Whether walking `value`, every alias followed, visits more than `limit` values. */
function expandsBeyond(value: unknown, limit: number): boolean {
  const stack: unknown[] = [value];
  let seen = 0;
  while (stack.length > 0) {
    const next = stack.pop();
    if (++seen > limit) return true;
    if (next === null || typeof next !== "object") continue;
    for (const child of Array.isArray(next) ? next : Object.values(next)) stack.push(child);
  }
  return false;
}
