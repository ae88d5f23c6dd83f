/**
 * The entry point `deno task harvest` runs: `tidemark harvest` alone. `main.ts` names every
 * command's module in a dynamic import, and Deno reads the whole graph behind each such import
 * when a process starts (the extractor, the mock, the scheduler, the queue, polars): ~35 ms
 * before the first line runs, every run. This entry holds only the harvest command's graph.
 * Usage: `deno run [permissions] lib/cli/harvest_main.ts [harvest flags]`.
 * @module
 */

if (import.meta.main) {
  // Imported by computed specifiers, so that Deno builds no graph before this line runs: the
  // harvest's own graph is read once, here.
  const [{ command }, { runCommand }]: [
    typeof import("./harvest.ts"),
    typeof import("./run_command.ts"),
  ] = await Promise.all([
    import(new URL("./harvest.ts", import.meta.url).href),
    import(new URL("./run_command.ts", import.meta.url).href),
  ]);
  Deno.exit(await runCommand("harvest", command, Deno.args));
}
