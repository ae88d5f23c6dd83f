/**
 * `tidemark harvest` (placeholder until its issue lands).
 * @module
 */
import type { Command } from "./args.ts";
import { TidemarkError } from "../errors.ts";

/** The `harvest` command. */
export const command: Command = {
  spec: { name: "harvest", summary: "not built yet", usage: "harvest", flags: {} },
  run() {
    return Promise.reject(new TidemarkError("'tidemark harvest' is not built yet"));
  },
};
