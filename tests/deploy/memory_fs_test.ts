/**
 * The in-memory scratch folder of Deploy slices (`lib/deploy/fs_overlay.ts`): every `Deno.*`
 * file function the harvest engine calls gives, for a path under the virtual root, the same
 * results and the same errors (class and message) as Deno gives on disk — the engine branches
 * on `NotFound` and `AlreadyExists` — while paths elsewhere still reach the disk.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { acquireScratchFs, SCRATCH_ROOT } from "../../lib/deploy/fs_overlay.ts";

type Step = [string, (base: string) => unknown];

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Calls in the order the engine makes them: atomic writes, appends, manifests, write modes. */
const STEPS: Step[] = [
  ["mkdir", (b) => Deno.mkdir(`${b}/a`)],
  ["mkdir again", (b) => Deno.mkdir(`${b}/a`)],
  ["mkdir recursive on it", (b) => Deno.mkdir(`${b}/a`, { recursive: true })],
  ["mkdir missing parent", (b) => Deno.mkdir(`${b}/x/y`)],
  ["mkdir recursive deep", (b) => Deno.mkdirSync(`${b}/a/b/c`, { recursive: true })],
  ["writeFile", (b) => Deno.writeFile(`${b}/a/f.bin`, utf8.encode("hello"))],
  ["writeFile append", (b) => Deno.writeFile(`${b}/a/f.bin`, utf8.encode("!"), { append: true })],
  [
    "writeFile createNew",
    (b) => Deno.writeFile(`${b}/a/f.bin`, utf8.encode("x"), { createNew: true }),
  ],
  [
    "writeFile no create",
    (b) => Deno.writeFile(`${b}/a/none`, utf8.encode("x"), { create: false }),
  ],
  ["writeFile on a folder", (b) => Deno.writeFile(`${b}/a`, utf8.encode("x"))],
  ["writeFile under a file", (b) => Deno.writeFile(`${b}/a/f.bin/z`, utf8.encode("x"))],
  ["readFile", async (b) => text.decode(await Deno.readFile(`${b}/a/f.bin`))],
  ["readFile missing", (b) => Deno.readFile(`${b}/a/missing`)],
  ["readFile a folder", (b) => Deno.readFile(`${b}/a`)],
  ["writeTextFile", (b) => Deno.writeTextFile(`${b}/a/t.txt`, "line 1\n")],
  ["writeTextFile append", (b) => Deno.writeTextFile(`${b}/a/t.txt`, "line 2\n", { append: true })],
  ["readTextFile", (b) => Deno.readTextFile(`${b}/a/t.txt`)],
  ["readTextFileSync", (b) => Deno.readTextFileSync(`${b}/a/t.txt`)],
  ["stat file", (b) => Deno.stat(`${b}/a/f.bin`)],
  ["stat folder", (b) => Deno.stat(`${b}/a`)],
  ["stat missing", (b) => Deno.stat(`${b}/nope`)],
  ["stat under a file", (b) => Deno.stat(`${b}/a/f.bin/x`)],
  ["statSync file", (b) => Deno.statSync(`${b}/a/t.txt`)],
  ["lstat file", (b) => Deno.lstat(`${b}/a/f.bin`)],
  ["readDir", (b) => Array.fromAsync(Deno.readDir(`${b}/a`))],
  ["readDirSync", (b) => [...Deno.readDirSync(`${b}/a`)]],
  ["readDir missing", (b) => Array.fromAsync(Deno.readDir(`${b}/nope`))],
  ["readDir a file", (b) => Array.fromAsync(Deno.readDir(`${b}/a/f.bin`))],
  ["open missing", (b) => Deno.open(`${b}/a/missing`, { read: true })],
  ["open createNew existing", (b) => Deno.open(`${b}/a/f.bin`, { write: true, createNew: true })],
  ["open create without write", (b) => Deno.open(`${b}/a/q`, { create: true })],
  ["open truncate without write", (b) => Deno.open(`${b}/a/f.bin`, { read: true, truncate: true })],
  ["open, write, seek, read, truncate, stat", async (b) => {
    const file = await Deno.open(`${b}/a/rw.bin`, { read: true, write: true, create: true });
    const seen: unknown[] = [await file.write(utf8.encode("0123456789"))];
    seen.push(await file.seek(2, Deno.SeekMode.Start));
    const buffer = new Uint8Array(4);
    seen.push(await file.read(buffer), text.decode(buffer));
    seen.push(await file.seek(-3, Deno.SeekMode.End), await file.seek(1, Deno.SeekMode.Current));
    await file.truncate(6);
    seen.push((await file.stat()).size, await file.read(buffer));
    await file.seek(8, Deno.SeekMode.Start);
    await file.write(utf8.encode("Z"));
    await file.sync();
    await file.syncData();
    file.close();
    seen.push(Array.from(await Deno.readFile(`${b}/a/rw.bin`)));
    return seen;
  }],
  ["open append writes at the end whatever the position", async (b) => {
    const file = await Deno.open(`${b}/a/t.txt`, { append: true, create: true });
    await file.seek(0, Deno.SeekMode.Start);
    await file.write(utf8.encode("line 3\n"));
    file.close();
    return await Deno.readTextFile(`${b}/a/t.txt`);
  }],
  ["openSync, writeSync, syncSync", (b) => {
    const file = Deno.openSync(`${b}/a/s.bin`, { write: true, create: true, truncate: true });
    const n = file.writeSync(utf8.encode("sync"));
    file.syncSync();
    file.close();
    return [n, Deno.readTextFileSync(`${b}/a/s.bin`)];
  }],
  ["read a write-only file", async (b) => {
    using file = await Deno.open(`${b}/a/s.bin`, { write: true });
    return await file.read(new Uint8Array(2));
  }],
  ["use a closed file", async (b) => {
    const file = await Deno.open(`${b}/a/s.bin`);
    file.close();
    return await file.read(new Uint8Array(2));
  }],
  ["readable and writable streams", async (b) => {
    const out = await Deno.open(`${b}/a/stream.txt`, { write: true, create: true });
    await ReadableStream.from([utf8.encode("str"), utf8.encode("eam")]).pipeTo(out.writable);
    const input = await Deno.open(`${b}/a/stream.txt`);
    return (await Array.fromAsync(input.readable)).map((c) => text.decode(c)).join("");
  }],
  ["rename a file over a file", async (b) => {
    await Deno.writeTextFile(`${b}/a/tmp`, "new");
    await Deno.rename(`${b}/a/tmp`, `${b}/a/t.txt`);
    return [await Deno.readTextFile(`${b}/a/t.txt`), await Deno.stat(`${b}/a/tmp`).catch(String)];
  }],
  ["rename a file over a folder", (b) => Deno.rename(`${b}/a/t.txt`, `${b}/a/b`)],
  ["rename a folder over a non-empty folder", (b) => Deno.rename(`${b}/a/b`, `${b}/a`)],
  ["rename a folder over an empty folder", async (b) => {
    await Deno.mkdir(`${b}/empty`);
    await Deno.rename(`${b}/a/b`, `${b}/empty`);
    return Array.fromAsync(Deno.readDir(`${b}/empty`));
  }],
  ["renameSync missing", (b) => Deno.renameSync(`${b}/none`, `${b}/other`)],
  ["rename keeps an open file", async (b) => {
    const file = await Deno.open(`${b}/a/s.bin`, { read: true, write: true });
    await Deno.rename(`${b}/a/s.bin`, `${b}/a/moved.bin`);
    await file.write(utf8.encode("S"));
    file.close();
    return await Deno.readTextFile(`${b}/a/moved.bin`);
  }],
  ["copyFile", async (b) => {
    await Deno.copyFile(`${b}/a/moved.bin`, `${b}/a/copy.bin`);
    return await Deno.readTextFile(`${b}/a/copy.bin`);
  }],
  ["truncate", async (b) => {
    await Deno.truncate(`${b}/a/copy.bin`, 2);
    return await Deno.readTextFile(`${b}/a/copy.bin`);
  }],
  ["symlink, readLink, realPath, lstat, stat through it", async (b) => {
    await Deno.mkdir(`${b}/gen/0001`, { recursive: true });
    await Deno.writeTextFile(`${b}/gen/0001/part.txt`, "gen 1");
    await Deno.symlink("gen/0001", `${b}/asset`);
    return [
      await Deno.readLink(`${b}/asset`),
      (await Deno.realPath(`${b}/asset/part.txt`)).endsWith("/gen/0001/part.txt"),
      await Deno.lstat(`${b}/asset`),
      await Deno.stat(`${b}/asset`),
      await Deno.readTextFile(`${b}/asset/part.txt`),
      await Array.fromAsync(Deno.readDir(b)),
    ];
  }],
  ["symlink over an existing name", (b) => Deno.symlink("gen/0001", `${b}/asset`)],
  ["readLink of a file", (b) => Deno.readLink(`${b}/a/copy.bin`)],
  ["rename a new link over the old one switches it", async (b) => {
    await Deno.mkdir(`${b}/gen/0002`);
    await Deno.writeTextFile(`${b}/gen/0002/part.txt`, "gen 2");
    await Deno.symlink("gen/0002", `${b}/asset.link.tmp`);
    await Deno.rename(`${b}/asset.link.tmp`, `${b}/asset`);
    return await Deno.readTextFile(`${b}/asset/part.txt`);
  }],
  ["remove a link leaves its target", async (b) => {
    await Deno.remove(`${b}/asset`);
    return await Deno.readTextFile(`${b}/gen/0002/part.txt`);
  }],
  ["remove a non-empty folder", (b) => Deno.remove(`${b}/gen`)],
  ["removeSync missing", (b) => Deno.removeSync(`${b}/none`)],
  ["remove recursive", async (b) => {
    await Deno.remove(`${b}/gen`, { recursive: true });
    return await Deno.stat(`${b}/gen`).catch((e) => e.constructor.name);
  }],
  ["makeTempFile in a folder", async (b) => {
    const path = await Deno.makeTempFile({ dir: `${b}/a`, prefix: "p-", suffix: ".tmp" });
    return [path.startsWith(`${b}/a/p-`), path.endsWith(".tmp"), (await Deno.stat(path)).size];
  }],
];

