import { createHash } from "node:crypto";
import { digestFile, normalizeEtag } from "../../lib/object_store/etag.ts";
import { assertEquals } from "../assert.ts";
import { patternFile } from "./s3_fixture.ts";

function md5(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/** S3's multipart ETag, computed independently of the module: slice, hash, hash the hashes. */
function expectedMultipart(bytes: Uint8Array, partSize: number): string {
  const outer = createHash("md5");
  let parts = 0;
  for (let start = 0; start < bytes.length; start += partSize) {
    outer.update(createHash("md5").update(bytes.subarray(start, start + partSize)).digest());
    parts += 1;
  }
  return `${outer.digest("hex")}-${parts}`;
}

async function withFile(size: number, test: (path: string, bytes: Uint8Array) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    const path = await patternFile(dir, "file.bin", size);
    await test(path, await Deno.readFile(path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a file of at most one part has the plain MD5 as its ETag", async () => {
  await withFile(1000, async (path, bytes) => {
    const digest = await digestFile(path, { partSize: 1000 });
    assertEquals(digest.size, 1000);
    assertEquals(digest.parts, 1);
    assertEquals(digest.md5, md5(bytes));
    assertEquals(digest.multipartEtag, md5(bytes));
    assertEquals(digest.sha256, createHash("sha256").update(bytes).digest("hex"));
  });
});

Deno.test("a file of several parts has the md5-of-md5s-N ETag, a short last part included", async () => {
  await withFile(2_500_001, async (path, bytes) => {
    const digest = await digestFile(path, { partSize: 1_000_000 });
    assertEquals(digest.parts, 3);
    assertEquals(digest.multipartEtag, expectedMultipart(bytes, 1_000_000));
    assertEquals(digest.md5, md5(bytes));
  });
});

Deno.test("a file of exactly k parts has k parts, not k+1", async () => {
  // Part sizes that do and do not divide the 1 MiB read buffer.
  for (const partSize of [1024 * 1024, 700_000]) {
    await withFile(partSize * 3, async (path, bytes) => {
      const digest = await digestFile(path, { partSize });
      assertEquals(digest.parts, 3);
      assertEquals(digest.multipartEtag, expectedMultipart(bytes, partSize));
    });
  }
});

Deno.test("an empty file is one empty part", async () => {
  await withFile(0, async (path) => {
    const digest = await digestFile(path, { partSize: 10 });
    assertEquals([digest.size, digest.parts, digest.md5], [
      0,
      1,
      "d41d8cd98f00b204e9800998ecf8427e",
    ]);
  });
});

Deno.test("ETags are compared without quotes, weak markers or case", () => {
  assertEquals(normalizeEtag(`W/"ABCDEF-2"`), "abcdef-2");
  assertEquals(
    normalizeEtag(`"5d41402abc4b2a76b9719d911017c592"`),
    "5d41402abc4b2a76b9719d911017c592",
  );
  assertEquals(normalizeEtag(undefined), "");
});
