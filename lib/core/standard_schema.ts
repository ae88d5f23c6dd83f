/**
 * The Standard Schema interface (standardschema.dev), which zod, valibot and arktype schemas all
 * implement: what a registered pagination or auth kind checks its options with. Written out here,
 * as the specification intends, so the public API names no validation library's types.
 * @module
 */

/** A schema that validates an `Input` into an `Output` (zod 4 schemas are ones). */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The standard's properties. */
  readonly "~standard": StandardSchemaProps<Input, Output>;
}

/** What a standard schema offers under `~standard`. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** Version of the standard. */
  readonly version: 1;
  /** The library the schema comes from (`zod`). */
  readonly vendor: string;
  /** Validates a value; a library may answer asynchronously. */
  readonly validate: (
    value: unknown,
  ) => StandardResult<Output> | Promise<StandardResult<Output>>;
  /** The input and output types, for inference only. */
  readonly types?: { readonly input: Input; readonly output: Output } | undefined;
}

/** The outcome of {@link StandardSchemaProps.validate}: a value, or issues. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

/** One problem found by a standard schema. */
export interface StandardIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where, as keys from the validated value's root. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}
