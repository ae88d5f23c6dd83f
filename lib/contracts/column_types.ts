/**
 * Sink column types from a zod contract, so a contract's types are the Parquet schema of its
 * asset (a column null in the first page still gets its contract type). A schema can state its
 * type explicitly with `.meta({ columnType: "datetime" })` — needed after a `transform`, whose
 * output type zod cannot tell.
 * @module
 */
import { z } from "zod";
import type { ColumnType } from "../sinks/column_types.ts";
import { columnTypeSchema } from "../sinks/column_schema.ts";

interface Def {
  type: string;
  format?: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  values?: unknown[];
  checks?: { _zod: { def: { format?: string } } }[];
  coerce?: boolean;
}

/**
 * The sink column type of one zod schema, or `undefined` when it cannot be told.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { columnTypeOf } from "./column_types.ts";
 * columnTypeOf(z.number().int().nullable()); // "int64"
 * columnTypeOf(z.string().transform((s) => new Date(s)).meta({ columnType: "datetime" })); // "datetime"
 * ```
 */
export function columnTypeOf(schema: z.ZodType): ColumnType | undefined {
  const declared = columnTypeSchema.safeParse(z.globalRegistry.get(schema)?.columnType);
  if (declared.success) return declared.data;
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "catch":
    case "readonly":
    case "nonoptional":
      return def.innerType ? columnTypeOf(def.innerType) : undefined;
    case "pipe": {
      const out = def.out ? columnTypeOf(def.out) : undefined;
      return out ?? (def.in ? columnTypeOf(def.in) : undefined);
    }
    case "number": {
      const formats = [def.format, ...(def.checks ?? []).map((c) => c._zod.def.format)];
      return formats.some((f) => f === "safeint" || f === "int32" || f === "int64")
        ? "int64"
        : "float64";
    }
    case "int":
    case "bigint":
      return "int64";
    case "string":
    case "enum":
    case "template_literal":
      return "string";
    case "boolean":
      return "boolean";
    case "date":
      return "datetime";
    case "literal": {
      const types = new Set((def.values ?? []).map((v) => typeof v));
      if (types.size !== 1) return "string";
      const [t] = types;
      return t === "number" ? "float64" : t === "boolean" ? "boolean" : "string";
    }
    case "object":
    case "array":
    case "record":
    case "tuple":
    case "map":
    case "set":
      return "json";
    case "union": {
      const types = new Set((def.options ?? []).map(columnTypeOf));
      if (types.size === 1) return [...types][0];
      types.delete(undefined);
      if (types.size === 2 && types.has("int64") && types.has("float64")) return "float64";
      return types.has("json") ? "json" : "string";
    }
  }
  return undefined;
}

/**
 * The sink column types of every field of an object contract whose type can be told.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { columnTypesOf } from "./column_types.ts";
 * columnTypesOf(z.object({ OrderID: z.int(), Freight: z.number() }));
 * // { OrderID: "int64", Freight: "float64" }
 * ```
 */
export function columnTypesOf(schema: z.ZodType): Record<string, ColumnType> {
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape;
  const out: Record<string, ColumnType> = {};
  if (!shape) return out;
  for (const [name, field] of Object.entries(shape)) {
    const type = columnTypeOf(field);
    if (type) out[name] = type;
  }
  return out;
}
