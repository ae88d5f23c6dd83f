/**
 * `deno task wordpress` end to end: the job serves its own mock, lands posts, pages and
 * media in the raw-load format under `load_date=/load_time=` folders, and a scheduled-style
 * re-run (`--if-changed`) costs one request per type.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import pl from "nodejs-polars";
import { WORDPRESS_JOB } from "../../jobs/wordpress.ts";
import { parquetFiles } from "../../lib/sinks/write_mode.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { requestCount, runJob, tempDir, withServedMock } from "./job_fixture.ts";

Deno.test("wordpress job: serves its own mock and lands every item in the raw-load format by load", async () => {
  const dir = await tempDir();
  try {
    const out = join(dir, "out");
    const run = await runJob(WORDPRESS_JOB, ["--out", out]);
    assertEquals(run.code, 0, run.stderr);
    assertMatch(run.notes[0], /serving the mock API at http:\/\/127\.0\.0\.1:\d+/);
    for (const [type, count] of [["posts", 137], ["pages", 12], ["media", 45]] as const) {
      const files = await parquetFiles(join(out, "parquet", type));
      assert(files.length > 0, `${type} has parts`);
      for (const file of files) {
        assertMatch(file, /\/load_date=\d{4}-\d{2}-\d{2}\/load_time=\d{6}\/part-[^/]+\.parquet$/);
      }
      const frame = pl.concat(files.map((f) => pl.readParquet(f)));
      assertEquals(frame.columns.sort(), ["dl_hash", "dl_inserted_at", "id", "payload"]);
      assertEquals(frame.height, count);
      const payload = frame.getColumn("payload").toArray() as string[];
      const hash = frame.getColumn("dl_hash").toArray() as string[];
      assertEquals(hash[0], createHash("sha256").update(payload[0]).digest("hex"));
      assertEquals(new Set(frame.getColumn("id").toArray()).size, count);
    }
    assertStringIncludes(run.stdout.join("\n"), "initial: no state yet");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wordpress job: a re-run with --if-changed sends one request per type and writes nothing", async () => {
  await withServedMock(async (server, dir) => {
    const out = join(dir, "out");
    const args = ["--out", out, "--base-url", server.url];
    assertEquals((await runJob(WORDPRESS_JOB, args)).code, 0);
    const before = await requestCount(server);
    const parts = (await parquetFiles(join(out, "parquet/posts"))).length;
    const second = await runJob(WORDPRESS_JOB, [...args, "--if-changed"]);
    assertEquals(second.code, 0, second.stderr);
    assertEquals(second.notes, [], "no mock of its own with --base-url");
    assertEquals(await requestCount(server) - before, 3);
    assertEquals((await parquetFiles(join(out, "parquet/posts"))).length, parts);
    const report = second.stdout.join("\n");
    assertMatch(report, /posts\s+unchanged/);
    assertStringIncludes(report, "orderby=modified&order=desc&per_page=1");
  }, WORDPRESS_JOB.mock);
});
