/**
 * A worker's warm-up: one tiny harvest, offline (its one page comes from an in-process fetch), into
 * a temporary folder that is removed after. A process's first harvest pays for what later ones
 * reuse — the Parquet and snapshot threads (loading polars), compiling the engine's hot paths —
 * and when every worker of a fleet pays it on its first unit at once, they contend for the same
 * cores just as a run starts: measured at about 2 s more for each worker's first unit with three
 * workers on two cores. Paid at start-up, before the worker takes units, it is off every run's
 * critical path.
 * @module
 */
import { parseConfig } from "../config/load.ts";
import { harvest } from "../harvest/run.ts";

const CONFIG = `name: warm-up
base_url: http://warm-up.invalid
assets:
  - name: rows
    path: /rows
    data_path: rows
    primary_key: [id]
`;

/** The one page the warm-up harvests: a few rows of the usual column kinds. */
function page(): Response {
  const rows = Array.from({ length: 50 }, (_, i) => ({
    id: i + 1,
    name: `row ${i + 1}`,
    amount: i * 1.25,
    at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
    flag: i % 2 === 0,
  }));
  return new Response(JSON.stringify({ rows }), {
    headers: { "content-type": "application/json" },
  });
}

/**
 * Runs the warm-up harvest; resolves to whether it harvested its page, and never throws (a
 * warm-up that fails costs the first unit its warm-up, nothing else).
 *
 * @example
 * ```ts
 * import { warmUp } from "./warm_up.ts";
 * await warmUp(); // then take units
 * ```
 */
export async function warmUp(): Promise<boolean> {
  let dir: string | undefined;
  try {
    dir = await Deno.makeTempDir({ prefix: "tidemark-warm-up-" });
    const result = await harvest(parseConfig(CONFIG, { source: "warm-up" }), {
      out: dir,
      quiet: true,
      logOutput: null,
      progressOutput: { writeSync: (b) => b.length, isTerminal: () => false },
      fetch: () => Promise.resolve(page()),
    });
    return result.assets[0]?.rows === 50;
  } catch {
    return false; // see the doc: nothing depends on it
  } finally {
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
