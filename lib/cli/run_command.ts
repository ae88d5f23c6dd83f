/**
 * Runs one CLI command and turns its errors into exit codes and one-paragraph messages: what
 * `main.ts` does for every command, and the extract task's own entry (`extract_main.ts`) for
 * `extract`.
 * @module
 */
import { type Command, formatHelp } from "./args.ts";
import { TidemarkError } from "../core/errors.ts";

/**
 * Runs `command` with `args` (`--help` prints its help) and resolves to the process exit code:
 * 0, or the error's code with its message on stderr (2 for a permission Deno refused).
 *
 * @example
 * ```ts
 * import { runCommand } from "./run_command.ts";
 * import { command } from "./extract.ts";
 * Deno.exit(await runCommand("extract", command, ["--help"]));
 * ```
 */
export async function runCommand(name: string, command: Command, args: string[]): Promise<number> {
  try {
    if (args.includes("--help") || args.includes("-h")) {
      console.log(formatHelp(command.spec));
      return 0;
    }
    return await command.run(args);
  } catch (error) {
    if (error instanceof TidemarkError) {
      console.error(`tidemark ${name}: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof Deno.errors.NotCapable) {
      console.error(
        `tidemark ${name}: permission denied: ${(error as Error).message}\n` +
          "  run it through its deno task (see README), which grants the permissions it needs;\n" +
          "  `deno task harvest` grants only the config's hosts and folders (--show-permissions)",
      );
      return 2;
    }
    throw error;
  }
}
