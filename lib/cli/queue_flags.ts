/**
 * The queue flags of `tidemark harvest` (`--queue URL`, `--detach`, `--lease D`,
 * `--split N`), taken out of
 * the command line before the harvest flags are parsed, so a queued harvest is checked by the
 * same parser as a local one.
 * @module
 */
import { UsageError } from "../core/errors.ts";
import { parseDuration } from "./args.ts";

/** The queue flags of one command line. */
export interface QueueFlags {
  /** `--queue URL`, or undefined for a local run. */
  queue?: string;
  /** `--detach`: print the run id and return at once. */
  detach: boolean;
  /** `--lease D` in seconds. @default 30 */
  leaseSeconds: number;
  /** `--split N`: key ranges (units) per splittable asset. */
  split?: number;
}

/** Splits `args` into the queue flags and the rest. */
export function takeQueueFlags(args: string[]): { flags: QueueFlags; rest: string[] } {
  const rest: string[] = [];
  const flags: QueueFlags = { detach: false, leaseSeconds: 30 };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [name, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    if (name === "--queue") flags.queue = value();
    else if (name === "--lease") flags.leaseSeconds = parseDuration(value(), "--lease") / 1000;
    else if (name === "--split") {
      const text = value();
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < 1 || n > 256) {
        throw new UsageError(`--split must be a whole number from 1 to 256, got "${text}"`);
      }
      flags.split = n;
    } else if (arg === "--detach") flags.detach = true;
    else rest.push(arg);
  }
  const queuedOnly = flags.detach || flags.split !== undefined ||
    args.some((a) => a.startsWith("--lease"));
  if (flags.queue === undefined && queuedOnly) {
    throw new UsageError("--detach, --lease and --split go with --queue URL");
  }
  if (flags.leaseSeconds < 10) {
    throw new UsageError(`--lease must be at least 10s, got ${flags.leaseSeconds}s`);
  }
  return { flags, rest };
}
