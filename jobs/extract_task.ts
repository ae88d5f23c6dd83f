/**
 * Entry of `deno task extract`: `tidemark extract` with the permissions its flags name (see
 * `lib/cli/extract_task.ts`); `--show-permissions` prints them and runs nothing.
 * @module
 */
import { launchExtract } from "../lib/cli/extract_task.ts";

Deno.exit(await launchExtract(Deno.args));
