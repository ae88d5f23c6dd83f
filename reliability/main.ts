/**
 * `deno task reliability [--quick]`: the guarantees of a harvest, checked on the real CLI at
 * size — (a) the chaos profile over a large source, (b) SIGKILL at random instants for harvest
 * and extract, (c) bad configs, flags and responses, (d) no secret of any auth kind anywhere.
 * Prints one table (check, size, result, time) and exits 1 when any check fails. `--quick` runs
 * small sizes (the test suite runs it); the full size is the README's table. `--checks a,b,c1,d`
 * runs some of them.
 * @module
 */
import { parseArgs } from "node:util";
import { badInputsCheck } from "./bad_inputs.ts";
import { CHAOS, chaosCheck } from "./chaos.ts";
import { killExtractCheck, killHarvestCheck } from "./kill.ts";
import { secretsCheck } from "./secrets.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    checks: { type: "string", default: "a,b,c1,c2,d" },
  },
});
const quick = values.quick;
const wanted = new Set(values.checks.split(",").map((c) => c.trim()));
for (const c of wanted) {
  if (!["a", "b", "c1", "c2", "d"].includes(c)) {
    console.error(`reliability: unknown check "${c}" in --checks; use a, b, c1, c2, d`);
    Deno.exit(2);
  }
}
/** Order lines are about 2155 per scale unit: 465 ≈ 1 M rows. */
const sizes = quick ? { chaos: 10, kill: 4, kills: 3 } : { chaos: 465, kill: 40, kills: 20 };

interface Row {
  check: string;
  size: string;
  result: string;
  seconds: number;
}

const rows: Row[] = [];
const dir = await Deno.makeTempDir({ prefix: "tidemark-reliability-" });
async function check(
  id: string,
  name: string,
  size: string,
  fn: () => Promise<string | null>,
): Promise<void> {
  if (!wanted.has(id)) return;
  const started = performance.now();
  let result: string | null;
  try {
    result = await fn();
  } catch (error) {
    result = `error: ${(error as Error).message}`;
  }
  rows.push({
    check: name,
    size,
    result: result ?? "ok",
    seconds: (performance.now() - started) / 1000,
  });
  console.error(`${name}: ${result ?? "ok"}`);
}

try {
  await check(
    "a",
    "(a) chaos profile, exact rows",
    `${sizes.chaos * 2155} rows, ${CHAOS}`,
    () => chaosCheck(dir, sizes.chaos),
  );
  await check(
    "b",
    "(b) kill -9, harvest",
    `${sizes.kills} kills, ${sizes.kill * 2155} rows`,
    () => killHarvestCheck(dir, sizes.kill, sizes.kills),
  );
  await check(
    "b",
    "(b) kill -9, extract",
    `${sizes.kills} kills, ${sizes.kill * 2155} rows`,
    () => killExtractCheck(dir, sizes.kill, sizes.kills),
  );
  for (const [id, family] of [["c1", "config and flags"], ["c2", "responses"]] as const) {
    let cases = 0;
    await check(
      id,
      `(${id}) bad ${family}: exit ≠ 0, named, out/ and state byte-identical`,
      "",
      async () => {
        const result = await badInputsCheck(dir, family);
        cases = result.cases;
        return result.failed.length === 0
          ? null
          : `${result.failed.length} of ${cases}: ${result.failed.join(" | ")}`;
      },
    );
    if (wanted.has(id)) rows[rows.length - 1].size = `${cases} cases`;
  }
  await check("d", "(d) no secret anywhere", "6 auth kinds", () => secretsCheck(dir));
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

console.log("| check | size | result | time |\n|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.check} | ${r.size} | ${r.result === "ok" ? "ok" : `FAILED: ${r.result}`} | ${
      r.seconds.toFixed(1)
    } s |`,
  );
}
const failed = rows.filter((r) => r.result !== "ok").length;
console.log(`${rows.length - failed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
