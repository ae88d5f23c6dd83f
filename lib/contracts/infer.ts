/**
 * Contract inference: profile sample rows (or an asset's Parquet folder) and render a zod
 * contract as a TypeScript module the user then owns and edits (`tidemark contract infer`).
 * Inference is deliberately conservative: types, nullability, and only the constraints a sample
 * can justify (ids positive, amounts non-negative); tighten them by hand.
 * @module
 */
import pl from "nodejs-polars";
import { parseTimestamp } from "../sinks/column_types.ts";
import { parquetFiles } from "../sinks/write_mode.ts";
import { TidemarkError } from "../core/errors.ts";

/** What inference learned about one field. */
export interface FieldProfile {
  /** Field name. */
  name: string;
  /** Value kind: `unknown` when the sample holds only nulls or mixed kinds. */
  kind: "int" | "bigint" | "number" | "string" | "boolean" | "timestamp" | "json" | "unknown";
  /** Some row holds null. */
  nullable: boolean;
  /** Some row lacks the field. */
  optional: boolean;
  /** Smallest numeric value seen (int/number). */
  min?: number;
}

/**
 * Profiles the fields of sample rows, in order of first appearance.
 *
 * @example
 * ```ts
 * import { profileRows } from "./infer.ts";
 * profileRows([{ id: 1, at: "1996-07-04 00:00:00.000" }, { id: 2, at: null }]);
 * // [{ name: "id", kind: "int", nullable: false, optional: false, min: 1 },
 * //  { name: "at", kind: "timestamp", nullable: true, optional: false }]
 * ```
 */
export function profileRows(rows: readonly Record<string, unknown>[]): FieldProfile[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const name of Object.keys(row)) {
      if (!seen.has(name)) {
        seen.add(name);
        names.push(name);
      }
    }
  }
  return names.map((name) => profileField(name, rows));
}

function profileField(name: string, rows: readonly Record<string, unknown>[]): FieldProfile {
  const kinds = new Set<FieldProfile["kind"]>();
  let nullable = false, optional = false, min = Infinity;
  for (const row of rows) {
    if (!(name in row) || row[name] === undefined) {
      optional = true;
      continue;
    }
    const value = row[name];
    if (value === null) {
      nullable = true;
      continue;
    }
    switch (typeof value) {
      case "bigint":
        kinds.add(Number.isSafeInteger(Number(value)) ? "int" : "bigint");
        min = Math.min(min, Number(value));
        break;
      case "number":
        kinds.add(Number.isInteger(value) ? "int" : "number");
        min = Math.min(min, value);
        break;
      case "boolean":
        kinds.add("boolean");
        break;
      case "string":
        kinds.add(parseTimestamp(value) === undefined ? "string" : "timestamp");
        break;
      default:
        kinds.add(value instanceof Date ? "timestamp" : "json");
    }
  }
  if (kinds.has("bigint")) kinds.delete("int");
  if (kinds.has("number")) kinds.delete("int");
  // A text column where only some values look like dates is text.
  if (kinds.has("string")) kinds.delete("timestamp");
  const kind = kinds.size === 1 ? [...kinds][0] : "unknown";
  const profile: FieldProfile = { name, kind, nullable, optional };
  if ((kind === "int" || kind === "number" || kind === "bigint") && min !== Infinity) {
    profile.min = min;
  }
  return profile;
}

/** Options of {@link renderContract}. */
export interface RenderContractOptions {
  /** Asset name; names the export (`Order Details` → `orderDetailsContract`). */
  asset: string;
  /** Rows the profile came from, for the header comment. */
  sampleRows: number;
  /** Where the sample came from, for the header comment. */
  source: string;
}

/**
 * Renders field profiles as a TypeScript module exporting a zod contract and its type.
 *
 * @example
 * ```ts
 * import { profileRows, renderContract } from "./infer.ts";
 * const text = renderContract(profileRows([{ OrderID: 10248 }]), {
 *   asset: "Orders",
 *   sampleRows: 1,
 *   source: "example",
 * });
 * text.includes("export const ordersContract = z.looseObject({"); // true
 * ```
 */
