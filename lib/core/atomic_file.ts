/**
 * Crash-safe file writes: every output is written to a temporary name in the same folder,
 * flushed, and renamed into place, so a crash leaves either the old file or the new one, never
 * half of one (docs/design.md §2).
 * @module
 */
import { dirname } from "node:path";

let counter = 0;

/** Whether `path` exists (a file, folder or link); other stat errors are rethrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** A temporary path next to `path` (same folder, so the rename is atomic). */
export function temporaryPathFor(path: string): string {
  counter += 1;
  return `${path}.${Deno.pid}.${counter}.tmp`;
}

/**
 * The entries of a folder, or none when it does not exist (a folder that a run has not made yet,
 * or that a crash left out, is empty to whoever walks it).
 */
export async function readDirIfExists(folder: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(folder));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** Options of {@link writeFileAtomic} and {@link writePiecesAtomic}. */
export interface AtomicWriteOptions {
  /**
   * The caller made the parent folders already (a store writing many files into one folder saves
   * a `mkdir` per file); a folder removed since is made again. @default false
   */
  folderExists?: boolean;
}

/** Writes `data` to `path` atomically: temp file, fsync, rename. Creates parent folders. */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await writePiecesAtomic(path, [bytes], options);
}

/**
 * {@link writeFileAtomic} from pieces written one after another (never joined: a Parquet part's
 * pages stay separate buffers), each handed to `onPiece` as it is written (a running hash).
 */
export async function writePiecesAtomic(
  path: string,
  pieces: readonly Uint8Array[],
  options: AtomicWriteOptions & { onPiece?: (piece: Uint8Array) => void } = {},
): Promise<void> {
  if (!options.folderExists) await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = temporaryPathFor(path);
  try {
    const file = await openTemporary(tmp, options.folderExists === true);
    try {
      for (const piece of pieces) {
        let written = 0;
        while (written < piece.length) written += await file.write(piece.subarray(written));
        options.onPiece?.(piece);
      }
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/** Creates `tmp` for writing; when its folder was assumed and is gone, makes it and retries. */
async function openTemporary(tmp: string, folderAssumed: boolean): Promise<Deno.FsFile> {
  const open = () => Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    return await open();
  } catch (error) {
    if (!folderAssumed || !(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.mkdir(dirname(tmp), { recursive: true });
    return await open();
  }
}

/**
 * {@link writeFileAtomic} with blocking calls, for worker threads whose job is to block (the
 * snapshot thread): temp file, fsync, rename, without a round trip through the I/O thread pool.
 */
export function writeFileAtomicSync(path: string, data: Uint8Array): void {
  Deno.mkdirSync(dirname(path), { recursive: true });
  const tmp = temporaryPathFor(path);
  try {
    const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    try {
      let written = 0;
      while (written < data.length) written += file.writeSync(data.subarray(written));
      file.syncSync();
    } finally {
      file.close();
    }
    Deno.renameSync(tmp, path);
  } catch (error) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // already gone, or never made
    }
    throw error;
  }
}

/** Renames an already written temporary file into place after flushing it. */
export async function commitTemporaryFile(tmp: string, path: string): Promise<void> {
  const file = await Deno.open(tmp, { read: true, write: true });
  try {
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.rename(tmp, path);
}

/**
 * Appends one line to a log-like file (manifest, rejects) and flushes it before returning. A
 * crash mid-append can leave at most a torn last line, which readers skip.
 */
export async function appendLineDurable(path: string, line: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const file = await Deno.open(path, { append: true, create: true });
  try {
    const bytes = new TextEncoder().encode(line.endsWith("\n") ? line : `${line}\n`);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
}
