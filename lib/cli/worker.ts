/**
 * `tidemark worker --queue URL [--concurrency N] [--lease 30s] [--state URL]
 * [--own-rate-limit]`: takes units of
 * queued harvests until stopped (SIGINT/SIGTERM: it finishes the units in hand, then exits 0).
 * An unreachable queue or a refused login is one line naming the URL, password masked, exit 2.
 * @module
 */
import { UsageError } from "../core/errors.ts";
import { startWorker } from "../queue/worker.ts";
import {
  booleanFlag,
  type Command,
  intFlag,
  parseDuration,
  parseFlags,
  stringFlag,
} from "./args.ts";

/** The `worker` command. */
export const command: Command = {
  spec: {
    name: "worker",
    summary: "take units of queued harvests (PostgreSQL job queue) until stopped",
    usage:
      "worker --queue postgres://USER@HOST/DB [--concurrency N] [--lease 30s] [--state URL] [--own-rate-limit]",
    flags: {
      queue: { type: "string", value: "URL", description: "the queue's PostgreSQL (PGPASSWORD)" },
      concurrency: {
        type: "string",
        value: "N",
        description: "units harvested at once",
        default: "1",
      },
      lease: {
        type: "string",
        value: "DURATION",
        description: "a unit whose worker is silent this long goes to another worker (≥ 10s)",
        default: "30s",
      },
      state: {
        type: "string",
        value: "URL",
        description: "PostgreSQL of the units' state",
        default: "the queue's",
      },
      "own-rate-limit": {
        type: "boolean",
        description:
          "keep a config's requests_per_second budget to this worker instead of sharing it with every worker through the queue",
      },
    },
    details: "Units harvest into <out>/units/<asset>/ of their run's shared out folder " +
      "(a key range into <out>/units/<asset>/range-I-of-N/); a run with --out s3://BUCKET/PREFIX " +
      "into that folder of the bucket, through a local scratch copy (AWS_* variables).\n" +
      "A config's rate_limit.requests_per_second is one budget for all workers (per origin and " +
      "credential, kept in the queue's database) unless --own-rate-limit.\n" +
      "Exit codes: 0 stopped, 2 bad arguments or queue unreachable.",
  },
  async run(args: string[]): Promise<number> {
    const flags = parseFlags(command.spec, args);
    const queue = stringFlag(flags, "queue");
    if (queue === undefined) throw new UsageError("tidemark worker needs --queue postgres://…");
    const lease = parseDuration(stringFlag(flags, "lease") ?? "30s", "--lease") / 1000;
    if (lease < 10) throw new UsageError(`--lease must be at least 10s, got ${lease}s`);
    const worker = await startWorker(queue, {
      concurrency: intFlag(flags, "concurrency", { min: 1, max: 64 }) ?? 1,
      leaseSeconds: lease,
      state: stringFlag(flags, "state"),
      sharedRateLimit: booleanFlag(flags, "own-rate-limit") ? false : undefined,
      log: (line) => console.error(line),
    });
    const stopped = Promise.withResolvers<void>();
    const stop = () => stopped.resolve();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await stopped.promise;
    await worker.stop();
    return 0;
  },
};
