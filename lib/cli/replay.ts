/**
 * `tidemark replay --out DIR --to DIR2 [--asset NAME]… [--json]`: rebuilds every output of a
 * harvest's out folder from its raw snapshots, manifest and config stamps alone — no network —
 * into a new folder, then compares it with the original (row counts, key sets, row checksums,
 * column types) and prints the proof. Exit 0 when identical, 1 when a dataset differs or a
 * snapshot does not match the manifest, 2 for bad arguments or folders.
 * @module
 */
import { booleanFlag, type Command, listFlag, parseFlags, stringFlag } from "./args.ts";
import { UsageError } from "../core/errors.ts";
import { compareOuts, formatComparison } from "../replay/compare_outs.ts";
import { replayOut } from "../replay/replay.ts";

/** The `replay` command. */
export const command: Command = {
  spec: {
    name: "replay",
    summary: "rebuild every output from the raw snapshots alone (offline) and prove it identical",
    usage: "replay --out DIR --to DIR2 [--asset NAME]… [--json]",
    flags: {
      out: { type: "string", value: "DIR", description: "the out folder of a harvest" },
      to: {
        type: "string",
        value: "DIR2",
        description: "a new (or empty) folder to rebuild into",
      },
      asset: {
        type: "string",
        value: "NAME",
        multiple: true,
        description: "replay only this asset or derived dataset (repeatable)",
      },
      json: { type: "boolean", description: "print the result and comparison as JSON" },
    },
    details: "Reads raw/, manifest.jsonl and configs/<config_sha256>.json; needs no network " +
      "and no state. Exit codes: 0 identical, 1 a difference or a tampered snapshot, 2 bad " +
      "arguments or folders.",
  },
  async run(args: string[]): Promise<number> {
    const flags = parseFlags(command.spec, args);
    const out = stringFlag(flags, "out");
    const to = stringFlag(flags, "to");
    if (out === undefined || to === undefined) {
      throw new UsageError(
        `tidemark replay needs --out DIR (a harvest's out folder) and --to DIR2 (a new folder); ` +
          `usage: ${command.spec.usage}`,
      );
    }
    if (flags.positionals.length > 0) {
      throw new UsageError(
        `unexpected argument "${flags.positionals[0]}"; usage: ${command.spec.usage}`,
      );
    }
    const assets = listFlag(flags, "asset");
    const result = await replayOut(out, to, assets.length > 0 ? { assets } : {});
    const comparison = await compareOuts(out, to, result.assets);
    if (booleanFlag(flags, "json")) {
      console.log(JSON.stringify({ replay: result, comparison }, null, 2));
    } else {
      const lines = [
        `replayed ${out} into ${to}: ${result.manifestLines} manifest lines, ` +
        result.assets.map((a) => `${a.asset} ${a.rows} rows`).join(", "),
        ...result.warnings.map((w) => `warning: ${w}`),
        formatComparison(comparison),
      ];
      console.log(lines.join("\n"));
    }
    return comparison.identical ? 0 : 1;
  },
};
