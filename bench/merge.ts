/**
 * Merge benchmark: a 500-row change merged by key into an asset of 200 k and 1 M Orders-like
 * rows (10 parts, zstd), with `mergeByKey` as a harvest's merge-mode asset runs it (polars when
 * FFI is permitted). Each merge runs in its own subprocess so its peak RSS (VmHWM) is its own.
 * Goal: peak RSS ≤ 300 MB at 1 M rows.
 *
 * Run: `deno task bench merge` (or `deno run -A bench/merge.ts --child SIZE setup|merge`).
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

/** The asset (10 parts) and the change run's staged part. */
async function setup(size: number): Promise<string> {
  const dir = join(ROOT, `Orders-${size}`);
  await Deno.remove(ROOT, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const per = size / 10;
  for (let p = 0; p < 10; p++) {
    const ids = Array.from({ length: per }, (_, i) => p * per + i + 1);
    orders(ids).writeParquet(join(dir, `part-${String(p).padStart(5, "0")}.parquet`));
  }
  const staging = join(assetLayout(dir).staging, "change");
  await Deno.mkdir(staging, { recursive: true });
  const changed = Array.from({ length: 500 }, (_, i) => (i * 1999) % size + 1);
  orders(changed, true).writeParquet(join(staging, "part-00001.parquet"));
  return dir;
}

/** One child: sets up, or merges and prints its seconds. */
async function child(size: number, step: string): Promise<void> {
  const dir = join(ROOT, `Orders-${size}`);
  if (step === "setup") {
    await setup(size);
    return;
  }
  const started = performance.now();
  const result = await mergeByKey(dir, { runId: "change", primaryKey: ["OrderID"] });
  const seconds = (performance.now() - started) / 1000;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(await Deno.readTextFile("/proc/self/status"));
  console.log(JSON.stringify({ rows: result.rows, seconds, peakMb: Number(hwm?.[1]) / 1024 }));
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

/** Prints the table: rows, seconds and peak RSS of each merge, and the goal. */
export async function run(): Promise<void> {
  console.log("| asset rows | change | merge time | peak RSS | goal (≤ 300 MB at 1 M rows) |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const size of SIZES) {
    await runChild(size, "setup");
    const m = JSON.parse((await runChild(size, "merge")).split("\n").pop()!);
    const goal = size === 1_000_000 ? (m.peakMb <= GOAL_MB ? "met" : "not met") : "—";
    console.log(
      `| ${size.toLocaleString("en")} | 500 rows | ${m.seconds.toFixed(2)} s | ` +
        `${m.peakMb.toFixed(0)} MB | ${goal} |`,
    );
  }
  await Deno.remove(ROOT, { recursive: true }).catch(() => {});
  console.log(
    "\nThe merge reads every part of the asset and writes one new generation: its peak grows " +
      "with the asset (the rows held once, then gathered once in key order). Rewriting only the " +
      "parts whose keys changed would make it grow with the change instead.",
  );
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") await child(Number(Deno.args[1]), Deno.args[2]);
  else await run();
}
