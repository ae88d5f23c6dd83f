/**
 * The seam between the harvest engine and the in-memory scratch folder of a Deploy slice: an
 * overlay on Deno's file functions (`Deno.readFile`, `Deno.open`, `Deno.rename`, … and their
 * `Sync` forms) that serves every path under the virtual root (`/tidemark-scratch`) from a
 * {@link MemoryFs} and passes every other path to Deno unchanged.
 *
 * Why an overlay and not a file-system facade the engine imports: the engine (sinks, manifest,
 * snapshots, write modes, reports, rejects, resume) makes its file calls in some twenty-five
 * modules; a facade would have to be threaded through all of them and kept there, and a call
 * added later with plain `Deno.*` would silently write to disk — which on Deploy fails, and
 * under `--deny-write` fails the run. The overlay touches one module, the engine stays the code
 * that local runs exercise, and every call the engine makes is covered by construction. It is
 * installed only by the Deploy runner, for the time its slices work (reference-counted), and
 * `tests/deploy/memory_fs_test.ts` checks each function it serves against Deno's behaviour.
 *
 * Two engine paths do not go through `Deno.*` and are switched off for a memory out folder by
 * the harvest's `memoryOut` option: the out-folder lock (a SQLite file; the job's KV lock does
 * its work on Deploy) and the snapshot thread (a worker does not share this isolate's memory).
 * A rename or copy between the tree and the disk is refused (`NotSupported`); a relative path
 * always goes to the disk (the runner hands the engine absolute scratch paths).
 * @module
 */
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryFs } from "./memory_fs.ts";
import { concatBytes } from "../core/bytes.ts";

/** The virtual root of Deploy scratch folders. */
export const SCRATCH_ROOT = "/tidemark-scratch";

type AnyFunction = (...args: never[]) => unknown;
type Overrides = Record<string, AnyFunction>;

let installed: { fs: MemoryFs; users: number; originals: Map<string, unknown> } | null = null;

/** A path argument as a string (`file:` URLs included); null for what is not a path. */
function pathOf(path: unknown): string | null {
  if (path instanceof URL) return path.protocol === "file:" ? fileURLToPath(path) : null;
  return typeof path === "string" ? path : null;
}

/** The overrides of the functions whose first argument is the path. */
function onePath(fs: MemoryFs): Overrides {
  const text = new TextDecoder();
  const utf8 = new TextEncoder();
  const ops: Overrides = {
    readFileSync: (p: string) => fs.readFile(p),
    readTextFileSync: (p: string) => text.decode(fs.readFile(p)),
    writeFileSync: (p: string, data: Uint8Array, o?: Deno.WriteFileOptions) =>
      fs.writeFile(p, data, o),
    writeTextFileSync: (p: string, data: string, o?: Deno.WriteFileOptions) =>
      fs.writeFile(p, utf8.encode(data), o),
    mkdirSync: (p: string, o?: Deno.MkdirOptions) => fs.mkdir(p, o),
    removeSync: (p: string, o?: Deno.RemoveOptions) => fs.remove(p, o),
    statSync: (p: string) => fs.stat(p),
    lstatSync: (p: string) => fs.lstat(p),
    realPathSync: (p: string) => fs.realPath(p),
    readLinkSync: (p: string) => fs.readLink(p),
    readDirSync: (p: string) => fs.readDir(p)[Symbol.iterator](),
    openSync: (p: string, o?: Deno.OpenOptions) => fs.open(p, o),
    createSync: (p: string) =>
      fs.open(p, { read: true, write: true, create: true, truncate: true }),
    truncateSync: (p: string, len?: number) => fs.truncate(p, len),
    chmodSync: (p: string) => void fs.lstat(p),
    utimeSync: (p: string) => void fs.lstat(p),
  };
  for (const name of Object.keys(ops)) {
    const sync = ops[name];
    ops[name.slice(0, -4)] = (...args: never[]) => Promise.resolve().then(() => sync(...args));
  }
  // Streams are collected first: the tree holds whole files anyway.
  ops.writeFile = async (
    p: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    o?: Deno.WriteFileOptions,
  ) => {
    const bytes = data instanceof Uint8Array ? data : await collect(data);
    fs.writeFile(p, bytes, o);
  };
  ops.writeTextFile = async (
    p: string,
    data: string | ReadableStream<string>,
    o?: Deno.WriteFileOptions,
  ) => {
    const value = typeof data === "string" ? data : (await Array.fromAsync(data)).join("");
    fs.writeFile(p, utf8.encode(value), o);
  };
  // Like Deno's, the error of a missing folder comes with the first entry asked for.
  ops.readDir = (p: string) =>
    (async function* () {
      yield* fs.readDir(p);
    })();
  return ops;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return concatBytes(await Array.fromAsync(stream));
}

/** The functions with two paths, served when both are in the tree and refused when one is. */
function twoPaths(fs: MemoryFs): Record<string, (from: string, to: string) => void> {
  return {
    renameSync: (from, to) => fs.rename(from, to),
    copyFileSync: (from, to) => fs.copyFile(from, to),
    linkSync: (from, to) => {
      throw new Deno.errors.NotSupported(`hard links are not kept in memory: ${from} -> ${to}`);
    },
  };
}

