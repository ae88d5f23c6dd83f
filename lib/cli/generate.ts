/**
 * `tidemark generate northwind --scale N --out FILE [--seed N] [--force]`: writes the
 * deterministic Northwind database to a SQLite file (same scale and seed → byte-identical file).
 * The file is built under a temporary name and renamed into place, so an interrupted run leaves
 * no half-written database; an existing FILE is refused unless `--force`.
 * @module
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type { Command, CommandSpec } from "./args.ts";
import { booleanFlag, intFlag, parseFlags, stringFlag } from "./args.ts";
import { UsageError } from "../core/errors.ts";
import { commitTemporaryFile, temporaryPathFor } from "../core/atomic_file.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";

const DATASETS = ["northwind"] as const;

const spec: CommandSpec = {
  name: "generate",
  summary: "generate a deterministic Northwind SQLite database",
  usage: "generate northwind --out FILE [--scale N] [--seed N] [--force]",
  flags: {
    out: { type: "string", value: "FILE", description: "SQLite file to write (required)" },
    scale: {
      type: "string",
      value: "N",
      description: "size: about 830·N orders and 2155·N order lines",
      default: "1",
    },
    seed: { type: "string", value: "N", description: "seed of the generated data", default: "42" },
    force: { type: "boolean", description: "replace FILE if it exists" },
  },
  details: "Serve the file with: tidemark serve --db FILE",
};

/** The `generate` command. */
export const command: Command = {
  spec,
  async run(args) {
    const flags = parseFlags(spec, args);
    const [dataset, ...extra] = flags.positionals;
    if (dataset === undefined) {
      throw new UsageError(`name a dataset to generate: ${DATASETS.join(", ")}`);
    }
    if (!(DATASETS as readonly string[]).includes(dataset)) {
      throw new UsageError(`unknown dataset "${dataset}"; accepted: ${DATASETS.join(", ")}`);
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; see --help`);
    const out = stringFlag(flags, "out");
    if (out === undefined || out === "") {
      throw new UsageError("--out FILE is required: where to write the database");
    }
    const scaleText = stringFlag(flags, "scale") ?? "1";
    const scale = Number(scaleText);
    if (!/^\s*\d*\.?\d+\s*$/.test(scaleText) || !(scale > 0)) {
      throw new UsageError(`--scale must be a number above 0, got "${scaleText}"`);
    }
    const seed = intFlag(flags, "seed", { min: 0, max: 2 ** 32 - 1 }) ?? 42;
    if (existsSync(out) && !booleanFlag(flags, "force")) {
      throw new UsageError(`${out} already exists; pass --force to replace it`);
    }
    await Deno.mkdir(dirname(out), { recursive: true });
    const tmp = temporaryPathFor(out);
    try {
      generateNorthwind(tmp, { scale, seed }).close();
      await commitTemporaryFile(tmp, out);
    } catch (error) {
      await Deno.remove(tmp).catch(() => {});
      throw error;
    }
    const { size } = await Deno.stat(out);
    console.log(`wrote ${out} (northwind, scale ${scale}, seed ${seed}, ${size} bytes)`);
    return 0;
  },
};
