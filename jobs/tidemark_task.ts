/**
 * Entry of `deno task tidemark`: the CLI, with `harvest` run through the permission launcher
 * (exactly the hosts and folders its config and flags name, `--show-permissions` to see them)
 * and every other command in a child Deno with the permissions those commands use.
 * @module
 */
import { runTidemarkTask } from "../lib/cli/tidemark_task.ts";

Deno.exit(await runTidemarkTask(Deno.args));
