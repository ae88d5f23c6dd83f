/**
 * `tidemark contract` (placeholder until its issue lands).
 * @module
 */
import type { Command } from "./args.ts";
import { TidemarkError } from "../errors.ts";

/** The `contract` command. */
export const command: Command = {
  spec: { name: "contract", summary: "not built yet", usage: "contract", flags: {} },
  run() {
    return Promise.reject(new TidemarkError("'tidemark contract' is not built yet"));
  },
};
