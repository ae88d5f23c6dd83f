/**
 * The entry point `deno task extract` runs: `tidemark extract` alone. `main.ts` names every
 * command's module in a dynamic import, and Deno reads the whole graph behind each such import
 * when a process starts — the harvest, the scheduler, polars: about 0.2 s before the first line
 * runs. This entry holds only the extract command's graph, so the SQLite reader thread starts
 * that much sooner. Usage: `deno run [permissions] lib/cli/extract_main.ts [extract flags]`.
 * @module
 */
import { command } from "./extract.ts";
import { runCommand } from "./run_command.ts";

if (import.meta.main) Deno.exit(await runCommand("extract", command, Deno.args));
