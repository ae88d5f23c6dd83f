/**
 * `tidemark verify`: proves an out folder is what its manifest says. Every snapshot is re-hashed
 * against its manifest line, every manifest line must point at an existing snapshot and existing
 * output part(s), and every page committed in `state.sqlite` must have its manifest line and its
 * outputs. Leftovers of a crash that the design allows (a torn last manifest line, a snapshot
 * written just before the crash and never described, a temporary file) are warnings, not
 * mismatches.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { z } from "zod";
import { UsageError, VerifyError } from "../core/errors.ts";
import { supersededLines } from "./live_outputs.ts";
import { loadManifest, type ManifestRecord, outputsOf } from "./manifest.ts";
import { resolveOutPath } from "./snapshot.ts";
import { type FileDigest, sha256File } from "../core/stamps.ts";
import { formatBytes } from "../core/units.ts";
import type { Assert, DefaultsOptional, SchemaIs } from "../core/schema_type.ts";

/** One thing that does not match, naming the file. */
export const verifyMismatchSchema = z.object({
  /** What kind of check failed. */
  kind: z.enum([
    "manifest_invalid",
    "snapshot_missing",
    "snapshot_hash",
    "snapshot_size",
    "output_missing",
    "part_hash",
    "state_unreadable",
    "state_without_manifest",
    "state_mismatch",
    "state_output_missing",
  ]),
  /** The file at fault, relative to the out folder. */
  file: z.string(),
  /** What is wrong, in one sentence. */
  message: z.string(),
  /** The manifest line concerned, if any (1-based). */
  line: z.int().optional(),
});
/** One mismatch found by {@link verifyOut} (see {@link verifyMismatchSchema}). */
export interface VerifyMismatch {
  /** What kind of check failed. */
  kind:
    | "manifest_invalid"
    | "snapshot_missing"
    | "snapshot_hash"
    | "snapshot_size"
    | "output_missing"
    | "part_hash"
    | "state_unreadable"
    | "state_without_manifest"
    | "state_mismatch"
    | "state_output_missing";
  /** The file at fault, relative to the out folder. */
  file: string;
  /** What is wrong, in one sentence. */
  message: string;
  /** The manifest line concerned, if any (1-based). */
  line?: number;
}

/** What {@link verifyOut} found: counts, mismatches (exit 1) and warnings. */
export const verifyResultSchema = z.object({
  /** The out folder verified. */
  out: z.string(),
  /** `true` when there is no mismatch. */
  ok: z.boolean(),
  /** Manifest lines read. */
  manifest_lines: z.int(),
  /** Distinct files read or checked (snapshots hashed, outputs found, state). */
  files_checked: z.int(),
  /** Bytes re-hashed. */
  bytes_checked: z.int(),
  /** Distinct snapshots re-hashed. */
  snapshots_checked: z.int(),
  /** Distinct output parts found. */
  outputs_checked: z.int(),
  /**
   * Outputs of lines superseded by a later replace/merge/derive or discarded after a crash
   * (see lib/provenance/live_outputs.ts): not expected on disk, not checked.
   */
  outputs_superseded: z.int().default(0),
  /** Committed state pages checked against the manifest (0 when there is no state). */
  state_pages_checked: z.int(),
  /** Every mismatch, in the order found. */
  mismatches: z.array(verifyMismatchSchema),
  /** Things worth knowing that prove nothing wrong (crash leftovers, unchecked state). */
  warnings: z.array(z.string()),
});
/** The result of {@link verifyOut} (see {@link verifyResultSchema}). */
export interface VerifyResult {
  /** The out folder verified. */
  out: string;
  /** `true` when there is no mismatch. */
  ok: boolean;
  /** Manifest lines read. */
  manifest_lines: number;
  /** Distinct files read or checked. */
  files_checked: number;
  /** Bytes re-hashed. */
  bytes_checked: number;
  /** Distinct snapshots re-hashed. */
  snapshots_checked: number;
  /** Distinct output parts found. */
  outputs_checked: number;
  /** Outputs superseded by a later write or discarded after a crash: not checked. */
  outputs_superseded: number;
  /** Committed state pages checked against the manifest. */
  state_pages_checked: number;
  /** Every mismatch, in the order found. */
  mismatches: VerifyMismatch[];
  /** Things worth knowing that prove nothing wrong. */
  warnings: string[];
}

