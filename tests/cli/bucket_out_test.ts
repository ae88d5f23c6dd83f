/**
 * verify, report and replay read an out folder in object storage (`--out s3://BUCKET/PREFIX`),
 * as Deploy writes it: a copy is checked exactly as a local folder is, and one flipped byte in
 * the bucket is caught.
 */
import { join } from "node:path";
import { openBucket } from "../../lib/object_store/bucket.ts";
import { filesUnder } from "../../lib/pipeline/output_files.ts";
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { northwindYaml, run, withMockRun, yamlConfig } from "../harvest/fixture.ts";
import { startS3rver } from "../object_store/s3_fixture.ts";
import { cli } from "./capture.ts";

Deno.test("verify, report and replay --out s3://… read the bucket; a flipped byte fails verify", async () => {
  await using s3 = await startS3rver(["lake"]);
  const env = {
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_S3: s3.endpoint,
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, Deno.env.get(k)]));
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  const url = "s3://lake/tidemark/northwind";
  try {
    await withMockRun(async (fixture, out) => {
      assertEquals((await run(fixture, yamlConfig(northwindYaml({ size: 300 })), out)).exitCode, 0);
      // The bucket holds the folder as Deploy mirrors it: plain objects, no links.
      const bucket = openBucket(url, env);
      for (const path of await filesUnder(out)) {
        if (path.split("/").some((p) => p.startsWith("."))) continue;
        await bucket.put(path, await Deno.readFile(join(out, path)));
      }
      const verified = await cli(["verify", "--out", url]);
      assertEquals(verified.code, 0, verified.stdout + verified.stderr);
      const report = await cli(["report", "--out", url, "--format", "json"]);
      assertEquals(report.code, 0, report.stderr);
      assertEquals(JSON.parse(report.stdout).status, "succeeded");
      const to = await Deno.makeTempDir({ prefix: "tidemark-bucket-replay-" });
      try {
        const replayed = await cli(["replay", "--out", url, "--to", join(to, "r")]);
        assertEquals(replayed.code, 0, replayed.stdout + replayed.stderr);
      } finally {
        await Deno.remove(to, { recursive: true });
      }
      const snapshot = (await bucket.list("raw/")).find((o) => o.path.endsWith(".json"))!;
      const bytes = (await bucket.get(snapshot.path))!;
      bytes[10] ^= 1;
      await bucket.put(snapshot.path, bytes);
      const tampered = await cli(["verify", "--out", url]);
      assertEquals(tampered.code, 1);
      assertStringIncludes(tampered.stdout + tampered.stderr, snapshot.path);
      bucket.close();
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
});
