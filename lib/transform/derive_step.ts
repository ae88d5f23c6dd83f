/**
 * `derive:` steps of a config, checked before anything runs and run through
 * {@link deriveDataset}: the first `from` dataset is the rows, the second (if any) is joined to
 * it on `on`, `columns` adds computed columns and `output.partition_by` lays the result out.
 *
 * ```yaml
 * derive:
 *   - name: line_items
 *     from: [Order Details, Orders]
 *     on: [OrderID]
 *     columns: { extended_price: "UnitPrice * Quantity * (1 - Discount)" }
 *     output: { partition_by: ["year(OrderDate)"] }
 * ```
 * @module
 */
import type { Config, DeriveStepConfig } from "../config/schema.ts";
import { ConfigError, type ConfigIssue } from "../core/errors.ts";
import { parsePartitionSpecs } from "../sinks/partition.ts";
import { deriveDataset, type DeriveResult } from "./derive.ts";
import { parseExpression } from "./expression.ts";

/**
 * Every problem of a config's `derive:` steps that needs no data: names, inputs, join keys,
 * expressions, partitions, format. Empty when they are fine.
 *
 * @example
 * ```ts
 * import { checkDeriveSteps } from "./derive_step.ts";
 * import { loadConfig } from "../config/load.ts";
 * const issues = checkDeriveSteps((await loadConfig("jobs/northwind.yaml")).config);
 * ```
 */
export function checkDeriveSteps(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const assets = config.assets.map((a) => a.name);
  const taken = new Map(assets.map((name) => [name.toLowerCase(), `asset "${name}"`]));
  (config.derive ?? []).forEach((step, i) => {
    const at = (path: string) => `derive[${i}]${path}`;
    const clash = taken.get(step.name.toLowerCase());
    if (clash) {
      issues.push({
        path: at(".name"),
        message: `"${step.name}" is already the name of ${clash}; give the derived dataset its own`,
      });
    }
    step.from.forEach((input, k) => {
      const known = assets.includes(input) ||
        (config.derive ?? []).slice(0, i).some((s) => s.name === input);
      if (!known) {
        issues.push({
          path: at(`.from[${k}]`),
          message: `"${input}" is not an asset of this config (${
            assets.join(", ")
          }) nor an earlier derive step; fix the name`,
        });
      }
    });
    if (step.from.length > 2) {
      issues.push({
        path: at(".from"),
        message: `a derive step joins at most two datasets, got ${step.from.length}; ` +
          `chain steps (derive a join, then derive from it)`,
      });
    }
    if (step.from.length === 2 && !step.on) {
      issues.push({
        path: at(".on"),
        message: `joining "${step.from[0]}" with "${step.from[1]}" needs the join columns, ` +
          `e.g. on: [OrderID]`,
      });
    }
    if (step.from.length === 1 && step.on) {
      issues.push({ path: at(".on"), message: "there is nothing to join with one input" });
    }
    for (const [column, text] of Object.entries(step.columns ?? {})) {
      try {
        parseExpression(text, at(`.columns.${column}`));
      } catch (error) {
        issues.push(...((error as ConfigError).issues ?? []));
      }
    }
    const output = step.output;
    if (output && output.format !== "parquet") {
      issues.push({
        path: at(".output.format"),
        message: `derived datasets are written as Parquet, got "${output.format}"; ` +
          `remove format or set it to parquet`,
      });
    }
    if (output?.mode === "merge") {
      issues.push({
        path: at(".output.mode"),
        message: "a derived dataset is rebuilt whole on every run (replace); remove mode: merge",
      });
    }
    try {
      parsePartitionSpecs(output?.partition_by ?? []);
    } catch (error) {
      for (const issue of (error as ConfigError).issues ?? []) {
        issues.push({ path: at(`.output.${issue.path}`), message: issue.message });
      }
    }
    taken.set(step.name.toLowerCase(), `derive[${i}]`);
  });
  return issues;
}

/** Options of {@link runDeriveStep}. */
export interface RunDeriveStepOptions {
  /** The run id (names the parts and the staging folder). */
  runId: string;
  /** Time of `load_date`/`load_time` partitions. @default now */
  loadTime?: Date;
}

/**
 * Builds one `derive:` step's dataset under `<out>/parquet/<name>/` from the inputs already
 * there, and swaps it in atomically.
 *
 * @example
 * ```ts
 * import { runDeriveStep } from "./derive_step.ts";
 * const result = await runDeriveStep("out", {
 *   name: "line_items",
 *   from: ["Order Details", "Orders"],
 *   on: ["OrderID"],
 *   how: "inner",
 *   columns: { extended_price: "UnitPrice * Quantity * (1 - Discount)" },
 *   output: { format: "parquet", mode: "replace", compression: "zstd", row_group_rows: 100000, partition_by: ["year(OrderDate)"] },
 * }, { runId: "r1" });
 * console.log(result.rows);
 * ```
 */
export function runDeriveStep(
  out: string,
  step: DeriveStepConfig,
  options: RunDeriveStepOptions,
): Promise<DeriveResult> {
  return deriveDataset(out, step.name, {
    runId: options.runId,
    from: step.from[0],
    join: step.from.length > 1
      ? { asset: step.from[1], on: step.on ?? [], how: step.how }
      : undefined,
    columns: step.columns,
    partitionBy: step.output?.partition_by,
    compression: step.output?.compression,
    rowGroupRows: step.output?.row_group_rows,
    loadTime: options.loadTime,
  });
}
