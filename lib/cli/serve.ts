/**
 * `tidemark serve` (placeholder until its issue lands).
 * @module
 */
import type { Command } from "./args.ts";
import { TidemarkError } from "../errors.ts";

/** The `serve` command. */
export const command: Command = {
  spec: { name: "serve", summary: "not built yet", usage: "serve", flags: {} },
  run() {
    return Promise.reject(new TidemarkError("'tidemark serve' is not built yet"));
  },
};
