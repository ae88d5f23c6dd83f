/**
 * A file system that lives in this isolate's memory, under one virtual root folder
 * (`/tidemark-scratch`): folders, files and symlinks with the semantics and the errors of Deno's
 * own calls (`NotFound`, `AlreadyExists`, `IsADirectory`, `NotADirectory`, "Directory not
 * empty"), because the harvest engine branches on them. A Deploy slice harvests into a folder
 * of it (see `fs_overlay.ts` for how the engine's `Deno.*` calls reach it), so a run writes no
 * file: its bytes live here until `OutMirror` copies them to the bucket.
 * @module
 */
import { posix } from "node:path";
import { MemoryFile, type OpenFlags } from "./memory_file.ts";
import {
  type DirNode,
  type FileNode,
  fsError,
  info,
  type MemoryNode,
  newNode,
  stamp,
} from "./memory_node.ts";

/** Where a path leads: its parent folder, its last name, and the node there if any. */
interface Found {
  path: string;
  parent: DirNode | null;
  name: string;
  node: MemoryNode | undefined;
}

/** Options of {@link MemoryFs.open}, as `Deno.open` takes them. */
export type OpenOptions = Deno.OpenOptions;

/** A tree of folders and files in memory under `root`; see the module doc. */
export class MemoryFs {
  /** The virtual root folder: every path under it lives here. */
  readonly root: string;
  readonly #top: DirNode = newNode("dir");

  /** An empty tree under `root` (an absolute folder path that exists on no disk). */
  constructor(root = "/tidemark-scratch") {
    this.root = posix.normalize(root).replace(/\/$/, "");
  }

  /** Whether `path` (absolute) is the root or under it. */
  contains(path: string): boolean {
    if (!path.startsWith("/")) return false;
    const normal = posix.normalize(path);
    return normal === this.root || normal.startsWith(`${this.root}/`);
  }

  /** Bytes held by the files of the tree (not their spare capacity). */
  bytes(): number {
    let total = 0;
    const walk = (dir: DirNode): void => {
      for (const node of dir.entries.values()) {
        if (node.kind === "file") total += node.size;
        else if (node.kind === "dir") walk(node);
      }
    };
    walk(this.#top);
    return total;
  }

  /**
   * Finds `path`, following symlinks in its folders, and in its last name too when `follow`.
   * Throws `ENOENT`/`ENOTDIR` when a folder on the way is missing or a file.
   */
  #find(path: string, op: string, follow: boolean, hops = 0): Found {
    const normal = posix.normalize(path).replace(/(.)\/$/, "$1");
    if (!this.contains(normal)) throw fsError("EOUTSIDE", op, path);
    if (normal === this.root) return { path: normal, parent: null, name: "", node: this.#top };
    const names = normal.slice(this.root.length + 1).split("/");
    let dir = this.#top;
    let at = this.root;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const node = dir.entries.get(name);
      const last = i === names.length - 1;
      if (node?.kind === "link" && (!last || follow)) {
        if (hops >= 40) throw fsError("ELOOP", op, path);
        const rest = names.slice(i + 1);
        const target = posix.resolve(at, node.target, ...rest);
        return this.#find(target, op, follow, hops + 1);
      }
      if (last) return { path: `${at}/${name}`, parent: dir, name, node };
      if (node === undefined) throw fsError("ENOENT", op, path);
      if (node.kind !== "dir") throw fsError("ENOTDIR", op, path);
      dir = node;
      at = `${at}/${name}`;
    }
    throw fsError("ENOENT", op, path);
  }

