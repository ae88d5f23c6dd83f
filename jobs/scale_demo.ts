/**
 * `deno task scale:demo`: the queue at work on one machine, every part its own process as on many
 * machines (reliability/scale_demo.ts runs it). Prints each worker's share and the speed-up over
 * one worker; `--rate-limit` runs the shared-budget demo instead; `--json` prints one JSON object
 * (bench/scale.ts reads it).
 * @module
 */
import { parseArgs } from "node:util";
import { postgresUnavailable } from "../mock_api/postgres_server.ts";
import { rateDemo, scaleDemo, type ScaleRun, shareLines } from "../reliability/scale_demo.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      workers: { type: "string" },
      scale: { type: "string" },
      "latency-ms": { type: "string" },
      "rate-limit": { type: "boolean" },
      "own-rate-limit": { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const unavailable = postgresUnavailable();
  if (unavailable) {
    console.error(`scale:demo needs PostgreSQL: ${unavailable}`);
    Deno.exit(2);
  }
  if (values["rate-limit"]) {
    const run = await rateDemo({
      workers: values.workers ? Number(values.workers) : undefined,
      ownBudget: values["own-rate-limit"],
    });
    if (values.json) console.log(JSON.stringify(run));
    else {
      const requests = Object.values(run.statuses).reduce((a, b) => a + b, 0);
      console.log(
        `${run.workers} workers, ${
          values["own-rate-limit"] ? "a budget each" : "one shared budget"
        } of 57/min against a 60/min API: ${requests} requests in ${
          (run.ms / 1000).toFixed(1)
        } s, ${run.statuses["429"] ?? 0} × 429 (exit ${run.exitCode})`,
      );
      console.log(shareLines(run).join("\n"));
    }
    Deno.exit(run.exitCode);
  }
  const { many, one } = await scaleDemo({
    workers: values.workers ? Number(values.workers) : undefined,
    scale: values.scale ? Number(values.scale) : undefined,
    latencyMs: values["latency-ms"] ? Number(values["latency-ms"]) : undefined,
  });
  if (values.json) console.log(JSON.stringify({ many, one }));
  else {
    const spans = (r: ScaleRun) =>
      `${(r.ms / 1000).toFixed(1)} s (first unit started ${
        (r.firstStartMs / 1000).toFixed(1)
      } s after enqueueing; units ran ${(r.unitsMs / 1000).toFixed(1)} s; exit ${r.exitCode})`;
    console.log(`${many.workers} workers: ${many.units} units in ${spans(many)}`);
    console.log(shareLines(many).join("\n"));
    console.log(`1 worker: ${spans(one)}`);
    console.log(
      `speed-up: ${(one.ms / many.ms).toFixed(2)}× wall, ${
        (one.unitsMs / many.unitsMs).toFixed(2)
      }× while units ran (goal ≥ 2×)`,
    );
  }
  Deno.exit(many.exitCode || one.exitCode);
}
