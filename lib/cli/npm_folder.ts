/**
 * Where Deno keeps the npm packages this project loads. The Parquet addon (`nodejs-polars`)
 * reads its own files — and its platform package's native library, a sibling package — from
 * there when it loads, so a child started with scoped read must be allowed to read that folder.
 * The project sets `"nodeModulesDir": "none"`: packages stay in Deno's global cache (no
 * `node_modules/` to check and lock each time a module graph is built, which cost every process
 * ~0.1 s at start), so the folder is found by resolving the package, not assumed.
 * @module
 */
import { fileURLToPath } from "node:url";
import { sep } from "node:path";

/**
 * The folder holding the `nodejs-polars` package folder and its siblings (the platform package),
 * e.g. `~/.cache/deno/npm/registry.npmjs.org`, as a list for a `--allow-read`: empty when the
 * package does not resolve to a file (then no read is granted for it, and a run that needs
 * polars says which file it could not read).
 *
 * @example
 * ```ts
 * import { npmReadFolders } from "./npm_folder.ts";
 * npmReadFolders(); // ["/home/me/.cache/deno/npm/registry.npmjs.org"]
 * ```
 */
export function npmReadFolders(): string[] {
  let url: string;
  try {
    url = import.meta.resolve("nodejs-polars");
  } catch {
    return [];
  }
  if (!url.startsWith("file:")) return [];
  const path = fileURLToPath(url);
  const at = path.lastIndexOf(`${sep}nodejs-polars${sep}`);
  return at < 0 ? [] : [path.slice(0, at)];
}
