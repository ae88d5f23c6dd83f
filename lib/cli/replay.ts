/**
 * `tidemark replay` (placeholder until its issue lands).
 * @module
 */
import type { Command } from "./args.ts";
import { TidemarkError } from "../errors.ts";

/** The `replay` command. */
export const command: Command = {
  spec: { name: "replay", summary: "not built yet", usage: "replay", flags: {} },
  run() {
    return Promise.reject(new TidemarkError("'tidemark replay' is not built yet"));
  },
};
