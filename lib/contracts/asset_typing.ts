/**
 * The column types of one REST asset for a run, decided once on its first page: declared
 * columns (`columns:`) and a named contract's types first; then the types earlier runs wrote
 * (recorded in state); then inference — text whose every value is one date form becomes a date
 * or timestamp column. Rows pass the named contract, then the declarations (plus the inferred
 * and recorded date columns, so a later value that does not parse is rejected, not written as
 * something else); a value that does not fit is a reject naming the column and why.
 *
 * A change from the recorded types is either harmless (a new column, a widening: int → float,
 * date → timestamp; reported) or stops the asset before anything is written, with a message
 * naming the column, both types and the two ways out.
 * @module
 */
import type { z } from "zod";
import { ContractError } from "../core/errors.ts";
import { type ColumnDecl, type ColumnType, inferColumnType } from "../sinks/column_types.ts";
import { inferTextDateType, typeChange } from "./column_inference.ts";
import {
  type DeclaredCell,
  declaredCell,
  declaredContract,
  outputName,
} from "./declared_columns.ts";
import type { RejectedRow } from "./mod.ts";

/** Options of {@link AssetTyping}. */
export interface AssetTypingOptions {
  /** Asset name, for messages. */
  asset: string;
  /** Declared columns by source name (`columns:`, parsed). @default {} */
  columns?: Record<string, ColumnDecl>;
  /** Source columns to keep, in this order. @default every column */
  select?: readonly string[];
  /** The named contract, checked first. */
  contract?: z.ZodType;
  /** The column types the named contract declares (by source name). @default {} */
  contractTypes?: Record<string, ColumnType>;
  /** Types the asset's earlier runs wrote, by output name. @default {} */
  recorded?: Record<string, ColumnType>;
  /** Infer date and timestamp columns from text. @default true */
  inferDates?: boolean;
}

/** Rows of a page after typing, and the records rejected. */
export interface TypedRows {
  /** Rows to write, in record order. */
  rows: Record<string, unknown>[];
  /** Records rejected by the contract or by a column's type. */
  rejects: RejectedRow[];
}

/** The types of inferred columns whose text is checked and kept as received. */
const DATE_CHECKS: readonly ColumnType[] = ["date", "timestamp", "timestamp_tz"];

const FIX = "declare the column's type under columns: (the old type to keep it), or rewrite " +
  "the asset with --full-refresh";

/**
 * One asset's typing for a run: {@link AssetTyping.rows} types each page's records (the first
 * call decides the types), {@link AssetTyping.columns} is the schema the sink writes.
 *
 * @example
 * ```ts
 * import { AssetTyping } from "./asset_typing.ts";
 * const typing = new AssetTyping({ asset: "Orders" });
 * typing.rows([{ OrderID: 1, OrderDate: "1996-07-04 00:00:00.000" }]);
 * typing.columns; // { OrderID: "int64", OrderDate: "timestamp" }
 * ```
 */
export class AssetTyping {
  readonly #options: AssetTypingOptions;
  readonly #declared: Record<string, ColumnDecl>;
  #contract: z.ZodType<Record<string, unknown>> | undefined;
  #checks: [string, (value: unknown) => DeclaredCell][] = [];
  #schema: Record<string, ColumnType> | undefined;
  #failure: Error | undefined;
  /** What changed from the recorded types (new columns, widenings), once decided. */
  readonly changes: string[] = [];

  /** Typing of one asset; nothing is decided before the first page. */
  constructor(options: AssetTypingOptions) {
    this.#options = options;
    this.#declared = options.columns ?? {};
  }

  /** True once the first page decided the types. */
  get decided(): boolean {
    return this.#schema !== undefined;
  }

