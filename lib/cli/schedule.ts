/**
 * `tidemark schedule` (placeholder until its issue lands).
 * @module
 */
import type { Command } from "./args.ts";
import { TidemarkError } from "../errors.ts";

/** The `schedule` command. */
export const command: Command = {
  spec: { name: "schedule", summary: "not built yet", usage: "schedule", flags: {} },
  run() {
    return Promise.reject(new TidemarkError("'tidemark schedule' is not built yet"));
  },
};
