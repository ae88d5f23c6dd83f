/**
 * The Deno Deploy entry: `deno deploy` (or `deno task deploy:local`) runs this module. At its top
 * level it reads the schedule (`TIDEMARK_SCHEDULE`) and registers one `Deno.cron` per job — the
 * platform discovers crons while the module loads — then serves the HTTP app on `PORT` and works
 * the KV queue, where every run (cron fire or `POST /jobs/{name}/run`) is cut into slices.
 * Outputs go to `TIDEMARK_OUT` (`s3://BUCKET/PREFIX`), state and locks to Deno KV; no file is
 * written: a slice's scratch copy of the job's folder lives in memory (`lib/deploy/fs_overlay.ts`).
 * See `lib/deploy/deployment.ts` for the environment variables.
 * @module
 */
import { prepareDeployment } from "./lib/deploy/deployment.ts";
import { TidemarkError } from "./lib/core/errors.ts";

let deployment;
try {
  deployment = await prepareDeployment();
} catch (error) {
  if (!(error instanceof TidemarkError)) throw error;
  // One line naming what to fix (a missing TIDEMARK_OUT or AWS_* variable, an unreadable schedule).
  console.error(`tidemark deploy: ${error.message.split("\n").join("; ")}`);
  Deno.exit(2);
}
deployment.registerCrons();
Deno.serve({
  port: deployment.settings.port,
  onListen: ({ hostname, port }) =>
    console.error(`tidemark deploy: listening on http://${hostname}:${port}`),
}, deployment.app.fetch);
await deployment.listen();
