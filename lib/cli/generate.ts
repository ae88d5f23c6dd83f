/**
 * `tidemark generate` (placeholder until its issue lands).
 * @module
 */
import type { Command } from "./args.ts";
import { TidemarkError } from "../errors.ts";

/** The `generate` command. */
export const command: Command = {
  spec: { name: "generate", summary: "not built yet", usage: "generate", flags: {} },
  run() {
    return Promise.reject(new TidemarkError("'tidemark generate' is not built yet"));
  },
};
