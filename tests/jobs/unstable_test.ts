/**
 * `deno task unstable` end to end: login auth with 2-second tokens against a mock that
 * fails 1 request in 4, streamed CSV with every line exactly once, retries visible in the report,
 * each finished file uploaded to the destination, and the password nowhere in the out folder.
 */
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { UNSTABLE_JOB } from "../../jobs/unstable.ts";
import { loadManifest } from "../../lib/provenance/manifest.ts";
import { readRunReport } from "../../lib/report/report_files.ts";
import { assert, assertEquals } from "../assert.ts";
import { runJob, withServedMock } from "./job_fixture.ts";

async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string) => {
    for await (const entry of Deno.readDir(d)) {
      const path = join(d, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(suffix)) found.push(path);
    }
  };
  await walk(dir);
  return found.sort();
}

Deno.test("unstable job: faults and expiring tokens still give every line once, in CSV, uploaded", async () => {
  await withServedMock(async (server, dir) => {
    const lake = join(dir, "lake");
    Deno.env.set("TIDEMARK_DESTINATION", lake);
    try {
      const out = join(dir, "out");
      const run = await runJob(UNSTABLE_JOB, ["--out", out, "--base-url", server.url]);
      assertEquals(run.code, 0, run.stderr.slice(-2000));

      const parts = await filesUnder(join(out, "csv/order_lines"), ".csv");
      assert(parts.length > 0);
      const keys: string[] = [];
      for (const part of parts) {
        const rows = parse(await Deno.readTextFile(part), { columns: true }) as Record<
          string,
          string
        >[];
        keys.push(...rows.map((r) => `${r.OrderID},${r.ProductID}`));
      }
      assertEquals(keys.length, 2155);
      assertEquals(new Set(keys).size, 2155);

      const report = await readRunReport(out);
      assert(report.totals.retries > 0, "the faults were retried");
      const stats = await (await fetch(`${server.url}/-/stats`)).json() as {
        by_path: Record<string, Record<string, number>>;
      };
      const logins = Object.values(stats.by_path["/auth/login"] ?? {}).reduce((a, b) => a + b, 0);
      const refreshes = Object.values(stats.by_path["/auth/refresh"] ?? {})
        .reduce((a, b) => a + b, 0);
      assert(logins + refreshes >= 2, "the 2 s token was renewed during the run");

      const uploaded = await filesUnder(join(lake, "order_lines"), ".csv");
      assertEquals(uploaded.length, parts.length);
      assert(uploaded.every((p) => /\/load_date=\d{4}-\d{2}-\d{2}\/load_time=\d{6}\//.test(p)));
      const local = new Set(await Promise.all(parts.map((p) => Deno.readTextFile(p))));
      for (const file of uploaded) assert(local.has(await Deno.readTextFile(file)));
      const lines = (await loadManifest(join(out, "manifest.jsonl"))).entries.map((e) => e.record);
      assert(lines.some((r) => r.object_url !== undefined), "object_url in the manifest");

      for (const file of await filesUnder(out, "")) {
        const text = await Deno.readTextFile(file).catch(() => "");
        assert(!text.includes("tidemark-password"), `password in ${file}`);
      }
    } finally {
      Deno.env.delete("TIDEMARK_DESTINATION");
    }
  }, UNSTABLE_JOB.mock);
});
