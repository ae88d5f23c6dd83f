/**
 * Compile-time checks that a zod schema and a hand-written type agree. The public types of a
 * published package must be written out (a type inferred from a schema is a "slow type" to JSR
 * and points readers at zod internals), but the schema stays the one that parses; these checks
 * make the two fail to compile the moment they drift apart.
 * @module
 */
import type { z } from "zod";

/** `true` when each of `A` and `B` is assignable to the other, else `false`. */
export type SameShape<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;

/**
 * `true` when schema `S` takes values of type `I` (its own input type may be wider: a
 * `z.preprocess` takes `unknown`; `never` skips the input check) and parses them into values of type `O` (both ways
 * assignable); used as `type _Check = Assert<SchemaIs<typeof schema, Out, In>>`, which fails to
 * compile otherwise.
 */
export type SchemaIs<S extends z.ZodType, O, I> =
  [SameShape<z.output<S>, O>, [I] extends [z.input<S>] ? true : false] extends [true, true] ? true
    : false;

/** Compiles only for `true`. */
export type Assert<T extends true> = T;

/** `T` with the fields `K` (those a schema fills with defaults) optional: the type as written. */
export type DefaultsOptional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