/** Wraps `original` so that the calls naming a path of the tree go to `memory`. */
function route(fs: MemoryFs, original: AnyFunction, memory: AnyFunction): AnyFunction {
  return (...args: never[]) => {
    const path = pathOf(args[0]);
    if (path === null || !isAbsolute(path) || !fs.contains(path)) return original(...args);
    return memory(...[path, ...args.slice(1)] as never[]);
  };
}

function routeTwo(
  fs: MemoryFs,
  name: string,
  original: AnyFunction,
  memory: (from: string, to: string) => void,
): AnyFunction {
  const sync = name.endsWith("Sync");
  return (...args: never[]) => {
    const [from, to] = [pathOf(args[0]), pathOf(args[1])];
    const inside = [from, to].map((p) => p !== null && isAbsolute(p) && fs.contains(p));
    if (!inside[0] && !inside[1]) return original(...args);
    const run = () => {
      if (inside[0] !== inside[1]) {
        throw new Deno.errors.NotSupported(
          `${name.replace(/Sync$/, "")} '${from}' -> '${to}' crosses the in-memory scratch ` +
            `folder ${fs.root}; copy the bytes instead`,
        );
      }
      return memory(from!, to!);
    };
    return sync ? run() : Promise.resolve().then(run);
  };
}

/** `Deno.symlink(target, path)`: the link's own path decides where it lives. */
function routeSymlink(fs: MemoryFs, original: AnyFunction, sync: boolean): AnyFunction {
  return (...args: never[]) => {
    const path = pathOf(args[1]);
    if (path === null || !isAbsolute(path) || !fs.contains(path)) return original(...args);
    const run = () => fs.symlink(String(pathOf(args[0])), path);
    return sync ? run() : Promise.resolve().then(run);
  };
}

/** `Deno.makeTempDir`/`makeTempFile` with a `dir` in the tree. */
function routeTemp(fs: MemoryFs, original: AnyFunction, kind: "dir" | "file"): AnyFunction {
  const sync = original.name.endsWith("Sync");
  return (...args: never[]) => {
    const options = (args[0] ?? {}) as Deno.MakeTempOptions;
    if (options.dir === undefined || !fs.contains(options.dir)) return original(...args);
    const run = () => fs.makeTemp(kind, { ...options, dir: options.dir! });
    return sync ? run() : Promise.resolve().then(run);
  };
}

function overrides(fs: MemoryFs, deno: Record<string, unknown>): Record<string, AnyFunction> {
  const result: Record<string, AnyFunction> = {};
  const original = (name: string) => deno[name] as AnyFunction;
  for (const [name, memory] of Object.entries(onePath(fs))) {
    result[name] = route(fs, original(name), memory);
  }
  for (const [name, memory] of Object.entries(twoPaths(fs))) {
    result[name] = routeTwo(fs, name, original(name), memory);
    const async = name.slice(0, -4);
    result[async] = routeTwo(fs, async, original(async), memory);
  }
  result.symlink = routeSymlink(fs, original("symlink"), false);
  result.symlinkSync = routeSymlink(fs, original("symlinkSync"), true);
  result.link = routeTwo(fs, "link", original("link"), twoPaths(fs).linkSync);
  result.makeTempDir = routeTemp(fs, original("makeTempDir"), "dir");
  result.makeTempDirSync = routeTemp(fs, original("makeTempDirSync"), "dir");
  result.makeTempFile = routeTemp(fs, original("makeTempFile"), "file");
  result.makeTempFileSync = routeTemp(fs, original("makeTempFileSync"), "file");
  return result;
}

/** A use of the overlay; {@link ScratchFs.release} gives it back. */
export interface ScratchFs extends Disposable {
  /** The tree that serves paths under {@link SCRATCH_ROOT}. */
  readonly fs: MemoryFs;
  /** Ends this use; the last one restores Deno's functions and drops the tree. */
  release(): void;
}

/**
 * Installs the overlay (or joins the one installed) and returns a use of it: while any use is
 * held, paths under {@link SCRATCH_ROOT} live in memory. Uses are counted, so concurrent slices
 * share one tree (each in its own folder) and the last release restores Deno's own functions.
 *
 * @example
 * ```ts
 * import { acquireScratchFs, SCRATCH_ROOT } from "./fs_overlay.ts";
 * using scratch = acquireScratchFs();
 * await Deno.mkdir(`${SCRATCH_ROOT}/job-1`, { recursive: true });
 * await Deno.writeTextFile(`${SCRATCH_ROOT}/job-1/a.txt`, "in memory only");
 * ```
 */
export function acquireScratchFs(): ScratchFs {
  if (installed === null) {
    const fs = new MemoryFs(SCRATCH_ROOT);
    const deno = Deno as unknown as Record<string, unknown>;
    const originals = new Map<string, unknown>();
    for (const [name, fn] of Object.entries(overrides(fs, deno))) {
      originals.set(name, deno[name]);
      deno[name] = fn;
    }
    installed = { fs, users: 0, originals };
  }
  const held = installed;
  held.users++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (--held.users > 0 || installed !== held) return;
    const deno = Deno as unknown as Record<string, unknown>;
    for (const [name, fn] of held.originals) deno[name] = fn;
    installed = null;
  };
  return { fs: held.fs, release, [Symbol.dispose]: release };
}
