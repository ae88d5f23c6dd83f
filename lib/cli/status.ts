/**
 * `tidemark status --queue URL RUN_ID`: the units of a queued run (status, attempts, pages,
 * rows, worker, output or error). Exit 0 when the run ended without a failed unit, 1 when a unit
 * failed, 3 while it runs, 2 for an unknown run or an unreachable queue.
 * @module
 */
import { UsageError } from "../core/errors.ts";
import { assetProgress, endOf, renderAssets, renderUnits } from "../queue/run.ts";
import { FINAL_STATUSES, Queue } from "../queue/store.ts";
import { booleanFlag, type Command, parseFlags, stringFlag } from "./args.ts";

/** The `status` command. */
export const command: Command = {
  spec: {
    name: "status",
    summary: "show the units of a queued harvest",
    usage: "status --queue postgres://USER@HOST/DB RUN_ID [--json]",
    flags: {
      queue: { type: "string", value: "URL", description: "the queue's PostgreSQL (PGPASSWORD)" },
      json: { type: "boolean", description: "print the units as JSON" },
    },
    details: "Exit codes: 0 ended, 1 a unit failed, 3 still running, 2 bad arguments.",
  },
  async run(args: string[]): Promise<number> {
    const flags = parseFlags(command.spec, args);
    const url = stringFlag(flags, "queue");
    if (url === undefined || flags.positionals.length !== 1) {
      throw new UsageError(`usage: tidemark ${command.spec.usage}`);
    }
    const runId = flags.positionals[0];
    const queue = await Queue.open(url, { supervise: false });
    try {
      await queue.settleDeadUnits(runId);
      const units = await queue.units(runId);
      if (units.length === 0) {
        throw new UsageError(`no queued run ${runId} in ${queue.description}`);
      }
      if (booleanFlag(flags, "json")) console.log(JSON.stringify(units, null, 2));
      else {
        const spec = await queue.run(runId);
        const assets = spec ? `\n${renderAssets(assetProgress(spec, units))}` : "";
        console.log(`run ${runId}\n${renderUnits(units)}${assets}`);
      }
      if (!units.every((u) => FINAL_STATUSES.has(u.status))) return 3;
      return endOf(runId, units).exitCode;
    } finally {
      await queue.close();
    }
  },
};