  #existing(path: string, op: string, follow = true): Found & { node: MemoryNode } {
    const found = this.#find(path, op, follow);
    if (found.node === undefined) throw fsError("ENOENT", op, path);
    return found as Found & { node: MemoryNode };
  }

  /** `Deno.stat`: follows symlinks. */
  stat(path: string): Deno.FileInfo {
    return info(this.#existing(path, "stat").node);
  }

  /** `Deno.lstat`: a symlink itself. */
  lstat(path: string): Deno.FileInfo {
    return info(this.#existing(path, "lstat", false).node);
  }

  /** `Deno.realPath`: the path with every symlink resolved. */
  realPath(path: string): string {
    return this.#existing(path, "realpath").path;
  }

  /** `Deno.readFile`: a copy of the bytes. */
  readFile(path: string): Uint8Array {
    const { node } = this.#existing(path, "readfile");
    if (node.kind === "dir") throw fsError("EISDIR", "readfile", path);
    return (node as FileNode).data.slice(0, (node as FileNode).size);
  }

  /** `Deno.writeFile` with its `append`, `create` and `createNew` options. */
  writeFile(path: string, data: Uint8Array, options: Deno.WriteFileOptions = {}): void {
    const file = this.open(path, {
      write: true,
      append: options.append,
      truncate: !options.append,
      create: options.create ?? true,
      createNew: options.createNew,
    }, "writefile");
    file.writeSync(data);
    file.close();
  }

  /** `Deno.open`: a file object over the node (kept alive by it after a rename or remove). */
  open(path: string, options: OpenOptions = { read: true }, op = "open"): MemoryFile {
    const flags = checkOpenOptions(options);
    const found = this.#find(path, op, true);
    if (found.node !== undefined && options.createNew) throw fsError("EEXIST", op, path);
    let node: MemoryNode;
    if (found.node === undefined) {
      if (!options.create && !options.createNew) throw fsError("ENOENT", op, path);
      node = newNode("file");
      found.parent!.entries.set(found.name, node);
      found.parent!.mtime = stamp();
    } else node = found.node;
    if (node.kind !== "file") throw fsError("EISDIR", op, path);
    const file = node;
    if (options.truncate && file.size > 0) {
      file.size = 0;
      file.mtime = stamp();
    }
    return new MemoryFile(file, flags);
  }

  /** `Deno.truncate`. */
  truncate(path: string, length = 0): void {
    const file = this.open(path, { write: true }, "truncate");
    file.truncateSync(length);
    file.close();
  }

  /** `Deno.mkdir` with `recursive`. */
  mkdir(path: string, options: Deno.MkdirOptions = {}): void {
    const found = options.recursive ? this.#findMaking(path) : this.#find(path, "mkdir", true);
    if (found.node !== undefined) {
      if (options.recursive && found.node.kind === "dir") return;
      throw fsError("EEXIST", "mkdir", path);
    }
    found.parent!.entries.set(found.name, newNode("dir"));
    found.parent!.mtime = stamp();
  }

  /** {@link MemoryFs.#find} that makes the missing folders on the way. */
  #findMaking(path: string): Found {
    try {
      return this.#find(path, "mkdir", true);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const parent = posix.dirname(posix.normalize(path));
    if (parent === path || !this.contains(parent)) throw fsError("ENOENT", "mkdir", path);
    const above = this.#findMaking(parent);
    if (above.node !== undefined && above.node.kind !== "dir") {
      throw fsError("ENOTDIR", "mkdir", path);
    }
    if (above.node === undefined) this.mkdir(parent);
    return this.#find(path, "mkdir", true);
  }

  /** `Deno.remove` with `recursive`; a symlink is removed, not what it points at. */
  remove(path: string, options: Deno.RemoveOptions = {}): void {
    const found = this.#existing(path, "remove", false);
    if (found.parent === null) throw fsError("EROOT", "remove", path);
    const { node } = found;
    if (node.kind === "dir" && node.entries.size > 0 && !options.recursive) {
      throw fsError("ENOTEMPTY", "remove", path);
    }
    found.parent.entries.delete(found.name);
    found.parent.mtime = stamp();
  }

  /** `Deno.rename`: replaces a file, or an empty folder by a folder, in one step. */
  rename(from: string, to: string): void {
    let source: Found & { node: MemoryNode };
    let target: Found;
    try {
      source = this.#existing(from, "rename", false);
      target = this.#find(to, "rename", false);
    } catch (error) {
      // Deno names both paths of a failed rename.
      if (error instanceof Error) error.message = error.message.replace(/'$/, `' -> '${to}'`);
      throw error;
    }
    if (source.parent === null || target.parent === null) {
      throw fsError("EROOT", "rename", from, to);
    }
    const old = target.node;
    if (old !== undefined && old !== source.node) {
      if (old.kind === "dir" && source.node.kind !== "dir") {
        throw fsError("EISDIR", "rename", from, to);
      }
      if (source.node.kind === "dir" && old.kind !== "dir") {
        throw fsError("ENOTDIR", "rename", from, to);
      }
      if (old.kind === "dir" && old.entries.size > 0) {
        throw fsError("ENOTEMPTY", "rename", from, to);
      }
    }
    if (source.node.kind === "dir" && `${target.path}/`.startsWith(`${source.path}/`)) {
      if (target.path !== source.path) throw fsError("EINVAL", "rename", from, to);
    }
    source.parent.entries.delete(source.name);
    target.parent.entries.set(target.name, source.node);
    source.parent.mtime = target.parent.mtime = stamp();
  }

  /** `Deno.copyFile`. */
  copyFile(from: string, to: string): void {
    this.writeFile(to, this.readFile(from));
  }

  /** `Deno.readDir` (entries in name order; a symlink is reported as one). */
  readDir(path: string): Deno.DirEntry[] {
    const { node } = this.#existing(path, "readdir");
    if (node.kind !== "dir") throw fsError("ENOTDIR", "readdir", path);
    return [...node.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map((
      [name, entry],
    ) => ({
      name,
      isFile: entry.kind === "file",
      isDirectory: entry.kind === "dir",
      isSymlink: entry.kind === "link",
    }));
  }

  /** `Deno.symlink`: `path` becomes a link to `target` (relative to the link's folder). */
  symlink(target: string, path: string): void {
    const found = this.#find(path, "symlink", false);
    if (found.node !== undefined || found.parent === null) {
      throw fsError("EEXIST", "symlink", target, path);
    }
    const link = newNode("link");
    link.target = target;
    found.parent.entries.set(found.name, link);
    found.parent.mtime = stamp();
  }

  /** `Deno.readLink`. */
  readLink(path: string): string {
    const { node } = this.#existing(path, "readlink", false);
    if (node.kind !== "link") throw fsError("EINVAL", "readlink", path);
    return node.target;
  }

  /** `Deno.makeTempDir`/`makeTempFile` under a folder of the tree. */
  makeTemp(kind: "dir" | "file", options: Deno.MakeTempOptions & { dir: string }): string {
    for (;;) {
      const random = crypto.randomUUID().slice(0, 8);
      const path = posix.join(
        options.dir,
        `${options.prefix ?? ""}${random}${options.suffix ?? ""}`,
      );
      if (this.#find(path, "mkdtemp", true).node !== undefined) continue;
      if (kind === "dir") this.mkdir(path);
      else this.writeFile(path, new Uint8Array(0), { createNew: true });
      return path;
    }
  }
}

/** The flags of `Deno.open` options, checked as Deno checks them. */
function checkOpenOptions(options: OpenOptions): OpenFlags {
  const write = options.write === true || options.append === true;
  if ((options.create || options.createNew) && !write) {
    throw new Error("'create' or 'createNew' options require 'write' or 'append' to be true");
  }
  if (options.truncate && !write) {
    throw new Error("'truncate' option requires 'write' to be true");
  }
  return {
    read: options.read ?? (!write),
    write,
    append: options.append === true,
  };
}
