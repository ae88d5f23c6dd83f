/**
 * Parse options for a schema that is parsed a few times a run (a config, a report, a plan, a
 * manifest event line): zod compiles a fast path for an object schema on its first parse (a
 * `new Function`, 2–5 ms each, every nested object its own), which pays off only over many
 * parses; here it would only delay the first request and the exit. Rows checked by a contract
 * and manifest lines read back in bulk keep it.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { PARSE_ONCE } from "./parse_once.ts";
 * z.object({ a: z.number() }).parse({ a: 1 }, PARSE_ONCE);
 * ```
 * @module
 */

/** Options of a one-off `schema.parse(value, PARSE_ONCE)`: no compiled fast path. */
export const PARSE_ONCE: { readonly jitless: true } = { jitless: true };
