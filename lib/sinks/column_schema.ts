/**
 * The zod schemas of the column-type model (`column_types.ts`): a column type, and a column
 * declaration (`columns:` of a config: type, text date format, nullable, rename). Apart from
 * the model so that the code converting cells does not load zod.
 * @module
 */
import { z } from "zod";
import {
  BASE_COLUMN_TYPES,
  COLUMN_TYPE_NAMES,
  type ColumnDecl,
  type ColumnType,
  DATE_TYPES,
  decimalOf,
  decimalType,
  DECLARED_TYPE_NAMES,
  declaredColumnType,
  EPOCH_FORMATS,
} from "./column_types.ts";
import { compileDateFormat } from "./date_text.ts";
import type { Assert, SchemaIs } from "../core/schema_type.ts";

/** Validates a column type (see {@link ColumnType}). */
export const columnTypeSchema: z.ZodType<ColumnType> = z.union([
  z.enum(BASE_COLUMN_TYPES),
  z.string().transform((type, ctx) => {
    const decimal = decimalOf(type);
    if (decimal) return decimalType(decimal.precision, decimal.scale);
    ctx.addIssue({
      code: "custom",
      message: `"${type}" is not a column type; expected one of ${COLUMN_TYPE_NAMES.join("|")} ` +
        "(decimal precision 1–38, scale at most the precision)",
    });
    return z.NEVER;
  }),
]) as unknown as z.ZodType<ColumnType>;

/**
 * One declared column (`columns:` of a config): its type, how text dates are written
 * (`format`), whether it may be null, and the name it is written under. A bare type name is
 * short for `{ type: NAME }`.
 */
export const columnDeclSchema = z.preprocess(
  (value) => (typeof value === "string" ? { type: value } : value),
  z.strictObject({
    /** string, int, float, decimal(p,s), bool, date, timestamp, timestamp_tz or json. */
    type: z.string().min(1),
    /**
     * How date cells are written: strftime directives (`%d/%m/%Y %H:%M:%S`, see
     * `FORMAT_DIRECTIVES`), or `epoch`, `epoch_ms`, `epoch_us` for numbers. @default ISO-8601
     */
    format: z.string().min(1).optional(),
    /** False: a null in this column rejects the row. @default true */
    nullable: z.boolean().default(true),
    /** The name the column is written under. @default its name in the source */
    rename: z.string().min(1).optional(),
  }),
).superRefine((decl, ctx) => {
  const type = declaredColumnType(decl.type);
  if (type === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["type"],
      message:
        `"${decl.type}" is not a column type; use one of ${DECLARED_TYPE_NAMES.join(", ")} ` +
        "(decimal precision 1–38, scale at most the precision)",
    });
    return;
  }
  if (decl.format === undefined) return;
  if (!DATE_TYPES.includes(type)) {
    ctx.addIssue({
      code: "custom",
      path: ["format"],
      message: `format applies to date, timestamp and timestamp_tz columns, not ${decl.type}`,
    });
    return;
  }
  if ((EPOCH_FORMATS as readonly string[]).includes(decl.format)) return;
  try {
    compileDateFormat(decl.format);
  } catch (error) {
    ctx.addIssue({ code: "custom", path: ["format"], message: (error as Error).message });
  }
}).transform((decl): ColumnDecl => ({ ...decl, type: declaredColumnType(decl.type)! }));

/**
 * A column declaration as written (a config's `columns:` entry, or `ExtractOptions.columns`):
 * a type name such as `"decimal(10,2)"`, or `{ type, format?, nullable?, rename? }`.
 */
export type ColumnDeclInput = string | {
  /** string, int, float, decimal(p,s), bool, date, timestamp, timestamp_tz or json. */
  type: string;
  /** How date cells are written (strftime directives, or `epoch`, `epoch_ms`, `epoch_us`). */
  format?: string;
  /** False: a null in this column rejects the row. @default true */
  nullable?: boolean;
  /** The name the column is written under. @default its name in the source */
  rename?: string;
};

// The public types are written out; this fails to compile when the schema drifts from them.
type _ColumnDecl = Assert<SchemaIs<typeof columnDeclSchema, ColumnDecl, ColumnDeclInput>>;
