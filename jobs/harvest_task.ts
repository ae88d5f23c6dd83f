/**
 * Entry of `deno task harvest`: `tidemark harvest` with only the permissions its config needs
 * (see `lib/cli/harvest_task.ts`). `--show-permissions` prints them first.
 * @module
 */
import { launchHarvest } from "../lib/cli/harvest_task.ts";

Deno.exit(await launchHarvest(Deno.args));
