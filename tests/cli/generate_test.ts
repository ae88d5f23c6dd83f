import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { command } from "../../lib/cli/generate.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { tempFolders } from "../temp_dir.ts";

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

const withTempDir = tempFolders("tidemark-generate-");

Deno.test("generate northwind writes a SQLite file with 830 orders and 2155 lines", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "sub", "nw.sqlite");
    assertEquals(await quietly(() => command.run(["northwind", "--out", out])), 0);
    const db = new DatabaseSync(out, { readOnly: true });
    try {
      const count = (table: string) =>
        (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
      assertEquals([count("Orders"), count("Order Details")], [830, 2155]);
    } finally {
      db.close();
    }
    assertEquals([...Deno.readDirSync(join(dir, "sub"))].map((e) => e.name), ["nw.sqlite"]);
  });
});

Deno.test("generate with the same scale and seed writes byte-identical files", async () => {
  await withTempDir(async (dir) => {
    const [a, b] = [join(dir, "a.sqlite"), join(dir, "b.sqlite")];
    await quietly(() => command.run(["northwind", "--scale", "2", "--seed", "7", "--out", a]));
    await quietly(() => command.run(["northwind", "--scale", "2", "--seed", "7", "--out", b]));
    assertEquals(await Deno.readFile(a), await Deno.readFile(b));
  });
});

Deno.test("generate refuses an existing file without --force and replaces it with it", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "nw.sqlite");
    await Deno.writeTextFile(out, "keep me");
    await assertRejects(() => command.run(["northwind", "--out", out]), UsageError, "--force");
    assertEquals(await Deno.readTextFile(out), "keep me");
    await quietly(() => command.run(["northwind", "--out", out, "--force"]));
    assert((await Deno.stat(out)).size > 10_000);
  });
});

Deno.test("generate refuses bad arguments with exit code 2 before writing", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "nw.sqlite");
    for (
      const [args, part] of [
        [["northwind", "--out", out, "--scale=-1"], '"-1"'],
        [["northwind", "--out", out, "--scale", "abc"], '"abc"'],
        [["planets", "--out", out], '"planets"'],
        [["northwind"], "--out"],
        [[], "northwind"],
      ] as const
    ) {
      const error = await assertRejects(() => command.run([...args]), UsageError, part);
      assertEquals(error.exitCode, 2);
    }
    assertEquals([...Deno.readDirSync(dir)], []);
  });
});
