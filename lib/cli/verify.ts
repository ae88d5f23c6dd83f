/**
 * `tidemark verify --out DIR [--json]`: re-hashes every snapshot against the manifest and checks
 * outputs and state (see `lib/provenance/verify.ts`). Exit 0 when everything matches, 1 on any
 * mismatch (each named), 2 when DIR is missing or not an out folder. The out of a queued run
 * (`harvest --queue`, a folder or `s3://…`) holds one out folder per unit under `units/`: each
 * is verified, and the exit code is 1 when any has a mismatch.
 * @module
 */
import { join } from "node:path";
import { withOutFolder } from "./bucket_out.ts";
import { booleanFlag, type Command, parseFlags, stringFlag } from "./args.ts";
import { UsageError } from "../core/errors.ts";
import { formatVerifyResult, verifyOut } from "../provenance/verify.ts";
import { readDirIfExists } from "../core/atomic_file.ts";

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
    details: "DIR may be s3://BUCKET/PREFIX (AWS_* variables). The out of a queued run " +
      "(harvest --queue) is verified unit folder by unit folder (units/<asset>/[range-I-of-N/]); " +
      "--json then prints one result per unit.\n" +
      "Exit codes: 0 everything matches, 1 a mismatch (named), 2 bad arguments or folder.",
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
    // A bucket is verified through a temporary copy; the lines name the bucket, not the copy.
    const found = await withOutFolder(out, async (dir) => {
      const units = await unitFolders(dir);
      const folders = units.length === 0 ? [""] : units;
      const checked = [];
      for (const folder of folders) {
        const result = await verifyOut(join(dir, folder));
        const shown = folder === "" ? out : `${out.replace(/\/+$/, "")}/${folder}`;
        result.out = shown;
        checked.push({ result, text: formatVerifyResult(result).replaceAll(dir, out) });
      }
      return { checked, queued: units.length > 0 };
    });
    const results = found.checked.map((c) => c.result);
    if (booleanFlag(flags, "json")) {
      console.log(JSON.stringify(found.queued ? results : results[0], null, 2));
    } else console.log(found.checked.map((c) => c.text).join("\n\n"));
    return results.every((r) => r.ok) ? 0 : 1;
  },
};

/**
 * The unit folders (`units/<asset>/` or `units/<asset>/range-I-of-N/`, relative) of a queued
 * run's out folder, sorted; none when `dir` is an ordinary out folder.
 */
async function unitFolders(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string, depth: number): Promise<void> => {
    const entries = await readDirIfExists(join(dir, rel));
    if (depth > 1 && entries.some((e) => e.name === "manifest.jsonl")) found.push(rel);
    if (depth > 2) return;
    for (const e of entries) {
      if (e.isDirectory && (depth < 2 || /^range-\d+-of-\d+$/.test(e.name))) {
        await walk(`${rel}/${e.name}`, depth + 1);
      }
    }
  };
  if (await exists(join(dir, "manifest.jsonl"))) return [];
  await walk("units", 1);
  return found.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
