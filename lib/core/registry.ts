/**
 * Named kinds a config may pick by `type` (pagination strategies, auth schemes): one registry
 * shape for all, and the zod pieces that let a config name a registered kind beside the built-in
 * ones and have its options checked by the kind's own schema.
 * @module
 */
import { z } from "zod";
import type { StandardSchemaV1 } from "./standard_schema.ts";

/** A kind with a schema for its options (`type` included). */
export interface RegisteredKind {
  /** Checks a config object of this kind and fills its defaults (a zod schema, or any other Standard Schema). */
  schema: StandardSchemaV1<unknown, { type: string }>;
}

/** A registry of kinds of one sort (see {@link createRegistry}). */
export interface Registry<K extends RegisteredKind> {
  /** Adds a kind; returns a function that removes it again. */
  register(name: string, kind: K): () => void;
  /** The kind registered as `name`, or undefined. */
  get(name: string): K | undefined;
  /** Every registered name, in registration order. */
  names(): string[];
}

/**
 * A registry of `what` kinds (`pagination`, `auth`): names are lower-case letters, digits and
 * `_`; `custom` is reserved; a name already taken, a built-in included, is refused.
 */
export function createRegistry<K extends RegisteredKind>(what: string): Registry<K> {
  const kinds = new Map<string, K>();
  return {
    register(name, kind) {
      if (!/^[a-z][a-z0-9_]*$/.test(name) || name === "custom") {
        throw new TypeError(
          `${what} kind name "${name}": use lower-case letters, digits and _ (not "custom")`,
        );
      }
      if (kinds.has(name)) {
        throw new TypeError(`${what} kind "${name}" is already registered; pick another name`);
      }
      kinds.set(name, kind);
      return () => {
        if (kinds.get(name) === kind) kinds.delete(name);
      };
    },
    get: (name) => kinds.get(name),
    names: () => [...kinds.keys()],
  };
}

/** A config object of a registered kind, as parsed: its name and its checked options. */
export interface CustomKindConfig {
  /** Marks a registered kind in the discriminated union of a config field. */
  type: "custom";
  /** The registered name (`skip_token`). */
  kind: string;
  /** Its options, as its schema parsed them (defaults filled), without `type`. */
  options: Record<string, unknown>;
}

/**
 * The union member for kinds outside `builtins`: checks `kind` is registered (else lists every
 * kind, as a misspelled built-in is told) and the options against the kind's schema, whose
 * issues keep their field paths (`auth.key`).
 */
export function customKindSchema<K extends RegisteredKind>(
  registry: Registry<K>,
  builtins: readonly string[],
) {
  return z.strictObject({
    type: z.literal("custom"),
    kind: z.string(),
    options: z.record(z.string(), z.unknown()),
  }).transform((value, ctx): CustomKindConfig => {
    const kind = registry.get(value.kind);
    if (kind === undefined) {
      const known = [...new Set([...builtins, ...registry.names()])];
      ctx.issues.push({
        code: "custom",
        message: `expected one of ${known.join(", ")}; got ${JSON.stringify(value.kind)}`,
        path: ["type"],
        input: value.kind,
      });
      return z.NEVER;
    }
    const result = kind.schema["~standard"].validate({ ...value.options, type: value.kind });
    if (result instanceof Promise) {
      ctx.issues.push({
        code: "custom",
        message: `the schema of kind "${value.kind}" is asynchronous; register a synchronous one`,
        path: ["type"],
        input: value.kind,
      });
      return z.NEVER;
    }
    if (result.issues) {
      for (const issue of result.issues) {
        const path = (issue.path ?? []).map((key) =>
          (typeof key === "object" ? key.key : key) as PropertyKey
        );
        // A zod schema's issues carry their code (unrecognized_keys, …), which the config's
        // error messages read; any other library's become custom issues.
        ctx.issues.push({ code: "custom", ...issue, path, input: undefined } as never);
      }
      return z.NEVER;
    }
    const { type: _type, ...options } = result.value as Record<string, unknown>;
    return { type: "custom", kind: value.kind, options };
  });
}

/**
 * A zod preprocess step: moves a config object whose `type` is not one of `builtins` under
 * `{ type: "custom", kind, options }`, so one discriminated union parses built-in and registered
 * kinds alike.
 */
export function routeCustomKind(builtins: readonly string[]): (value: unknown) => unknown {
  return (value) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    const { type, ...options } = value as Record<string, unknown>;
    if (typeof type !== "string" || type === "custom" || builtins.includes(type)) return value;
    return { type: "custom", kind: type, options };
  };
}