type _Mismatch = Assert<SchemaIs<typeof verifyMismatchSchema, VerifyMismatch, VerifyMismatch>>;
type _Result = Assert<
  SchemaIs<
    typeof verifyResultSchema,
    VerifyResult,
    DefaultsOptional<VerifyResult, "outputs_superseded">
  >
>;

/** Options of {@link verifyOut}. */
export interface VerifyOptions {
  /** Files hashed at once (I/O overlaps hashing). @default 4 */
  concurrency?: number;
  /** Mismatches kept in the result before the rest are only counted in a warning. @default 1000 */
  maxMismatches?: number;
}

/** A page committed in state, as `lib/state/sqlite.ts` stores it in table `pages`. */
interface StatePage {
  run_id: string;
  asset_id: string;
  partition: string | null;
  page: number;
  snapshot: string | null;
  outputs: string | null;
  sha256: string | null;
}

/**
 * Verifies the out folder `out`. Resolves to the result (check `ok`); throws
 * {@link UsageError} when `out` is missing or is not a Tidemark out folder.
 *
 * @example
 * ```ts
 * import { formatVerifyResult, verifyOut } from "./verify.ts";
 * const result = await verifyOut("demo-out");
 * console.log(formatVerifyResult(result));
 * if (!result.ok) Deno.exit(1);
 * ```
 */
export async function verifyOut(out: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  await checkOutFolder(out);
  const maxMismatches = options.maxMismatches ?? 1000;
  const mismatches: VerifyMismatch[] = [];
  let total = 0;
  const fail = (m: VerifyMismatch) => {
    total++;
    if (mismatches.length < maxMismatches) mismatches.push(m);
  };
  const warnings: string[] = [];
  const entries = await readEntries(out, fail, warnings);
  const snapshots = await hashSnapshots(out, entries, options.concurrency ?? 4);
  const outputs = new OutputFiles(out);
  const superseded = supersededLines(entries);
  const supersededPaths = new Set<string>();
  for (const { line, record } of entries) {
    if (superseded.has(line)) { for (const part of outputsOf(record)) supersededPaths.add(part); }
  }
  for (const { line, record } of entries) {
    checkSnapshot(record, line, snapshots, fail);
    if (!superseded.has(line)) await checkParts(record, line, outputs, fail);
  }

  for (const part of outputs.found.keys()) supersededPaths.delete(part);
  const exists = (path: string, wantHash: boolean) => outputs.find(path, wantHash);
  const state = await checkState(out, entries, exists, fail, warnings, supersededPaths);
  await findLeftovers(out, snapshots, warnings);
  if (total > mismatches.length) {
    warnings.push(`${total - mismatches.length} more mismatches not listed`);
  }

  let bytes = 0;
  for (const d of snapshots.values()) bytes += d?.bytes ?? 0;
  for (const d of outputs.found.values()) if (d !== null && d !== "present") bytes += d.bytes;
  const snapshotsFound = [...snapshots.values()].filter((d) => d !== null).length;
  const outputsFound = [...outputs.found.values()].filter((d) => d !== null).length;
  return {
    out,
    ok: total === 0,
    manifest_lines: entries.length,
    files_checked: snapshotsFound + outputsFound + (state.checked ? 1 : 0) +
      (entries.length > 0 ? 1 : 0),
    bytes_checked: bytes,
    snapshots_checked: snapshotsFound,
    outputs_checked: outputsFound,
    outputs_superseded: supersededPaths.size,
    state_pages_checked: state.pages,
    mismatches,
    warnings,
  };
}

