/**
 * The benchmark runner behind `deno task bench`: runs every registered benchmark in turn, or only
 * those named on the command line (`deno task bench mock_api`). Each benchmark module exports
 * `run(): Promise<void>` and prints its own table of ratios against a baseline measured in the
 * same run.
 * @module
 */

/** A benchmark module. */
export interface BenchModule {
  /** Runs the benchmark and prints its table. */
  run(): Promise<void>;
}

/** Every benchmark, by name; loaded only when it runs. Add one line per benchmark. */
const BENCHES: Record<string, () => Promise<BenchModule>> = {
  mock_api: () => import("./mock_api.ts"),
  sinks: () => import("./sinks.ts"),
  http_rate_limit: () => import("./http_rate_limit.ts"),
  sql: () => import("./sql_extract.ts"),
  harvest: () => import("./harvest.ts"),
  scale: () => import("./scale.ts"),
  merge: () => import("./merge.ts"),
};

/** Runs the benchmarks named in `names` (all when empty); resolves to the exit code. */
export async function runBenches(names: string[]): Promise<number> {
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length > 0) {
    console.error(
      `bench: unknown benchmark "${unknown[0]}"; accepted: ${Object.keys(BENCHES).join(", ")}`,
    );
    return 2;
  }
  for (const name of names.length > 0 ? names : Object.keys(BENCHES)) {
    console.log(`\n## ${name}\n`);
    await (await BENCHES[name]()).run();
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await runBenches(Deno.args));
}
