/**
 * `tidemark verify --out DIR [--json]`: re-hashes every snapshot against the manifest and checks
 * outputs and state (see `lib/provenance/verify.ts`). Exit 0 when everything matches, 1 on any
 * mismatch (each named), 2 when DIR is missing or not an out folder.
 * @module
 */
import { booleanFlag, type Command, parseFlags, stringFlag } from "./args.ts";
import { UsageError } from "../core/errors.ts";
import { formatVerifyResult, verifyOut } from "../provenance/verify.ts";

/** The `verify` command. */
export const command: Command = {
  spec: {
    name: "verify",
    summary: "re-hash every snapshot against the manifest and check outputs and state",
    usage: "verify --out DIR [--json]",
    flags: {
      out: { type: "string", value: "DIR", description: "the out folder of a harvest" },
      json: { type: "boolean", description: "print the result as JSON" },
    },
    details: "Exit codes: 0 everything matches, 1 a mismatch (named), 2 bad arguments or folder.",
  },
  async run(args: string[]): Promise<number> {
    const flags = parseFlags(command.spec, args);
    const out = stringFlag(flags, "out");
    if (out === undefined) {
      throw new UsageError("tidemark verify needs --out DIR, the out folder of a harvest");
    }
    if (flags.positionals.length > 0) {
      throw new UsageError(
        `unexpected argument "${flags.positionals[0]}"; usage: ${command.spec.usage}`,
      );
    }
    const result = await verifyOut(out);
    if (booleanFlag(flags, "json")) console.log(JSON.stringify(result, null, 2));
    else console.log(formatVerifyResult(result));
    return result.ok ? 0 : 1;
  },
};
