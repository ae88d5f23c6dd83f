/**
 * The entry point `deno task extract` runs: `tidemark extract` alone. `main.ts` names every
 * command's module in a dynamic import, and Deno reads the whole graph behind each such import
 * when a process starts — the harvest, the scheduler, polars: about 0.2 s before the first line
 * runs. This entry holds only the extract command's graph, so the SQLite reader thread starts
 * that much sooner; it even starts that thread before it loads the command. Usage:
 * `deno run [permissions] lib/cli/extract_main.ts [extract flags]`.
 * @module
 */
import { prestartReaderThread } from "../sql/sqlite_start.ts";

if (import.meta.main) {
  // The SQLite reader thread boots while the command's modules load and its flags are read:
  // the query starts that much sooner. Those modules are imported by computed specifiers so
  // that Deno does not load them (and their graph) before this line runs.
  prestartReaderThread();
  const [{ command }, { runCommand }]: [
    typeof import("./extract.ts"),
    typeof import("./run_command.ts"),
  ] = await Promise.all([
    import(new URL("./extract.ts", import.meta.url).href),
    import(new URL("./run_command.ts", import.meta.url).href),
  ]);
  Deno.exit(await runCommand("extract", command, Deno.args));
}