export function renderContract(
  profiles: readonly FieldProfile[],
  options: RenderContractOptions,
): string {
  const base = identifierOf(options.asset);
  const name = `${base}Contract`;
  const typeName = base[0].toUpperCase() + base.slice(1);
  const usesTimestamp = profiles.some((p) => p.kind === "timestamp");
  const lines = [
    "/**",
    ` * Contract of asset ${
      JSON.stringify(options.asset)
    }, inferred by \`tidemark contract infer\``,
    ` * from ${options.sampleRows} rows of ${options.source}. It is yours now: tighten the`,
    " * constraints (ranges, enums, formats) to what the data must satisfy.",
    " * @module",
    " */",
    'import { z } from "zod";',
    "",
  ];
  if (usesTimestamp) {
    lines.push(
      "/** A date text (`1996-07-04 00:00:00.000`, ISO-8601; UTC unless it has an offset) or a Date. */",
      "const timestamp = z",
      "  .union([z.string(), z.date()])",
      "  .transform((value, ctx) => {",
      '    const text = typeof value === "string" ? value.trim().replace(" ", "T") : "";',
      "    const zoned = /(Z|[+-]\\d\\d:?\\d\\d)$/i.test(text) || /^\\d{4}-\\d{2}-\\d{2}$/.test(text);",
      "    const ms = value instanceof Date ? value.getTime() : Date.parse(zoned ? text : `${text}Z`);",
      "    if (Number.isNaN(ms)) {",
      '      ctx.addIssue({ code: "custom", message: `expected a date, got ${JSON.stringify(value)}` });',
      "      return z.NEVER;",
      "    }",
      "    return new Date(ms);",
      "  })",
      '  .meta({ columnType: "datetime" });',
      "",
    );
  }
  lines.push(`/** The ${JSON.stringify(options.asset)} contract. */`);
  lines.push(`export const ${name} = z.looseObject({`);
  for (const profile of profiles) {
    lines.push(`  ${propertyKey(profile.name)}: ${fieldSchema(profile)},`);
  }
  lines.push("});", "");
  lines.push(`/** A valid ${JSON.stringify(options.asset)} row. */`);
  lines.push(`export type ${typeName} = z.infer<typeof ${name}>;`, "");
  return lines.join("\n");
}

function fieldSchema(profile: FieldProfile): string {
  let schema: string;
  const isId = /id$/i.test(profile.name);
  switch (profile.kind) {
    case "int":
      schema = "z.coerce.number().int()";
      if (profile.min !== undefined && profile.min > 0 && isId) schema += ".positive()";
      else if (profile.min !== undefined && profile.min >= 0) schema += ".min(0)";
      break;
    case "bigint":
      schema = "z.coerce.bigint()";
      if (profile.min !== undefined && profile.min > 0 && isId) schema += ".positive()";
      break;
    case "number":
      schema = "z.coerce.number()";
      if (profile.min !== undefined && profile.min >= 0) schema += ".min(0)";
      break;
    case "string":
      schema = "z.string()";
      break;
    case "boolean":
      schema = "z.boolean()";
      break;
    case "timestamp":
      schema = "timestamp";
      break;
    case "json":
      schema = 'z.unknown().meta({ columnType: "json" })';
      break;
    default:
      schema = "z.unknown()";
  }
  // z.unknown() already accepts null and absence.
  if (profile.kind === "unknown") return schema;
  if (profile.nullable) schema += ".nullable()";
  if (profile.optional) schema += ".optional()";
  return schema;
}

function identifierOf(asset: string): string {
  const words = asset.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const text = words.map((w, i) =>
    i === 0 ? w[0].toLowerCase() + w.slice(1) : w[0].toUpperCase() + w.slice(1)
  ).join("");
  if (text === "") return "asset";
  return /^\d/.test(text) ? `asset${text}` : text;
}

function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

/** Options of {@link sampleParquet}. */
export interface SampleParquetOptions {
  /** Most rows read. @default 10_000 */
  limit?: number;
}

/**
 * Reads up to `limit` rows from the Parquet parts under `dir` (Int64 beyond 2^53 as bigint,
 * Date/Datetime as `Date`). Throws when the folder holds no Parquet.
 *
 * @example
 * ```ts
 * import { sampleParquet } from "./infer.ts";
 * const rows = await sampleParquet("out/parquet/Orders", { limit: 1000 });
 * ```
 */
export async function sampleParquet(
  dir: string,
  options: SampleParquetOptions = {},
): Promise<Record<string, unknown>[]> {
  const limit = options.limit ?? 10_000;
  const files = await parquetFiles(dir);
  if (files.length === 0) {
    throw new TidemarkError(
      `no Parquet files under ${dir}; harvest the asset first or check --out and --asset`,
    );
  }
  const rows: Record<string, unknown>[] = [];
  for (const file of files) {
    if (rows.length >= limit) break;
    const frame = pl.readParquet(file, { nRows: limit - rows.length });
    const columns = frame.columns.map((name) => {
      const series = frame.getColumn(name);
      if (!series.dtype.equals(pl.Int64)) return series.toArray();
      return series.cast(pl.Utf8).toArray().map((v) => {
        if (v === null) return null;
        const n = Number(v);
        return Number.isSafeInteger(n) ? n : BigInt(v as string);
      });
    });
    for (let i = 0; i < frame.height; i++) {
      const row: Record<string, unknown> = {};
      frame.columns.forEach((name, c) => (row[name] = columns[c][i]));
      rows.push(row);
    }
  }
  return rows;
}

/** Options of {@link inferContractModule}. */
export interface InferContractOptions extends SampleParquetOptions {
  /** Asset name. */
  asset: string;
}

/**
 * Infers a contract module from an asset's Parquet folder.
 *
 * @example
 * ```ts
 * import { inferContractModule } from "./infer.ts";
 * const text = await inferContractModule("out/parquet/Orders", { asset: "Orders" });
 * ```
 */
export async function inferContractModule(
  dir: string,
  options: InferContractOptions,
): Promise<string> {
  const rows = await sampleParquet(dir, options);
  return renderContract(profileRows(rows), {
    asset: options.asset,
    sampleRows: rows.length,
    source: dir,
  });
}