  /**
   * The sink's column types by output name: before the first page, what is declared and
   * recorded; after it, the decided schema in column order.
   */
  get columns(): Record<string, ColumnType> {
    if (this.#schema) return { ...this.#schema };
    const out: Record<string, ColumnType> = { ...(this.#options.recorded ?? {}) };
    for (const [name, type] of Object.entries(this.#options.contractTypes ?? {})) {
      out[outputName(name, this.#declared)] = type;
    }
    for (const [name, decl] of Object.entries(this.#declared)) out[decl.rename ?? name] = decl.type;
    return out;
  }

  /**
   * Columns first seen after the first page (the sink typed them from their first values), as
   * change notes; none on an asset's first run, which has no earlier types to differ from.
   */
  laterColumns(written: Readonly<Record<string, ColumnType>>): string[] {
    const recorded = this.#options.recorded ?? {};
    if (Object.keys(recorded).length === 0 || !this.#schema) return [];
    return Object.entries(written)
      .filter(([name]) => !(name in recorded) && !(name in this.#schema!))
      .map(([name, type]) => `new column ${name} (${type})`);
  }

  /** Types one page's records; the first call decides the types (and may throw). */
  rows(records: readonly Record<string, unknown>[]): TypedRows {
    if (this.#failure) throw this.#failure;
    const contract = this.#options.contract;
    const rejects: RejectedRow[] = [];
    let checked = records.map((row, index) => ({ row, index, value: row }));
    if (contract) {
      const passed: typeof checked = [];
      for (const item of checked) {
        const result = contract.safeParse(item.row);
        if (result.success) passed.push({ ...item, value: result.data as Record<string, unknown> });
        else rejects.push({ row: item.row, index: item.index, issues: issuesOf(result.error) });
      }
      checked = passed;
    }
    // A page with no row (all dropped at the watermark boundary, or rejected) shows no types:
    // the first page that has rows decides.
    if (!this.#schema && checked.length === 0) return { rows: [], rejects: sorted(rejects) };
    if (!this.#schema) {
      try {
        this.#decide(checked.map((c) => c.value));
      } catch (error) {
        this.#failure = error as Error;
        throw error;
      }
    }
    const typed = this.#contract;
    if (!typed) return this.#checked(checked, rejects);
    const rows: Record<string, unknown>[] = [];
    for (const item of checked) {
      const result = typed.safeParse(item.value);
      if (result.success) rows.push(result.data);
      else {
        rejects.push({
          row: item.row,
          index: item.index,
          issues: issuesOf(result.error),
          reason: "column_type",
        });
      }
    }
    return { rows, rejects: sorted(rejects) };
  }

  /** Rows whose inferred date columns all parse; the others rejected, naming the column. */
  #checked(
    items: readonly {
      row: Record<string, unknown>;
      index: number;
      value: Record<string, unknown>;
    }[],
    rejects: RejectedRow[],
  ): TypedRows {
    const checks = this.#checks;
    if (checks.length === 0) return { rows: items.map((c) => c.value), rejects: sorted(rejects) };
    const rows: Record<string, unknown>[] = [];
    for (const item of items) {
      const issues: RejectedRow["issues"] = [];
      for (const [name, cell] of checks) {
        const value = item.value[name];
        if (value === null || value === undefined) continue;
        const out = cell(value);
        if ("error" in out) issues.push({ path: name, message: out.error });
      }
      if (issues.length === 0) rows.push(item.value);
      else rejects.push({ row: item.row, index: item.index, issues, reason: "column_type" });
    }
    return { rows, rejects: sorted(rejects) };
  }

  /** Decides every column's type from the first page's rows (after the named contract). */
  #decide(rows: readonly Record<string, unknown>[]): void {
    const options = this.#options;
    const recorded = options.recorded ?? {};
    const contractTypes = options.contractTypes ?? {};
    const decls: Record<string, ColumnDecl> = { ...this.#declared };
    const schema: Record<string, ColumnType> = {};
    const names = options.select ?? namesOf(rows, Object.keys(this.#declared));
    const hasRecord = Object.keys(recorded).length > 0;
    for (const name of names) {
      const out = outputName(name, this.#declared);
      const values = rows.map((r) => r[name]);
      const before: ColumnType | undefined = recorded[out];
      const fixed = this.#declared[name]?.type ?? contractTypes[name];
      if (fixed !== undefined) {
        schema[out] = fixed;
        if (before !== undefined) this.#changed(out, before, fixed, "declared");
        else if (hasRecord) this.changes.push(`new column ${out} (${fixed})`);
        continue;
      }
      const text = options.inferDates === false ? undefined : inferTextDateType(values);
      const seen = text ?? inferColumnType(values);
      let type = seen;
      if (before !== undefined) {
        type = seen === undefined ? before : this.#recordedType(out, before, seen, values);
      } else if (seen !== undefined && hasRecord) {
        this.changes.push(`new column ${out} (${seen})`);
      }
      if (type === undefined) continue;
      schema[out] = type;
      // Date columns, and recorded columns some of whose values no longer fit, are checked row
      // by row: a value that does not fit is a reject, never a failed write.
      const mixed = before === type && seen !== undefined &&
        typeChange(before, seen) === "incompatible";
      if (mixed || type === "date" || type === "timestamp" || type === "timestamp_tz") {
        decls[name] ??= { type, nullable: true };
      }
    }
    // Recorded columns this page does not show keep their type (a later page may).
    for (const [name, type] of Object.entries(recorded)) {
      if (!options.select) schema[name] ??= type;
    }
    const inferredOnly = options.select === undefined &&
      Object.keys(this.#declared).length === 0 &&
      Object.values(decls).every((d) => DATE_CHECKS.includes(d.type));
    if (inferredOnly) {
      // Only inferred or recorded date columns: their text is checked and kept as it is, so
      // the rows need no copy, and no zod pass (this runs for every row of every page).
      this.#checks = Object.entries(decls).map(([name, d]) => [name, declaredCell(d)]);
    } else {
      this.#contract = declaredContract(decls, options.select);
    }
    this.#schema = schema;
  }

  /** The type of an undeclared column that earlier runs wrote as `before`, now seen as `seen`. */
  #recordedType(
    name: string,
    before: ColumnType,
    seen: ColumnType,
    values: readonly unknown[],
  ): ColumnType {
    const change = typeChange(before, seen);
    if (change === "same" || change === "fits") return before;
    if (change === "widen") {
      this.changes.push(`column ${name} widened from ${before} to ${seen}`);
      return seen;
    }
    // Some values still fit the old type: the others are rejects, as on any later page.
    const cell = declaredCell({ type: before });
    if (values.some((v) => v !== null && v !== undefined && "value" in cell(v))) return before;
    throw this.#incompatible(name, before, seen, "its values are now");
  }

  /** A declared type against the recorded one: the same, a widening, or a stop. */
  #changed(name: string, before: ColumnType, after: ColumnType, how: string): void {
    const change = typeChange(before, after);
    if (change === "same") return;
    if (change === "widen") {
      this.changes.push(`column ${name} widened from ${before} to ${after}`);
      return;
    }
    throw this.#incompatible(name, before, after, `it is now ${how}`);
  }

  #incompatible(name: string, before: ColumnType, after: ColumnType, how: string): Error {
    return new ContractError(
      `asset "${this.#options.asset}": column ${name} was ${before} in earlier runs and ${how} ` +
        `${after}, a ${
          typeChange(before, after) === "fits" ? "narrowing" : "incompatible"
        } change; nothing was written. To go on, ${FIX}`,
    );
  }
}

/** Field names in order of first appearance, then declared names no row showed. */
function namesOf(rows: readonly Record<string, unknown>[], declared: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row)) seen.add(name);
  for (const name of declared) seen.add(name);
  return [...seen];
}

function issuesOf(error: z.ZodError): RejectedRow["issues"] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
}

function sorted(rejects: RejectedRow[]): RejectedRow[] {
  return rejects.sort((a, b) => a.index - b.index);
}
