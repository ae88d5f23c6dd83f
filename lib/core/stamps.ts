/**
 * Stamps that tie every output to the run, code and config that made it: sortable run ids,
 * the environment stamp, the config hash, and the one sha256 implementation of the codebase
 * (snapshots, parts, configs, queries and payloads all hash through {@link sha256Hex}).
 * @module
 */
import { createHash } from "node:crypto";
import { VERSION } from "./version.ts";
import { canonicalJson } from "./json_text.ts";

/**
 * What a run id looks like: `YYYYMMDDTHHMMSSZ-<6 hex>` (UTC). It sorts by start time, and it is
 * safe in file names, which matters because it is a folder under `raw/<asset>/`.
 */
export const RUN_ID_PATTERN: RegExp = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

/**
 * A new run id from the clock (a function or a `Clock` giving epoch milliseconds) and 24 random
 * bits, e.g. `20261123T101500Z-3fa9c1`. Ids of runs started in different seconds sort by start time.
 *
 * @example
 * ```ts
 * import { newRunId } from "./stamps.ts";
 * const id = newRunId(() => Date.UTC(2026, 10, 23, 10, 15, 0));
 * // id starts with "20261123T101500Z-"
 * ```
 */
export function newRunId(clock: (() => number) | { now(): number } = Date.now): string {
  const iso = new Date(typeof clock === "function" ? clock() : clock.now()).toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T` +
    `${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `${stamp}-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The start time encoded in a run id made by {@link newRunId}; `undefined` for other ids. */
export function runIdTime(runId: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(runId);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/** The versions a manifest line and a report carry: Deno, Tidemark, and where known V8 and OS. */
export interface EnvStamp {
  /** Deno version, e.g. `2.9.6`. */
  deno: string;
  /** Tidemark version from `lib/core/version.ts`. */
  tidemark: string;
  /** V8 version. */
  v8?: string;
  /** Operating system (`Deno.build.os`). */
  os?: string;
}

/** The environment stamp of this process, for manifest lines and reports. */
export function envStamp(): EnvStamp {
  return { deno: Deno.version.deno, tidemark: VERSION, v8: Deno.version.v8, os: Deno.build.os };
}

/** The sha256 of `data` (UTF-8 for strings) as 64 lower-case hex digits. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A file's sha256 and size, as {@link sha256File} measures them. */
export interface FileDigest {
  /** 64 lower-case hex digits. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
}

/** Hashes a file by streaming it (memory stays flat whatever its size). */
export async function sha256File(path: string): Promise<FileDigest> {
  const hash = createHash("sha256");
  let bytes = 0;
  const file = await Deno.open(path, { read: true });
  try {
    const buffer = new Uint8Array(1 << 18);
    for (;;) {
      const n = await file.read(buffer);
      if (n === null) break;
      hash.update(buffer.subarray(0, n));
      bytes += n;
    }
  } finally {
    file.close();
  }
  return { sha256: hash.digest("hex"), bytes };
}

/**
 * The config hash stamped on every manifest line: the sha256 of the config file's bytes as
 * given, or of the canonical JSON of a parsed config object (so a flags-only run has one too).
 */
export function configSha256(config: Uint8Array | string | object): string {
  if (config instanceof Uint8Array || typeof config === "string") return sha256Hex(config);
  return sha256Hex(canonicalJson(config));
}
