/**
 * `tidemark verify` (placeholder until its issue lands).
 * @module
 */
import type { Command } from "./args.ts";
import { TidemarkError } from "../errors.ts";

/** The `verify` command. */
export const command: Command = {
  spec: { name: "verify", summary: "not built yet", usage: "verify", flags: {} },
  run() {
    return Promise.reject(new TidemarkError("'tidemark verify' is not built yet"));
  },
};
