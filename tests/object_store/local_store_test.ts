import { createHash } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../../lib/core/errors.ts";
import { openObjectStore } from "../../lib/object_store/mod.ts";
import { assertEquals, assertRejects } from "../assert.ts";
import { patternFile, RecordingClock } from "./s3_fixture.ts";

const LOAD = "load_date=2026-11-23/load_time=101500";

async function withFolders(test: (source: string, lake: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-local-store-" });
  try {
    await Deno.mkdir(join(dir, "out"));
    await test(join(dir, "out"), join(dir, "lake"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a plain folder destination copies the file under the timestamped key, verified", async () => {
  await withFolders(async (source, lake) => {
    await using store = await openObjectStore(lake, { clock: new RecordingClock() });
    const path = await patternFile(source, "part-r1-00001.parquet", 5000);
    const bytes = await Deno.readFile(path);
    const object = await store.upload(path, "Order Details/part-r1-00001.parquet");
    const key = `Order Details/${LOAD}/part-r1-00001.parquet`;
    const target = join(lake, "Order Details", LOAD, "part-r1-00001.parquet");
    assertEquals(object, {
      url: pathToFileURL(target).href,
      key,
      etag: createHash("md5").update(bytes).digest("hex"),
      size: 5000,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      parts: 1,
    });
    assertEquals(await Deno.readFile(target), bytes);
  });
});

Deno.test("a file:// destination lists its objects by prefix and skips leftover temporary files", async () => {
  await withFolders(async (source, lake) => {
    await using store = await openObjectStore(pathToFileURL(lake).href, {
      loadTime: new Date("2026-11-23T10:15:00Z"),
    });
    const a = await patternFile(source, "a.csv", 10);
    await store.upload(a, "Orders/a.csv");
    await store.upload(a, "Customers/a.csv");
    await Deno.writeFile(join(lake, "Orders", LOAD, "b.csv.4242.1.tmp"), new Uint8Array(3));
    assertEquals((await store.list("Orders/")).map((o) => [o.key, o.size]), [
      [`Orders/${LOAD}/a.csv`, 10],
    ]);
    assertEquals((await store.list()).map((o) => o.key), [
      `Customers/${LOAD}/a.csv`,
      `Orders/${LOAD}/a.csv`,
    ]);
    assertEquals(await store.list("Nothing/"), []);
  });
});

Deno.test("preflight creates the folder, and fails with a ConfigError when it cannot be written", async () => {
  await withFolders(async (source, lake) => {
    await using good = await openObjectStore(lake);
    await good.preflight();
    assertEquals((await Deno.stat(lake)).isDirectory, true);
    assertEquals(await good.list(), []);
    const file = await patternFile(source, "not-a-folder", 1);
    await using bad = await openObjectStore(join(file, "lake"));
    const error = await assertRejects(() => bad.preflight(), ConfigError, "is not writable");
    assertEquals(error.issues[0].path, "output.destination");
  });
});
