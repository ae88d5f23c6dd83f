/**
 * `tidemark state` (placeholder until its issue lands).
 * @module
 */
import type { Command } from "./args.ts";
import { TidemarkError } from "../errors.ts";

/** The `state` command. */
export const command: Command = {
  spec: { name: "state", summary: "not built yet", usage: "state", flags: {} },
  run() {
    return Promise.reject(new TidemarkError("'tidemark state' is not built yet"));
  },
};
