/**
 * Check (a): a harvest under the chaos profile — 10 % 500, 5 % 503, 5 % 429, 2 % timeouts, 1 %
 * truncated bodies, 1 % resets — ends with exactly the source's rows in Parquet: the same key
 * set and the same values, row for row.
 * @module
 */
import { join } from "node:path";
import { compareLines, parquetLines, runCli, servedLines, sourceLines, TOKEN } from "./harness.ts";

/** The chaos profile. */
export const CHAOS = "500=0.1,503=0.05,429=0.05,timeout=0.02,truncate=0.01,reset=0.01";

/** Runs check (a) at `scale` in `dir`; resolves to null when it holds, else what went wrong. */
export async function chaosCheck(dir: string, scale: number): Promise<string | null> {
  const source = await servedLines(dir, "chaos", scale, {
    mockArgs: ["--faults", CHAOS, "--fault-seed", "7", "--timeout-hold", "5s"],
  });
  try {
    const out = join(dir, "chaos-out");
    const run = await runCli(["harvest", "--config", source.config, "--out", out, "--quiet"], {
      env: { API_TOKEN: TOKEN },
    });
    if (run.code !== 0) return `harvest exited ${run.code}: ${run.stderr.slice(-400)}`;
    return compareLines(sourceLines(source.db), await parquetLines(join(out, "parquet", "lines")));
  } finally {
    await source.stop();
  }
}