/** A result or error with `base` taken out, and file infos reduced to what both can agree on. */
function describe(value: unknown, base: string): unknown {
  if (value instanceof Error) {
    // Deno names the call and path after "(os error N)" under some permission flags only.
    const message = value.message.replaceAll(base, "<base>").replace(
      /(\(os error \d+\)):.*$/,
      "$1",
    );
    return `${value.constructor.name}: ${message}`;
  }
  if (Array.isArray(value)) {
    const items = value.map((v) => describe(v, base));
    const named = value.every((v) => typeof v?.name === "string" && "isFile" in v);
    return named ? items.sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1) : items;
  }
  if (value !== null && typeof value === "object" && "isFile" in value) {
    const info = value as Deno.FileInfo & { name?: string };
    const kind = info.isSymlink ? "link" : info.isDirectory ? "dir" : "file";
    return { name: info.name, kind, size: kind === "file" ? info.size : undefined };
  }
  if (typeof value === "string") return value.replaceAll(base, "<base>");
  if (value instanceof Uint8Array) return text.decode(value);
  return value ?? null;
}

async function outcomes(base: string): Promise<string[]> {
  const seen: string[] = [];
  for (const [name, step] of STEPS) {
    try {
      seen.push(`${name} → ${JSON.stringify(describe(await step(base), base))}`);
    } catch (error) {
      seen.push(`${name} ✗ ${describe(error, base)}`);
    }
  }
  return seen;
}

