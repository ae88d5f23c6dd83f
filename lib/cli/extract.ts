/**
 * `tidemark extract` (placeholder until its issue lands).
 * @module
 */
import type { Command } from "./args.ts";
import { TidemarkError } from "../errors.ts";

/** The `extract` command. */
export const command: Command = {
  spec: { name: "extract", summary: "not built yet", usage: "extract", flags: {} },
  run() {
    return Promise.reject(new TidemarkError("'tidemark extract' is not built yet"));
  },
};
