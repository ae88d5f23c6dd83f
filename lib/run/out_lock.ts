/**
 * One run at a time per out folder. A harvest or an extraction that finds runs in state which
 * never finished treats them as crashed: it adopts or deletes what they left. Two runs on one
 * folder at once (a cron fire while a manual run goes on) would each take the other for a crashed
 * run. So every run first takes the folder's lock, `<out>/.tidemark.lock`, and a second run is
 * refused at once, before it touches anything, with the holder's run id in the message.
 *
 * The lock is an exclusive SQLite transaction on that file: the kernel drops it when its process
 * ends, `kill -9` included, so a crashed run never leaves a stale lock behind. SQLite also
 * keeps it exclusive between connections of one process. `<out>/.tidemark.lock.json` names
 * the holder, for the message only; the lock itself is the transaction.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { pathExists, writeFileAtomic } from "../core/atomic_file.ts";
import { TidemarkError } from "../core/errors.ts";

/** The lock file of an out folder. */
export const LOCK_FILE = ".tidemark.lock";
/** Who holds the lock (informational; removed when the lock is released). */
export const LOCK_HOLDER_FILE = ".tidemark.lock.json";

/** Who holds an out folder. */
export interface LockHolder {
  /** `harvest`, `extract`. */
  command: string;
  /** The holder's run id (none for a command that is not a run, like `state reset`). */
  runId: string | null;
  /** The holder's process id. */
  pid: number;
  /** When it took the lock, UTC ISO-8601. */
  since: string;
}

/** Another run holds the out folder: exit 2, nothing was written. */
export class OutFolderBusyError extends TidemarkError {
  override exitCode = 2;
  /** The holder, when its note could be read. */
  readonly holder: LockHolder | null;

  /** `holder` as read from the lock note, or null. */
  constructor(message: string, holder: LockHolder | null) {
    super(message);
    this.name = "OutFolderBusyError";
    this.holder = holder;
  }
}

/** A held out-folder lock; {@link OutLock.release} ends it. */
export interface OutLock {
  /** The out folder. */
  readonly out: string;
  /** Whether taking the lock created the out folder. */
  readonly created: boolean;
  /**
   * Releases the lock (idempotent). With `discard` (a run refused before it wrote anything) the
   * lock leaves no trace: its files go, and so does the out folder if the lock created it.
   */
  release(options?: { discard?: boolean }): void;
}

/**
 * Takes the lock of `out` (created if missing) for a run, or throws {@link OutFolderBusyError}
 * at once when another run holds it. Release it in a `finally`; a process that dies releases it
 * by dying.
 *
 * @example
 * ```ts
 * import { lockOutFolder } from "./out_lock.ts";
 * const lock = await lockOutFolder("out", { command: "harvest", runId: "20261123T101500Z-3fa9c1" });
 * try {
 *   // … the run …
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export async function lockOutFolder(
  out: string,
  owner: { command: string; runId?: string; since?: Date },
): Promise<OutLock> {
  const created = !(await pathExists(out));
  await Deno.mkdir(out, { recursive: true });
  const path = join(out, LOCK_FILE);
  let db: DatabaseSync | undefined;
  // A run that gives the lock back with `discard` unlinks the file while holding it: a lock taken
  // on a file no longer at `path` is no lock, so it is checked and taken again.
  for (let tries = 0; db === undefined; tries++) {
    const candidate = new DatabaseSync(path);
    try {
      const opened = inode(path);
      candidate.exec("PRAGMA busy_timeout = 0");
      // Nothing is ever written: no journal file next to the lock.
      candidate.exec("PRAGMA journal_mode = MEMORY");
      candidate.exec("BEGIN EXCLUSIVE");
      if (opened !== null && opened === inode(path)) db = candidate;
      else if (tries >= 5) throw new Error(`${path} keeps being replaced`);
      else candidate.close();
    } catch (error) {
      candidate.close();
      if (!/locked|busy/i.test(String((error as Error)?.message))) throw error;
      const holder = await readHolder(out);
      const who = holder
        ? `${holder.command}${
          holder.runId ? ` run ${holder.runId}` : ""
        } (process ${holder.pid}, ` +
          `since ${holder.since})`
        : "another tidemark run";
      throw new OutFolderBusyError(
        `${out} is in use by ${who}; one run at a time may write an out folder. Wait for it ` +
          `to finish, or give this run another --out`,
        holder,
      );
    }
  }
  const holder: LockHolder = {
    command: owner.command,
    runId: owner.runId ?? null,
    pid: Deno.pid,
    since: (owner.since ?? new Date()).toISOString(),
  };
  try {
    await writeFileAtomic(join(out, LOCK_HOLDER_FILE), `${JSON.stringify(holder)}\n`);
  } catch (error) {
    db.close();
    throw error;
  }
  const held = db;
  let released = false;
  return {
    out,
    created,
    release(options = {}) {
      if (released) return;
      released = true;
      try {
        // The note goes while the lock is still held, so it never removes a next holder's.
        if (options.discard) removeLockFiles(out);
        else removeFile(join(out, LOCK_HOLDER_FILE));
        held.exec("ROLLBACK");
      } finally {
        held.close();
      }
      if (options.discard && created) removeIfEmpty(out);
    },
  };
}

/** The inode of `path`, or null when it is missing. */
function inode(path: string): number | null {
  try {
    return Deno.statSync(path).ino;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** The holder note of `out`, or null when it is missing or unreadable. */
async function readHolder(out: string): Promise<LockHolder | null> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(join(out, LOCK_HOLDER_FILE)));
    return typeof parsed?.command === "string" ? parsed as LockHolder : null;
  } catch {
    return null;
  }
}

/** Removes the lock's files (while the lock is still held, see {@link lockOutFolder}). */
function removeLockFiles(out: string): void {
  for (const name of [LOCK_HOLDER_FILE, LOCK_FILE]) removeFile(join(out, name));
}

function removeFile(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // already gone
  }
}

/** Removes `out` when it is empty; what else is there stays. */
function removeIfEmpty(out: string): void {
  try {
    Deno.removeSync(out);
  } catch {
    // not empty
  }
}
