/**
 * Temporary folders for the tests: one helper instead of a copy of the same try/finally in every
 * test module.
 * @module
 */

/**
 * A runner that calls `fn` with a fresh temporary folder whose name starts with `prefix`, and
 * removes the folder afterwards whatever `fn` does.
 *
 * @example
 * ```ts
 * import { tempFolders } from "./temp_dir.ts";
 * const withDir = tempFolders("tidemark-example-");
 * await withDir(async (dir) => await Deno.writeTextFile(`${dir}/a.txt`, "a"));
 * ```
 */
export function tempFolders(prefix: string): (fn: (dir: string) => Promise<void>) => Promise<void> {
  return async (fn) => {
    const dir = await Deno.makeTempDir({ prefix });
    try {
      await fn(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
}
