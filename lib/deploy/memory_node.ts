/**
 * The nodes of the in-memory file system (`memory_fs.ts`): files, folders and symlinks, their
 * `Deno.FileInfo`, and errors of the class and message Deno gives for the same failure.
 *
 * Modification times are strictly increasing (one millisecond apart at least), so two writes of
 * the same size within one millisecond still give the mirror two signatures.
 * @module
 */

/** A file: `data` holds `size` bytes (its capacity grows by doubling). */
export interface FileNode {
  kind: "file";
  ino: number;
  mtime: number;
  birthtime: number;
  data: Uint8Array;
  size: number;
}
let lastStamp = 0;

/** A modification time later than every one given before. */
export function stamp(): number {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  return lastStamp;
}

/** Makes room for `size` bytes in `file`, keeping its content. */
export function reserve(file: FileNode, size: number): void {
  if (file.data.length >= size) return;
  const grown = new Uint8Array(Math.max(size, file.data.length * 2, 256));
  grown.set(file.data.subarray(0, file.size));
  file.data = grown;
}

/** A folder. */
export interface DirNode {
  kind: "dir";
  ino: number;
  mtime: number;
  birthtime: number;
  entries: Map<string, MemoryNode>;
}
/** A symlink. */
export interface LinkNode {
  kind: "link";
  ino: number;
  mtime: number;
  birthtime: number;
  target: string;
}
/** Any node of the tree. */
export type MemoryNode = FileNode | DirNode | LinkNode;

let lastIno = 0;

/** An error of the class and message Deno gives for the same failure. */
export function fsError(code: string, op: string, path: string, to?: string): Error {
  const where = `${op} '${path}'${to === undefined ? "" : ` -> '${to}'`}`;
  switch (code) {
    case "ENOENT":
      return new Deno.errors.NotFound(`No such file or directory (os error 2): ${where}`);
    case "EEXIST":
      return new Deno.errors.AlreadyExists(`File exists (os error 17): ${where}`);
    case "ENOTDIR":
      return new Deno.errors.NotADirectory(`Not a directory (os error 20): ${where}`);
    case "EISDIR":
      return new Deno.errors.IsADirectory(`Is a directory (os error 21): ${where}`);
    case "ENOTEMPTY":
      return Object.assign(new Error(`Directory not empty (os error 39): ${where}`), { code });
    case "ELOOP":
      return new Deno.errors.FilesystemLoop(`Too many levels of symbolic links: ${where}`);
    case "EINVAL":
      return Object.assign(new TypeError(`Invalid argument (os error 22): ${where}`), { code });
    case "EOUTSIDE":
      return new Deno.errors.NotSupported(`${where}: the path is outside the in-memory folder`);
    default: // "EROOT"
      return new Deno.errors.NotSupported(`${where}: the in-memory root itself cannot change`);
  }
}

/** A new, empty node of `kind`. */
export function newNode<K extends MemoryNode["kind"]>(kind: K): MemoryNode & { kind: K } {
  const now = stamp();
  const base = { ino: ++lastIno, mtime: now, birthtime: now };
  if (kind === "file") return { ...base, kind, data: new Uint8Array(0), size: 0 } as never;
  if (kind === "dir") return { ...base, kind, entries: new Map() } as never;
  return { ...base, kind, target: "" } as never;
}

/** The `Deno.FileInfo` of a node. */
export function info(node: MemoryNode): Deno.FileInfo {
  const size = node.kind === "file" ? node.size : node.kind === "link" ? node.target.length : 0;
  return {
    isFile: node.kind === "file",
    isDirectory: node.kind === "dir",
    isSymlink: node.kind === "link",
    size,
    mtime: new Date(node.mtime),
    atime: new Date(node.mtime),
    birthtime: new Date(node.birthtime),
    ctime: new Date(node.mtime),
    dev: 0,
    ino: node.ino,
    mode: node.kind === "dir" ? 0o40755 : node.kind === "link" ? 0o120777 : 0o100644,
    nlink: 1,
    uid: 0,
    gid: 0,
    rdev: 0,
    blksize: 4096,
    blocks: Math.ceil(size / 512),
    isBlockDevice: false,
    isCharDevice: false,
    isFifo: false,
    isSocket: false,
  } as Deno.FileInfo;
}
