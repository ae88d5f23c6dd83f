/**
 * Scale-out benchmark (`deno task bench scale`): the queue with worker processes, each run in a
 * child (jobs/scale_demo.ts --json, which starts its own PostgreSQL and mock).
 *
 * 1. Speed-up: Orders and Order Details of a scale-20 Northwind behind a mock answering after
 *    `--latency-ms 20`, cut into 6 key-range units each, harvested by 3 workers vs 1 worker in
 *    the same run: goal ≥ 2×.
 * 2. Shared rate limit: 4 workers against a mock allowing 60 requests a minute, the config at
 *    `requests_per_second: 0.95` (57/min), 70 pages: one budget shared through PostgreSQL (goal:
 *    zero 429s) vs a budget per worker (what four processes did before: 4 × 57/min).
 *
 * Pass 1 runs `SCALE_BENCH_RUNS` times (default 3) and its median ratio is the figure, because the
 * machine is shared. `SCALE_BENCH_SKIP_RATE=1` skips pass 2 (over a minute per side by design).
 * @module
 */
import { fileURLToPath } from "node:url";
import type { ScaleRun } from "../reliability/scale_demo.ts";

const DEMO = fileURLToPath(new URL("../jobs/scale_demo.ts", import.meta.url));

/** Runs the demo in a child with `args` and returns its JSON. */
async function demo<T>(args: string[]): Promise<T> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      DEMO,
      "--json",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(result.stdout);
  if (!result.success && !stdout.trim().startsWith("{")) {
    throw new Error(
      `scale demo ${args.join(" ")} failed:\n${new TextDecoder().decode(result.stderr)}`,
    );
  }
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as T;
}

function requests(run: ScaleRun): number {
  return Object.values(run.statuses).reduce((a, b) => a + b, 0);
}

/** The middle value (the lower middle of an even count). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Runs both passes and prints their tables. */
export async function run(): Promise<void> {
  // The machine is shared: each pair (3 workers, then 1) is run SCALE_BENCH_RUNS times and the
  // median ratio is the figure; every pair is printed.
  const runs = Math.max(1, Number(Deno.env.get("SCALE_BENCH_RUNS") ?? "3"));
  const pairs: { many: ScaleRun; one: ScaleRun }[] = [];
  for (let i = 0; i < runs; i++) pairs.push(await demo<{ many: ScaleRun; one: ScaleRun }>([]));
  console.log(
    "| pass | workers | units | wall s (harvest --queue, spawn to exit) | units ran s | pages per worker | exit |",
  );
  console.log("|---|---|---|---|---|---|---|");
  pairs.forEach(({ one, many }, i) => {
    for (const r of [one, many]) {
      console.log(
        `| ${i + 1} | ${r.workers} | ${r.units} | ${(r.ms / 1000).toFixed(1)} | ${
          (r.unitsMs / 1000).toFixed(1)
        } | ${r.shares.map((s) => s.pages).join(" / ")} | ${r.exitCode} |`,
      );
    }
  });
  const ratios = pairs.map(({ one, many }) => one.ms / many.ms);
  const ratio = median(ratios);
  const unitsRatio = median(pairs.map(({ one, many }) => one.unitsMs / many.unitsMs));
  const workers = pairs[0].many.workers;
  console.log(
    `
${workers} workers vs 1, median of ${runs}: ${ratio.toFixed(2)}× faster (passes: ${
      ratios.map((r) => r.toFixed(2)).join(", ")
    }; goal ≥ 2×: ${ratio >= 2 ? "met" : "MISSED"}); ${unitsRatio.toFixed(2)}× while units ran ` +
      "(without the harvest process's start-up, probes and enqueueing, which one worker or " +
      "three pay alike)",
  );
  if (Deno.env.get("SCALE_BENCH_SKIP_RATE") === "1") {
    console.log("\nshared rate limit: skipped (SCALE_BENCH_SKIP_RATE=1)");
    return;
  }
  const shared = await demo<ScaleRun>(["--rate-limit"]);
  const own = await demo<ScaleRun>(["--rate-limit", "--own-rate-limit"]);
  console.log("\n| 4 workers, 60/min API | requests | per minute | 429s | wall s | exit |");
  console.log("|---|---|---|---|---|---|");
  for (
    const [label, r] of [["one shared budget (57/min)", shared], ["a budget each", own]] as const
  ) {
    console.log(
      `| ${label} | ${requests(r)} | ${(requests(r) / (r.ms / 60_000)).toFixed(0)} | ${
        r.statuses["429"] ?? 0
      } | ${(r.ms / 1000).toFixed(1)} | ${r.exitCode} |`,
    );
  }
  const zero = (shared.statuses["429"] ?? 0) === 0 && shared.exitCode === 0;
  console.log(
    `\nshared budget: ${shared.statuses["429"] ?? 0} × 429 (goal 0: ${zero ? "met" : "MISSED"})`,
  );
}
