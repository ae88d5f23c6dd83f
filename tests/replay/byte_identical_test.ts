/**
 * Replay and the live harvest write their Parquet through the same page pipeline (records →
 * shape → contract → sink parts), so a replay of a folder is not just equal in rows: every data
 * file is the same bytes.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { filesUnder } from "../../lib/pipeline/output_files.ts";
import { replayOut } from "../../lib/replay/replay.ts";
import { assert, assertEquals } from "../assert.ts";
import { northwindYaml, run, withMockRun, yamlConfig } from "../harvest/fixture.ts";

/** sha256 of every Parquet file under `<root>/parquet/<folder>`, by its name (not its path). */
async function parquetDigests(root: string, folder: string): Promise<string[]> {
  const dir = join(root, "parquet", folder);
  const digests: string[] = [];
  for (const file of await filesUnder(dir)) {
    if (!file.endsWith(".parquet")) continue;
    const bytes = await Deno.readFile(join(dir, file));
    digests.push(`${file.split("/").pop()} ${createHash("sha256").update(bytes).digest("hex")}`);
  }
  return digests.sort();
}

Deno.test("replay writes byte-identical Parquet to the live harvest", async () => {
  await withMockRun(async (fixture, out) => {
    const parent = await Deno.makeTempDir({ prefix: "tidemark-replay-bytes-" });
    try {
      const result = await run(fixture, yamlConfig(northwindYaml({ size: 200 })), out);
      assertEquals(result.exitCode, 0);
      const to = join(parent, "replayed");
      await replayOut(out, to);
      for (const folder of ["Orders", "Order Details"]) {
        const live = await parquetDigests(out, folder);
        assert(live.length > 0, `${folder} has parts`);
        assertEquals(await parquetDigests(to, folder), live, `${folder}: same files, same bytes`);
      }
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  });
});
