/**
 * `tidemark report` (placeholder until its issue lands).
 * @module
 */
import type { Command } from "./args.ts";
import { TidemarkError } from "../errors.ts";

/** The `report` command. */
export const command: Command = {
  spec: { name: "report", summary: "not built yet", usage: "report", flags: {} },
  run() {
    return Promise.reject(new TidemarkError("'tidemark report' is not built yet"));
  },
};
