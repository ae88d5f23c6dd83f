import { assert, assertEquals, assertMatch, assertNotEquals } from "../assert.ts";
import { canonicalJson } from "../../lib/core/json_text.ts";
import {
  configSha256,
  envStamp,
  newRunId,
  RUN_ID_PATTERN,
  runIdTime,
  sha256File,
  sha256Hex,
} from "../../lib/core/stamps.ts";
import { VERSION } from "../../lib/core/version.ts";

Deno.test("sha256Hex matches the published digest of 'abc' for strings and bytes", () => {
  const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  assertEquals(sha256Hex("abc"), abc);
  assertEquals(sha256Hex(new Uint8Array([0x61, 0x62, 0x63])), abc);
});

Deno.test("sha256File streams a file larger than its buffer to the same digest", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = new Uint8Array(1_000_003).map((_, i) => (i * 31) & 0xff);
    await Deno.writeFile(`${dir}/f`, bytes);
    assertEquals(await sha256File(`${dir}/f`), { sha256: sha256Hex(bytes), bytes: 1_000_003 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run id encodes its UTC start second and sorts by start time", () => {
  const early = newRunId(() => Date.UTC(2026, 10, 23, 10, 15, 0, 999));
  const late = newRunId(() => Date.UTC(2026, 10, 23, 10, 15, 1));
  assertMatch(early, RUN_ID_PATTERN);
  assertMatch(early, /^20261123T101500Z-[0-9a-f]{6}$/);
  assert(early < late);
  assertEquals(runIdTime(early)?.toISOString(), "2026-11-23T10:15:00.000Z");
  assertEquals(runIdTime("not-a-run-id"), undefined);
});

Deno.test("two run ids made in the same second differ", () => {
  const ids = new Set(Array.from({ length: 50 }, () => newRunId(() => 0)));
  assert(ids.size > 45, `only ${ids.size} distinct ids of 50`);
});

Deno.test("envStamp names the Deno and Tidemark versions", () => {
  const env = envStamp();
  assertEquals(env.deno, Deno.version.deno);
  assertEquals(env.tidemark, VERSION);
  assertEquals(env.os, Deno.build.os);
});

Deno.test("canonical JSON does not depend on key order, at any depth", () => {
  const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: null }, c: undefined };
  const b = { a: { x: null, y: [1, { p: 2, q: 1 }] }, b: 1 };
  assertEquals(canonicalJson(a), '{"a":{"x":null,"y":[1,{"p":2,"q":1}]},"b":1}');
  assertEquals(canonicalJson(a), canonicalJson(b));
  // One canonical JSON for config hashes, row hashes and insert ids: big ids stay exact digits.
  assertEquals(canonicalJson({ id: 12345678901234567890n }), '{"id":12345678901234567890}');
});

Deno.test("configSha256 hashes file bytes as given and objects canonically", () => {
  assertEquals(configSha256("name: x\n"), sha256Hex("name: x\n"));
  assertEquals(configSha256({ b: 2, a: 1 }), configSha256({ a: 1, b: 2 }));
  assertNotEquals(configSha256({ a: 1 }), configSha256({ a: 2 }));
});

Deno.test("newRunId also takes a Clock object", () => {
  assertMatch(newRunId({ now: () => Date.UTC(2027, 0, 2, 3, 4, 5) }), /^20270102T030405Z-/);
});
