/**
 * `tidemark contract infer --out DIR --asset NAME [--write FILE] [--sample N]`: infers a zod
 * contract from an asset's harvested Parquet (`<out>/parquet/<asset>/`) and prints it as a
 * TypeScript module, or writes it (atomically) to FILE for the user to own and edit.
 * @module
 */
import { join } from "node:path";
import type { Command, CommandSpec } from "./args.ts";
import { booleanFlag, intFlag, parseFlags, stringFlag } from "./args.ts";
import { UsageError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/atomic_file.ts";
import { inferContractModule } from "../contracts/infer.ts";

const spec: CommandSpec = {
  name: "contract",
  summary: "infer a zod contract from harvested data",
  usage: "contract infer --out DIR --asset NAME [--write FILE] [--sample N]",
  flags: {
    out: { type: "string", value: "DIR", description: "output folder of a harvest (required)" },
    asset: { type: "string", value: "NAME", description: "asset to profile (required)" },
    write: {
      type: "string",
      value: "FILE",
      description: "write the module to FILE instead of printing it",
    },
    sample: { type: "string", value: "N", description: "rows to profile", default: "10000" },
    force: { type: "boolean", description: "replace FILE if it exists" },
  },
  details: "Reads <out>/parquet/<asset>/. Register the written module's contract with\n" +
    "registerContract(name, schema) or name it in the config's `contract:`.",
};

/** The `contract` command. */
export const command: Command = {
  spec,
  async run(args) {
    const flags = parseFlags(spec, args);
    const [action, ...extra] = flags.positionals;
    if (action !== "infer") {
      throw new UsageError(
        action === undefined
          ? "name an action: infer"
          : `unknown action "${action}" for 'tidemark contract'; accepted: infer`,
      );
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; see --help`);
    const out = stringFlag(flags, "out");
    if (!out) throw new UsageError("--out DIR is required: the output folder of a harvest");
    const asset = stringFlag(flags, "asset");
    if (!asset) throw new UsageError("--asset NAME is required: the asset to profile");
    const limit = intFlag(flags, "sample", { min: 1 }) ?? 10_000;
    const dir = join(out, "parquet", asset);
    try {
      await Deno.stat(dir);
    } catch {
      throw new UsageError(
        `no asset folder ${dir}; check --out and --asset (names are case-sensitive)`,
      );
    }
    const file = stringFlag(flags, "write");
    if (file !== undefined && !booleanFlag(flags, "force")) {
      const exists = await Deno.stat(file).then(() => true, () => false);
      if (exists) throw new UsageError(`${file} already exists; pass --force to replace it`);
    }
    const text = await inferContractModule(dir, { asset, limit });
    if (file === undefined) {
      console.log(text);
    } else {
      await writeFileAtomic(file, text);
      console.log(`wrote the ${asset} contract to ${file}`);
    }
    return 0;
  },
};