/** The manifest's lines; an invalid manifest is a mismatch, a torn last line a warning. */
async function readEntries(
  out: string,
  fail: (m: VerifyMismatch) => void,
  warnings: string[],
): Promise<{ line: number; record: ManifestRecord }[]> {
  try {
    const loaded = await loadManifest(resolveOutPath(out, "manifest.jsonl"));
    if (loaded.torn) {
      warnings.push(
        `manifest.jsonl: line ${loaded.torn.line} is incomplete (a crash mid-write) and was ` +
          "skipped; the next harvest trims it",
      );
    }
    return loaded.entries;
  } catch (error) {
    if (!(error instanceof VerifyError)) throw error;
    fail({ kind: "manifest_invalid", file: "manifest.jsonl", message: error.message });
    return [];
  }
}

/** Each distinct snapshot hashed once, a few at a time; `null` for a missing one. */
async function hashSnapshots(
  out: string,
  entries: readonly { record: ManifestRecord }[],
  concurrency: number,
): Promise<Map<string, FileDigest | null>> {
  const snapshots = new Map<string, FileDigest | null>();
  for (const { record } of entries) if (record.snapshot) snapshots.set(record.snapshot, null);
  await forEachLimited([...snapshots.keys()], concurrency, async (path) => {
    try {
      snapshots.set(path, await sha256File(resolveOutPath(out, path)));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  });
  return snapshots;
}

/** A line's snapshot against its hash and size in the manifest. */
function checkSnapshot(
  record: ManifestRecord,
  line: number,
  snapshots: ReadonlyMap<string, FileDigest | null>,
  fail: (m: VerifyMismatch) => void,
): void {
  if (!record.snapshot) return;
  const digest = snapshots.get(record.snapshot) ?? null;
  const file = record.snapshot;
  if (digest === null) {
    fail({
      kind: "snapshot_missing",
      file,
      line,
      message: `snapshot of ${describe(record)} is missing`,
    });
  } else if (digest.sha256 !== record.sha256) {
    fail({
      kind: "snapshot_hash",
      file,
      line,
      message: `sha256 on disk ${digest.sha256} differs from the manifest's ${record.sha256}`,
    });
  } else if (digest.bytes !== record.bytes) {
    fail({
      kind: "snapshot_size",
      file,
      line,
      message: `size on disk ${digest.bytes} differs from the manifest's ${record.bytes}`,
    });
  }
}

/** A line's output parts: present, and equal to their hashes when the manifest has them. */
async function checkParts(
  record: ManifestRecord,
  line: number,
  outputs: OutputFiles,
  fail: (m: VerifyMismatch) => void,
): Promise<void> {
  const parts = outputsOf(record);
  const partHashes = record.part_sha256 === undefined
    ? []
    : Array.isArray(record.part_sha256)
    ? record.part_sha256
    : [record.part_sha256];
  for (const [i, part] of parts.entries()) {
    const want = partHashes.length === parts.length ? partHashes[i] : undefined;
    const found = await outputs.find(part, want !== undefined);
    if (found === null) {
      fail({
        kind: "output_missing",
        file: part,
        line,
        message: `output of ${describe(record)} is missing`,
      });
    } else if (want !== undefined && found !== "present" && found.sha256 !== want) {
      fail({
        kind: "part_hash",
        file: part,
        line,
        message: `sha256 on disk ${found.sha256} differs from the manifest's ${want}`,
      });
    }
  }
}

/** Output files looked up once each: hashed when a hash is wanted, else only found. */
class OutputFiles {
  /** What each path looked up turned out to be (`null`: missing). */
  readonly found: Map<string, FileDigest | "present" | null> = new Map();
  readonly #out: string;

  constructor(out: string) {
    this.#out = out;
  }

  /** The file at `path` (relative to the out folder), hashed if `wantHash`. */
  async find(path: string, wantHash: boolean): Promise<FileDigest | "present" | null> {
    const known = this.found.get(path);
    if (known !== undefined && (known !== "present" || !wantHash)) return known;
    let found: FileDigest | "present" | null;
    try {
      const full = resolveOutPath(this.#out, path);
      found = wantHash
        ? await sha256File(full)
        : ((await Deno.stat(full)).isFile ? "present" : null);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      found = null;
    }
    this.found.set(path, found);
    return found;
  }
}

function describe(record: ManifestRecord): string {
  return `${record.asset} page ${record.page} of run ${record.run_id}`;
}

async function checkOutFolder(out: string): Promise<void> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(out);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`out folder "${out}" does not exist; pass the --out of a harvest`);
    }
    throw error;
  }
  if (!stat.isDirectory) {
    throw new UsageError(`--out "${out}" is not a folder; pass the --out of a harvest`);
  }
  const has = async (name: string) =>
    (await Deno.stat(`${out}/${name}`).catch(() => null)) !== null;
  if (!(await has("manifest.jsonl")) && !(await has("state.sqlite"))) {
    throw new UsageError(
      `"${out}" holds neither manifest.jsonl nor state.sqlite; is it a Tidemark out folder?`,
    );
  }
}

