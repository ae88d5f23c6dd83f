/**
 * Config stamps: every harvest writes the config it ran with (secrets masked) to
 * `<out>/configs/<sha256>.json`, which manifest lines name by `config_sha256`, so a replay
 * re-walks each page with exactly the config that harvested it.
 * @module
 */

/** Where the config stamps of an out folder are: `<out>/configs/<config_sha256>.json`. */
export const CONFIG_STAMP_DIR = "configs";

/** The path, relative to the out folder, of the config stamp of a config hash. */
export function configStampPath(configSha256: string): string {
  return `${CONFIG_STAMP_DIR}/${configSha256}.json`;
}
