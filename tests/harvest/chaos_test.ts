/**
 * Chaos: the mock answers with `500=0.1,503=0.05,429=0.05,timeout=0.02,truncate=0.01,reset=0.01`
 * (fixed seed) while 4 workers harvest Orders in 4 key ranges and "Order Details". Every source
 * row must land exactly once, every snapshot must match its manifest line, and no secret may
 * appear in any byte under the out folder. Waits run on a clock 50× faster than the wall clock
 * (a 1 s `Retry-After` costs 20 ms), so nothing sleeps for real.
 */
import { join } from "node:path";
import { verifyOut } from "../../lib/provenance/verify.ts";
import { assert, assertEquals } from "../assert.ts";
import {
  CHAOS_RETRY,
  chaosMock,
  fastClock,
  northwindYaml,
  parquetKeys,
  run,
  sorted,
  sourceKeys,
  TOKEN,
  withMockRun,
  yamlConfig,
} from "./fixture.ts";

/** Every file under `dir`, recursively. */
async function* files(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* files(path);
    else if (entry.isFile) yield path;
  }
}

Deno.test("chaos: under 500/503/429/timeouts/truncation/resets every row lands exactly once, provenance intact, no secret written", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(
      northwindYaml({
        size: 50,
        top: "workers: 4",
        orders: "partition: { by: OrderID, parts: 4 }\nbatch_size: 200",
        details: "batch_size: 200",
        retry: CHAOS_RETRY,
      }),
    );
    const result = await run(fixture, loaded, out, { clock: fastClock(50) });
    assertEquals(result.assets.map((a) => [a.asset, a.status, a.error]), [
      ["Orders", "ok", undefined],
      ["Order Details", "ok", undefined],
    ]);
    assert(result.report.totals.retries > 10, `${result.report.totals.retries} retries`);
    assert(result.report.totals.status_429 > 0, "some 429s were met");

    const orders = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(orders.length, new Set(orders).size, "no order written twice");
    assertEquals(sorted(orders), sourceKeys(fixture.db, "Orders", ["OrderID"]));
    const lines = await parquetKeys(out, "Order Details", ["OrderID", "ProductID"]);
    assertEquals(lines.length, new Set(lines).size, "no line written twice");
    assertEquals(sorted(lines), sourceKeys(fixture.db, "Order Details", ["OrderID", "ProductID"]));

    const verified = await verifyOut(out);
    assertEquals(verified.mismatches, []);
    assert(verified.snapshots_checked >= result.report.totals.pages);

    const secret = new TextEncoder().encode(TOKEN);
    let scanned = 0;
    for await (const path of files(out)) {
      const bytes = await Deno.readFile(path);
      scanned++;
      assert(!contains(bytes, secret), `${path} holds the bearer token`);
    }
    assert(scanned > 20, `${scanned} files scanned`);
  }, chaosMock(1234));
});

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
