import { assertEquals, assertRejects, assertThrows } from "../assert.ts";
import {
  resolveOutPath,
  safePathSegment,
  snapshotPath,
  SnapshotStore,
} from "../../lib/provenance/snapshot.ts";
import { sha256Hex } from "../../lib/core/stamps.ts";

const RUN = "20261123T101500Z-3fa9c1";

Deno.test("readable asset names stay readable as folder names", () => {
  assertEquals(safePathSegment("Order Details"), "Order Details");
  assertEquals(safePathSegment("Café_2024-v1.5"), "Café_2024-v1.5");
});

Deno.test("unsafe characters, dot names and device names are percent-encoded", () => {
  assertEquals(safePathSegment("a/b\\c"), "a%2Fb%5Cc");
  assertEquals(safePathSegment(".."), "%2E%2E");
  assertEquals(safePathSegment("."), "%2E");
  assertEquals(safePathSegment("../etc"), "%2E.%2Fetc");
  assertEquals(safePathSegment("x: y?*"), "x%3A y%3F%2A");
  assertEquals(safePathSegment("tail. "), "tail%2E%20");
  assertEquals(safePathSegment("CON"), "%43ON");
  assertEquals(safePathSegment("a\nb"), "a%0Ab");
});

Deno.test("different names never share a folder, because % is encoded too", () => {
  assertEquals(safePathSegment("a%2Fb"), "a%252Fb");
  assertEquals(safePathSegment("a/b") === safePathSegment("a%2Fb"), false);
});

Deno.test("an empty asset name is refused", () => {
  assertThrows(() => safePathSegment(""), RangeError, "empty name");
});

Deno.test("snapshot paths are raw/<asset>/<run_id>/<page:05d>.json", () => {
  assertEquals(snapshotPath("Orders", RUN, 7), `raw/Orders/${RUN}/00007.json`);
  assertEquals(snapshotPath("Order Details", RUN, 0), `raw/Order Details/${RUN}/00000.json`);
  assertEquals(snapshotPath("Orders", RUN, 123456), `raw/Orders/${RUN}/123456.json`);
});

Deno.test("snapshot paths refuse unsafe run ids and bad page numbers", () => {
  assertThrows(() => snapshotPath("Orders", "../x", 1), RangeError, 'run id "../x"');
  assertThrows(() => snapshotPath("Orders", RUN, -1), RangeError, "got -1");
  assertThrows(() => snapshotPath("Orders", RUN, 1.5), RangeError, "got 1.5");
});

Deno.test("recorded paths cannot escape the out folder", () => {
  assertEquals(resolveOutPath("/o", "raw/a/b.json"), "/o/raw/a/b.json");
  for (const bad of ["/etc/passwd", "../x", "raw/../../x", "raw//x", "", "raw\\x"]) {
    assertThrows(() => resolveOutPath("/o", bad), RangeError, "relative to the out folder");
  }
});

for (const thread of ["main", "worker"] as const) {
  Deno.test(`write stores the bytes as received and returns path, sha256 and size (${thread} thread)`, async () => {
    const out = await Deno.makeTempDir();
    try {
      const store = new SnapshotStore(out, { thread });
      const body = new TextEncoder().encode('{"rows":[{"OrderID":10248}],"next":"10249"}');
      const snap = await store.write("Order Details", RUN, 3, body);
      assertEquals(snap, {
        path: `raw/Order Details/${RUN}/00003.json`,
        sha256: sha256Hex(body),
        bytes: body.length,
      });
      assertEquals(await Deno.readFile(`${out}/raw/Order Details/${RUN}/00003.json`), body);
      assertEquals(await store.read(snap.path), body);
      assertEquals(await store.hash(snap.path), { sha256: snap.sha256, bytes: snap.bytes });
      // No temporary file is left beside the snapshot.
      const names = [...Deno.readDirSync(`${out}/raw/Order Details/${RUN}`)].map((e) => e.name);
      assertEquals(names, ["00003.json"]);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

Deno.test("a snapshot thread writes pages of several folders at once, each with its own digest", async () => {
  const out = await Deno.makeTempDir();
  try {
    const store = new SnapshotStore(out, { thread: "worker" });
    const bodies = Array.from({ length: 12 }, (_, i) => new TextEncoder().encode(`{"page":${i}}`));
    const snaps = await Promise.all(
      bodies.map((body, i) => store.write(i % 2 ? "Orders" : "Order Details", RUN, i + 1, body)),
    );
    for (const [i, snap] of snaps.entries()) {
      assertEquals(snap.sha256, sha256Hex(bodies[i]));
      assertEquals(await store.read(snap.path), bodies[i]);
    }
    // The caller's bytes are copied, not moved: they are still readable.
    assertEquals(bodies[0].length, 10);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a snapshot the thread cannot put in place rejects and leaves no temporary file", async () => {
  const out = await Deno.makeTempDir();
  try {
    const store = new SnapshotStore(out, { thread: "worker" });
    // A folder where the snapshot should go: the rename into place fails on the thread.
    await Deno.mkdir(`${out}/raw/Orders/${RUN}/00001.json`, { recursive: true });
    await assertRejects(() => store.write("Orders", RUN, 1, new Uint8Array([123, 125])));
    const names = [...Deno.readDirSync(`${out}/raw/Orders/${RUN}`)].map((e) => e.name);
    assertEquals(names, ["00001.json"]);
    // The thread keeps serving after a failed job.
    const snap = await store.write("Orders", RUN, 2, new Uint8Array([123, 125]));
    assertEquals(snap.bytes, 2);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("read refuses a path outside the out folder", async () => {
  const store = new SnapshotStore("/nonexistent-out");
  await assertRejects(() => store.read("../secret.json"), RangeError);
});

Deno.test("on the caller's thread, writes resolve in the order they were handed in, a failed one included", async () => {
  const out = await Deno.makeTempDir();
  try {
    const store = new SnapshotStore(out);
    const big = new Uint8Array(8 * 1024 * 1024).fill(65);
    const small = new TextEncoder().encode("{}");
    // Where the third snapshot should go is a folder: its rename fails, the fourth still lands.
    await Deno.mkdir(`${out}/raw/b/${RUN}/00002.json`, { recursive: true });
    const order: string[] = [];
    const note = (name: string) => (value: unknown) => {
      order.push(name);
      return value;
    };
    const writes = [
      store.write("a", RUN, 1, big).then(note("a1")),
      store.write("b", RUN, 1, small).then(note("b1")),
      store.write("b", RUN, 2, small).then(note("b2"), (error) => note("b2 failed")(error)),
      store.write("b", RUN, 3, small).then(note("b3")),
    ];
    await Promise.all(writes);
    assertEquals(order, ["a1", "b1", "b2 failed", "b3"]);
    assertEquals(await Deno.readFile(`${out}/raw/b/${RUN}/00003.json`), small);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a run folder removed between two writes is made again", async () => {
  const out = await Deno.makeTempDir();
  try {
    const store = new SnapshotStore(out);
    const body = new TextEncoder().encode("{}");
    const first = await store.write("Orders", RUN, 1, body);
    // What a failed walk does with its staged pages: their files go, then the emptied folder.
    await Deno.remove(`${out}/${first.path}`);
    await Deno.remove(`${out}/raw/Orders/${RUN}`);
    const second = await store.write("Orders", RUN, 2, body);
    assertEquals(await store.read(second.path), body);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