async function forEachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** Checks committed state pages against the manifest; see the module doc. */
async function checkState(
  out: string,
  entries: { line: number; record: ManifestRecord }[],
  outputExists: (path: string, wantHash: boolean) => Promise<unknown>,
  fail: (m: VerifyMismatch) => void,
  warnings: string[],
  superseded: ReadonlySet<string> = new Set(),
): Promise<{ checked: boolean; pages: number }> {
  const path = resolveOutPath(out, "state.sqlite");
  if ((await Deno.stat(path).catch(() => null)) === null) {
    if (entries.length > 0) warnings.push("no state.sqlite: committed pages not checked");
    return { checked: false, pages: 0 };
  }
  let rows: StatePage[] | null;
  try {
    rows = readStatePages(path);
  } catch (error) {
    fail({
      kind: "state_unreadable",
      file: "state.sqlite",
      message: `cannot read committed pages: ${(error as Error).message}`,
    });
    return { checked: true, pages: 0 };
  }
  if (rows === null) {
    warnings.push("state.sqlite has no pages table: committed pages not checked");
    return { checked: true, pages: 0 };
  }
  const bySnapshot = new Map<string, ManifestRecord>();
  const byPage = new Map<string, ManifestRecord[]>();
  for (const { record } of entries) {
    if (record.kind === "event") continue;
    if (record.snapshot) bySnapshot.set(record.snapshot, record);
    const key = JSON.stringify([record.run_id, record.asset, record.page]);
    byPage.set(key, [...(byPage.get(key) ?? []), record]);
  }
  for (const row of rows) {
    const where = `state page ${row.asset_id}${
      row.partition ? ` [${row.partition}]` : ""
    } ${row.page} of run ${row.run_id}`;
    const record = row.snapshot
      ? bySnapshot.get(row.snapshot)
      : (byPage.get(JSON.stringify([row.run_id, row.asset_id, row.page])) ?? []).find((r) =>
        !r.partition || !row.partition || r.partition === row.partition
      );
    if (record === undefined) {
      fail({
        kind: "state_without_manifest",
        file: row.snapshot ?? "state.sqlite",
        message: `${where} is committed but has no manifest line`,
      });
    } else if (row.sha256 && record.sha256 && row.sha256 !== record.sha256) {
      fail({
        kind: "state_mismatch",
        file: row.snapshot ?? "state.sqlite",
        message: `${where} records sha256 ${row.sha256}, the manifest ${record.sha256}`,
      });
    }
    let outputs: unknown = [];
    try {
      outputs = JSON.parse(row.outputs ?? "[]");
    } catch {
      outputs = null;
    }
    if (!Array.isArray(outputs) || outputs.some((o) => typeof o !== "string")) {
      fail({
        kind: "state_mismatch",
        file: "state.sqlite",
        message: `${where} has outputs that are not a JSON array of paths: ${row.outputs}`,
      });
      continue;
    }
    for (const part of outputs as string[]) {
      if (superseded.has(part)) continue;
      let found: unknown = null;
      try {
        found = await outputExists(part, false);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
      }
      if (found === null) {
        fail({
          kind: "state_output_missing",
          file: part,
          message: `output of ${where} is missing`,
        });
      }
    }
  }
  return { checked: true, pages: rows.length };
}

