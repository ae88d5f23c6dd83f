/**
 * Merge benchmark: 500-row changes merged by key into an asset of 200 k and 1 M Orders-like
 * rows (10 parts, zstd), with `mergeByKey` as a harvest's merge-mode asset runs it (polars when
 * FFI is permitted), against the same change merged into the whole asset in the same run. Each
 * merge runs in its own subprocess so its peak RSS (VmHWM) is its own.
 * Goal: peak RSS ≤ 300 MB at 1 M rows.
 *
 * Run: `deno task bench merge` (or `deno run -A bench/merge.ts --child SIZE
 * setup-plain|setup-merged|change|new-keys`).
 * @module
 */
import pl from "nodejs-polars";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assetLayout, mergeByKey } from "../lib/sinks/write_mode.ts";

const SIZES = [200_000, 1_000_000];
const ROOT = ".bench/merge";
const SELF = fileURLToPath(import.meta.url);
const GOAL_MB = 300;

/** Orders-like columns for ids `ids`, the change run's (`changed`) differing in every field. */
function orders(ids: number[], changed = false): pl.DataFrame {
  const day = 86_400_000;
  return pl.DataFrame({
    OrderID: ids,
    CustomerID: ids.map((i) => `${changed ? "X" : "C"}${i % 9000}`),
    EmployeeID: ids.map((i) => i % 9),
    OrderDate: ids.map((i) => new Date(Date.UTC(changed ? 1998 : 1996, 6, 4) + (i % 700) * day)),
    Freight: ids.map((i) => (i % 1000) / 10),
    ShipName: ids.map((i) => `Ship name number ${i % 5000}`),
    ShipCity: ids.map((i) => `City ${i % 300}`),
    ShipCountry: ids.map((i) => `Country ${i % 21}`),
  });
}

/**
 * The asset and the staged parts of the changes. `merged`: made as a harvest makes it, by a first
 * merge (10 parts), with three changes staged — 500 existing keys spread over every part, 500
 * new keys above the highest, and the 500 highest keys (all in the last part). `plain`: 10 parts written straight into the folder (no merge wrote
 * them, so their keys may repeat across parts): a merge reads and rewrites the whole asset, as
 * every merge did before parts were rewritten one by one — the baseline.
 */
async function setup(size: number, layout: "merged" | "plain"): Promise<void> {
  const dir = join(ROOT, `Orders-${size}`);
  await Deno.remove(ROOT, { recursive: true }).catch(() => {});
  const write = async (folder: string, frames: pl.DataFrame[]) => {
    await Deno.mkdir(folder, { recursive: true });
    frames.forEach((frame, p) =>
      frame.writeParquet(join(folder, `part-${String(p).padStart(5, "0")}.parquet`))
    );
  };
  const staging = (runId: string) => join(assetLayout(dir).staging, runId);
  const per = size / 10;
  const asset = Array.from(
    { length: 10 },
    (_, p) => orders(Array.from({ length: per }, (_, i) => p * per + i + 1)),
  );
  if (layout === "plain") await write(dir, asset);
  else {
    await write(staging("initial"), asset);
    await mergeByKey(dir, { runId: "initial", primaryKey: ["OrderID"], partRows: per });
  }
  const spread = Array.from({ length: 500 }, (_, i) => (i * 1999) % size + 1);
  await write(staging("change"), [orders(spread, true)]);
  await write(staging("new-keys"), [orders(spread.map((_, i) => size + i + 1), true)]);
  await write(staging("recent"), [orders(spread.map((_, i) => size - i), true)]);
}

/** One child: sets up, or merges and prints its seconds. */
async function child(size: number, step: string): Promise<void> {
  const dir = join(ROOT, `Orders-${size}`);
  if (step.startsWith("setup-")) {
    await setup(size, step === "setup-plain" ? "plain" : "merged");
    return;
  }
  const started = performance.now();
  const result = await mergeByKey(dir, { runId: step, primaryKey: ["OrderID"] });
  const seconds = (performance.now() - started) / 1000;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(await Deno.readTextFile("/proc/self/status"));
  const peakMb = Number(hwm?.[1]) / 1024;
  const written = `${result.written.length} of ${result.parts.length}`;
  console.log(JSON.stringify({ rows: result.rows, seconds, peakMb, written }));
}

async function runChild(size: number, step: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SELF, "--child", String(size), step],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench merge: ${step} at ${size} rows failed`);
  return new TextDecoder().decode(out.stdout).trim();
}

const CASES = [
  ["setup-plain", "change", "500 rows; whole asset (baseline)"],
  ["setup-merged", "change", "500 rows spread over every part"],
  [null, "new-keys", "500 new keys"],
  [null, "recent", "500 rows in the last part"],
] as const;

/** Prints the table: parts written, seconds and peak RSS of each merge, against the baseline. */
export async function run(): Promise<void> {
  console.log(
    "| asset rows | change | parts written | merge time | vs baseline | peak RSS | vs baseline | goal (≤ 300 MB at 1 M rows) |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const size of SIZES) {
    let base: { seconds: number; peakMb: number } | null = null;
    for (const [setupStep, step, change] of CASES) {
      if (setupStep) await runChild(size, setupStep);
      const m = JSON.parse((await runChild(size, step)).split("\n").pop()!);
      base ??= m;
      const goal = size === 1_000_000 ? (m.peakMb <= GOAL_MB ? "met" : "not met") : "—";
      console.log(
        `| ${size.toLocaleString("en")} | ${change} | ${m.written} | ${m.seconds.toFixed(2)} s | ` +
          `${(m.seconds / base!.seconds).toFixed(2)}× | ${m.peakMb.toFixed(0)} MB | ` +
          `${(m.peakMb / base!.peakMb).toFixed(2)}× | ${goal} |`,
      );
    }
  }
  await Deno.remove(ROOT, { recursive: true }).catch(() => {});
  console.log(
    "\nA merge reads the key column of each part (or rules it out by its min/max statistics), " +
      "then reads, rewrites and releases the parts holding a changed key one at a time, writes " +
      "new keys as a new part and hard-links every other part into the new generation: its " +
      "peak is one part (100 k rows) plus the change, not the asset. A change spread over every " +
      "part still rewrites every part (about the baseline's time); one touching few parts, like " +
      "new keys, costs what those parts cost. The baseline is an asset whose parts no merge " +
      "wrote, which is merged whole.",
  );
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") await child(Number(Deno.args[1]), Deno.args[2]);
  else await run();
}