Deno.test("each file call the engine makes gives the same result and error in memory as on disk", async () => {
  using _scratch = acquireScratchFs();
  // The disk run goes through the installed overlay too: other paths pass through unchanged.
  const disk = await Deno.makeTempDir({ prefix: "tidemark-memfs-" });
  try {
    const onDisk = await outcomes(disk);
    await Deno.mkdir(`${SCRATCH_ROOT}/t`, { recursive: true });
    const inMemory = await outcomes(`${SCRATCH_ROOT}/t`);
    assertEquals(inMemory, onDisk);
  } finally {
    await Deno.remove(disk, { recursive: true });
  }
});

Deno.test("nothing of the scratch folder reaches the disk, and the last release restores Deno", async () => {
  const scratch = acquireScratchFs();
  const second = acquireScratchFs();
  await Deno.writeTextFile(`${SCRATCH_ROOT}/only-here.txt`, "memory");
  scratch.release();
  assertEquals(await Deno.readTextFile(`${SCRATCH_ROOT}/only-here.txt`), "memory");
  assertEquals(second.fs.bytes(), 6);
  second.release();
  await assertRejects(() => Deno.stat(`${SCRATCH_ROOT}/only-here.txt`), Deno.errors.NotFound);
});

Deno.test("a rename between the memory folder and the disk is refused, naming both paths", async () => {
  using _scratch = acquireScratchFs();
  await Deno.writeTextFile(`${SCRATCH_ROOT}/x.txt`, "x");
  const error = await assertRejects(
    () => Deno.rename(`${SCRATCH_ROOT}/x.txt`, "/tmp/tidemark-never-written.txt"),
    Deno.errors.NotSupported,
  );
  assert(error.message.includes("/tmp/tidemark-never-written.txt"));
  assert(error.message.includes(SCRATCH_ROOT));
});

Deno.test("modification times grow with every write, so equal sizes still differ for the mirror", async () => {
  using _scratch = acquireScratchFs();
  const path = `${SCRATCH_ROOT}/m.txt`;
  const times: number[] = [];
  for (const body of ["aa", "bb", "cc"]) {
    await Deno.writeTextFile(path, body);
    times.push((await Deno.stat(path)).mtime!.getTime());
  }
  assert(times[0] < times[1] && times[1] < times[2], `strictly increasing: ${times}`);
});