/** The committed pages of a state file; `null` when it has no `pages` table. */
function readStatePages(path: string): StatePage[] | null {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const columns = new Set(
      db.prepare("SELECT name FROM pragma_table_info('pages')").all().map((r) => String(r.name)),
    );
    if (columns.size === 0) return null;
    for (const required of ["run_id", "asset_id", "page"]) {
      if (!columns.has(required)) throw new Error(`table pages has no column ${required}`);
    }
    const pick = (name: string) => (columns.has(name) ? `"${name}"` : `NULL AS "${name}"`);
    // Every row of `pages` is a committed page (`done` only marks the last page of a walk).
    const sql = `SELECT run_id, asset_id, ${pick("partition")}, page, ${pick("snapshot")}, ${
      pick("outputs")
    }, ${pick("sha256")} FROM pages ORDER BY run_id, asset_id, "partition", page`;
    // An empty text means "none" as much as NULL does (a 304 page has no snapshot).
    const text = (v: unknown) => (v === null || v === undefined || v === "" ? null : String(v));
    return db.prepare(sql).all().map((r) => ({
      run_id: String(r.run_id),
      asset_id: String(r.asset_id),
      partition: text(r.partition),
      page: Number(r.page),
      snapshot: text(r.snapshot),
      outputs: text(r.outputs),
      sha256: text(r.sha256),
    }));
  } finally {
    db.close();
  }
}

/** Warns about snapshots no manifest line describes and temporary files left by a crash. */
async function findLeftovers(
  out: string,
  described: Map<string, unknown>,
  warnings: string[],
): Promise<void> {
  const unreferenced: string[] = [];
  const temporary: string[] = [];
  const walk = async (relative: string) => {
    let items: Deno.DirEntry[];
    try {
      items = await Array.fromAsync(Deno.readDir(resolveOutPath(out, relative)));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const item of items) {
      const path = `${relative}/${item.name}`;
      if (item.isDirectory) await walk(path);
      else if (item.name.endsWith(".tmp")) temporary.push(path);
      else if (!described.has(path)) unreferenced.push(path);
    }
  };
  await walk("raw");
  if (unreferenced.length > 0) {
    warnings.push(
      `${unreferenced.length} snapshot(s) have no manifest line (written just before a crash; ` +
        `the resumed run fetched those pages again): ${unreferenced.slice(0, 3).join(", ")}${
          unreferenced.length > 3 ? ", …" : ""
        }`,
    );
  }
  if (temporary.length > 0) {
    warnings.push(
      `${temporary.length} temporary file(s) left by an interrupted write under raw/: ` +
        temporary.slice(0, 3).join(", "),
    );
  }
}

/** A human summary of a verify result: counts, then one line per mismatch and warning. */
export function formatVerifyResult(result: VerifyResult): string {
  const lines = [
    `verified ${result.out}: ${result.manifest_lines} manifest lines, ${result.files_checked} ` +
    `files (${formatBytes(result.bytes_checked)} re-hashed): ${result.snapshots_checked} ` +
    `snapshots, ${result.outputs_checked} outputs, ${result.state_pages_checked} state pages` +
    (result.outputs_superseded > 0
      ? ` (${result.outputs_superseded} outputs superseded by replace/merge/derive, not expected)`
      : ""),
  ];
  for (const m of result.mismatches) {
    lines.push(`MISMATCH ${m.file}${m.line ? ` (manifest line ${m.line})` : ""}: ${m.message}`);
  }
  for (const w of result.warnings) lines.push(`warning: ${w}`);
  lines.push(
    result.ok
      ? "OK: every snapshot, output and committed page matches the manifest"
      : `FAILED: ${result.mismatches.length} mismatch${result.mismatches.length === 1 ? "" : "es"}`,
  );
  return lines.join("\n");
}
