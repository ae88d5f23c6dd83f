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
 * `SCALE_BENCH_SKIP_RATE=1` skips pass 2 (it takes over a minute per side by design).
 * @module
 */
import { fileURLToPath } from "node:url";
import type { ScaleRun } from "../jobs/scale_demo.ts";

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

/** Runs both passes and prints their tables. */
export async function run(): Promise<void> {
  const { many, one } = await demo<{ many: ScaleRun; one: ScaleRun }>([]);
  const ratio = one.ms / many.ms;
  console.log(
    "| workers | units | wall s (harvest --queue, spawn to exit) | units ran s | pages per worker | exit |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const r of [one, many]) {
    console.log(
      `| ${r.workers} | ${r.units} | ${(r.ms / 1000).toFixed(1)} | ${
        (r.unitsMs / 1000).toFixed(1)
      } | ${r.shares.map((s) => s.pages).join(" / ")} | ${r.exitCode} |`,
    );
  }
  console.log(
    `\n${many.workers} workers vs 1: ${ratio.toFixed(2)}× faster (goal ≥ 2×: ${
      ratio >= 2 ? "met" : "MISSED"
    }); ${(one.unitsMs / many.unitsMs).toFixed(2)}× while units ran (without the harvest ` +
      "process's start-up, probes and enqueueing, which one worker or three pay alike)",
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
