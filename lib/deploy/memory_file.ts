/**
 * An open file of the in-memory file system (`memory_fs.ts`), shaped like `Deno.FsFile` as the
 * harvest engine uses it: read, write (at the position, or at the end in append mode), seek,
 * truncate, stat, sync, close, `using`, and the `readable`/`writable` streams. Like a POSIX file
 * descriptor it keeps its node: a file renamed or removed while open is still read and written.
 * @module
 */
import { type FileNode, info, reserve, stamp } from "./memory_node.ts";

/** What a file was opened for. */
export interface OpenFlags {
  read: boolean;
  write: boolean;
  append: boolean;
}

function badDescriptor(): Error {
  return Object.assign(new Error("Bad file descriptor (os error 9)"), { code: "EBADF" });
}

/** An open in-memory file; see the module doc. */
export class MemoryFile implements Disposable {
  readonly #node: FileNode;
  readonly #flags: OpenFlags;
  #position = 0;
  #closed = false;

  /** A file open on `node` with `flags` (made by `MemoryFs.open`). */
  constructor(node: FileNode, flags: OpenFlags) {
    this.#node = node;
    this.#flags = flags;
  }

  #open(): FileNode {
    if (this.#closed) throw new Deno.errors.BadResource("Bad resource ID");
    return this.#node;
  }

  /** Writes `p` at the position (the end in append mode); returns `p.length`. */
  writeSync(p: Uint8Array): number {
    const node = this.#open();
    if (!this.#flags.write) throw badDescriptor();
    if (this.#flags.append) this.#position = node.size;
    const end = this.#position + p.length;
    reserve(node, end);
    if (this.#position > node.size) node.data.fill(0, node.size, this.#position);
    node.data.set(p, this.#position);
    node.size = Math.max(node.size, end);
    node.mtime = stamp();
    this.#position = end;
    return p.length;
  }

  /** {@link MemoryFile.writeSync}, as a promise. */
  write(p: Uint8Array): Promise<number> {
    return Promise.resolve().then(() => this.writeSync(p));
  }

  /** Reads into `p` from the position; null at the end of the file. */
  readSync(p: Uint8Array): number | null {
    const node = this.#open();
    if (!this.#flags.read) throw badDescriptor();
    if (p.length === 0) return 0;
    const n = Math.min(p.length, node.size - this.#position);
    if (n <= 0) return null;
    p.set(node.data.subarray(this.#position, this.#position + n));
    this.#position += n;
    return n;
  }

  /** {@link MemoryFile.readSync}, as a promise. */
  read(p: Uint8Array): Promise<number | null> {
    return Promise.resolve().then(() => this.readSync(p));
  }

  /** Moves the position; returns it. */
  seekSync(offset: number | bigint, whence: Deno.SeekMode): number {
    const node = this.#open();
    const base = whence === Deno.SeekMode.Start
      ? 0
      : whence === Deno.SeekMode.Current
      ? this.#position
      : node.size;
    const next = base + Number(offset);
    if (next < 0) {
      throw Object.assign(new TypeError("Invalid argument (os error 22)"), { code: "EINVAL" });
    }
    this.#position = next;
    return next;
  }

  /** {@link MemoryFile.seekSync}, as a promise. */
  seek(offset: number | bigint, whence: Deno.SeekMode): Promise<number> {
    return Promise.resolve().then(() => this.seekSync(offset, whence));
  }

  /** Cuts (or zero-extends) the file to `len` bytes; the position stays. */
  truncateSync(len = 0): void {
    const node = this.#open();
    if (!this.#flags.write) throw badDescriptor();
    reserve(node, len);
    if (len > node.size) node.data.fill(0, node.size, len);
    node.size = len;
    node.mtime = stamp();
  }

  /** {@link MemoryFile.truncateSync}, as a promise. */
  truncate(len?: number): Promise<void> {
    return Promise.resolve().then(() => this.truncateSync(len));
  }

  /** The file's info. */
  statSync(): Deno.FileInfo {
    return info(this.#open());
  }

  /** {@link MemoryFile.statSync}, as a promise. */
  stat(): Promise<Deno.FileInfo> {
    return Promise.resolve().then(() => this.statSync());
  }

  /** Nothing to flush: memory is the medium (the bucket upload is the durable step). */
  syncSync(): void {
    this.#open();
  }

  /** {@link MemoryFile.syncSync}, as a promise. */
  sync(): Promise<void> {
    return Promise.resolve().then(() => this.syncSync());
  }

  /** Like {@link MemoryFile.syncSync}. */
  syncDataSync(): void {
    this.#open();
  }

  /** Like {@link MemoryFile.sync}. */
  syncData(): Promise<void> {
    return this.sync();
  }

  /** Sets the modification time (the access time is not kept). */
  utimeSync(_atime: number | Date, mtime: number | Date): void {
    this.#open().mtime = typeof mtime === "number" ? mtime * 1000 : mtime.getTime();
  }

  /** {@link MemoryFile.utimeSync}, as a promise. */
  utime(atime: number | Date, mtime: number | Date): Promise<void> {
    return Promise.resolve().then(() => this.utimeSync(atime, mtime));
  }

  /** Locks are a no-op: one isolate owns the tree, and the job's KV lock guards the run. */
  lock(_exclusive?: boolean): Promise<void> {
    return Promise.resolve().then(() => void this.#open());
  }

  /** See {@link MemoryFile.lock}. */
  unlock(): Promise<void> {
    return this.lock();
  }

  /** Never a terminal. */
  isTerminal(): boolean {
    return false;
  }

  /** Closes the file; later calls throw `BadResource`. */
  close(): void {
    this.#open();
    this.#closed = true;
  }

  /** Closes the file at the end of a `using` block, if still open. */
  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  /** The rest of the file from the position, as a stream that closes the file at its end. */
  get readable(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: (controller) => {
        const chunk = new Uint8Array(64 * 1024);
        const n = this.readSync(chunk);
        if (n === null) {
          this[Symbol.dispose]();
          controller.close();
        } else controller.enqueue(chunk.subarray(0, n));
      },
      cancel: () => this[Symbol.dispose](),
    });
  }

  /** A stream writing at the position; closing or aborting it closes the file. */
  get writable(): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>({
      write: (chunk) => void this.writeSync(chunk),
      close: () => this[Symbol.dispose](),
      abort: () => this[Symbol.dispose](),
    });
  }
}
