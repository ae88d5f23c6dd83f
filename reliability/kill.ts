/**
 * Check (b): a harvest, and a SQL extract, killed with SIGKILL at random instants (seeded, so a
 * failure can be replayed), then run once more to completion, hold exactly the source's rows:
 * nothing lost, nothing twice.
 * @module
 */
import { join } from "node:path";
import {
  compareLines,
  generateNorthwindFile,
  parquetLines,
  runCli,
  seededRandom,
  servedLines,
  sourceLines,
  spawnCli,
  TOKEN,
} from "./harness.ts";

/** Kills `args` `kills` times at random instants up to `maxMs`, then runs it to completion. */
async function killAndFinish(
  args: string[],
  kills: number,
  maxMs: number,
  seed: number,
  env?: Record<string, string>,
): Promise<string | null> {
  const random = seededRandom(seed);
  for (let i = 0; i < kills; i++) {
    const child = spawnCli(args, env);
    // A real wait: the point is to kill a real process at an unpredictable instant.
    await new Promise((resolve) => setTimeout(resolve, 100 + random() * maxMs));
    try {
      child.kill("SIGKILL");
    } catch { /* it finished before the kill */ }
    await child.status;
  }
  const last = await runCli(args, { env });
  return last.code === 0 ? null : `final run exited ${last.code}: ${last.stderr.slice(-400)}`;
}

/** Runs check (b) for harvest at `scale` with `kills` kills; null when it holds. */
export async function killHarvestCheck(
  dir: string,
  scale: number,
  kills: number,
): Promise<string | null> {
  const source = await servedLines(dir, "kill", scale, {
    mockArgs: ["--latency-ms", "2"],
    // Small pages and parts: many commits for the kills to land between.
    config: (text) => text.replace("_size: 1000", "_size: 500") + "    batch_size: 2000\n",
  });
  try {
    const config = source.config;
    const out = join(dir, "kill-out");
    const failed = await killAndFinish(
      ["harvest", "--config", config, "--out", out, "--quiet"],
      kills,
      2500,
      11,
      { API_TOKEN: TOKEN },
    );
    if (failed) return failed;
    return compareLines(sourceLines(source.db), await parquetLines(join(out, "parquet", "lines")));
  } finally {
    await source.stop();
  }
}

/** Runs check (b) for extract at `scale` with `kills` kills; null when it holds. */
export async function killExtractCheck(
  dir: string,
  scale: number,
  kills: number,
): Promise<string | null> {
  const db = join(dir, "extract.db");
  await generateNorthwindFile(db, scale);
  const out = join(dir, "extract-out");
  const failed = await killAndFinish(
    [
      "extract",
      "--db",
      db,
      "--query",
      'SELECT * FROM "Order Details"',
      "--out",
      out,
      "--asset",
      "lines",
      "--chunk-rows",
      "5000",
    ],
    kills,
    2500,
    13,
  );
  if (failed) return failed;
  return compareLines(sourceLines(db), await parquetLines(join(out, "parquet", "lines")));
}
