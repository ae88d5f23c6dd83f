/**
 * Entry of `deno task schedule`: `tidemark schedule` with network to exactly its jobs' hosts (see
 * `lib/cli/schedule_task.ts`); `--show-permissions` prints them and runs nothing.
 * @module
 */
import { launchSchedule } from "../lib/cli/schedule_task.ts";

Deno.exit(await launchSchedule(Deno.args));
