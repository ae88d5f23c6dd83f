/**
 * Sinks benchmark: write deterministic order-line rows through the streaming sinks
 * (Parquet, CSV, JSONL; batch by batch; Parquet also with `thread: "worker"`) beside the floor —
 * polars building the same frame and writing it in one call — in the same run, at 200 k and 1 M
 * rows. Each case runs in its own
 * subprocess so its peak RSS (VmHWM) is its own. Goals: sink time ≤ 1.3 × the floor; sink RSS
 * flat from 200 k to 1 M rows (the floor's grows with the data, by construction).
 *
 * Run: `deno task bench sinks` (or `deno run -A bench/sinks.ts` for this one alone).
 * @module
 */
import pl from "nodejs-polars";
import { openSink } from "../lib/sinks/mod.ts";

const SIZES = [200_000, 1_000_000];
const BATCH = 50_000;
const REPEATS = 3;
const OUT = ".bench/sinks";
const FORMATS = ["parquet", "csv", "jsonl"] as const;
type Format = typeof FORMATS[number];

const COUNTRIES = ["Germany", "USA", "Brazil", "France", "UK", "Venezuela", "Austria", "Sweden"];
const PRODUCTS = Array.from({ length: 77 }, (_, i) => `Product ${i + 1}, "grade ${i % 5}"`);
const FIRST_DAY = Date.UTC(1996, 6, 4);

/** Deterministic order lines `from` … `from + length - 1`, as column arrays. */
function orderLines(from: number, length: number): Record<string, unknown[]> {
  const columns: Record<string, unknown[]> = {
    OrderID: new Array(length),
    ProductID: new Array(length),
    ProductName: new Array(length),
    UnitPrice: new Array(length),
    Quantity: new Array(length),
    Discount: new Array(length),
    ShipCountry: new Array(length),
    OrderDate: new Array(length),
  };
  for (let k = 0; k < length; k++) {
    const i = from + k;
    const product = (i * 31) % 77;
    columns.OrderID[k] = 10248 + Math.floor(i / 3);
    columns.ProductID[k] = product + 1;
    columns.ProductName[k] = PRODUCTS[product];
    columns.UnitPrice[k] = ((i * 7919) % 10_000) / 100;
    columns.Quantity[k] = 1 + (i % 40);
    columns.Discount[k] = (i % 5) * 0.05;
    columns.ShipCountry[k] = COUNTRIES[Math.floor(i / 3) % COUNTRIES.length];
    columns.OrderDate[k] = new Date(FIRST_DAY + Math.floor(i / 3) * 3_600_000);
  }
  return columns;
}

const DECLARED = {
  OrderID: "int64",
  ProductID: "int64",
  ProductName: "string",
  UnitPrice: "float64",
  Quantity: "int64",
  Discount: "float64",
  ShipCountry: "string",
  OrderDate: "datetime",
} as const;

/** Largest RSS seen at the sample points of this process (the fallback without /usr/bin/time). */
let sampledPeak = 0;
function sampleRss(): void {
  sampledPeak = Math.max(sampledPeak, Deno.memoryUsage().rss);
}

interface CaseResult {
  ms: number;
  rssMb: number;
  bytes: number;
}

/** A case: the floor, the sink on the caller's thread, or (Parquet) the sink on the Parquet thread. */
type Kind = "floor" | "sink" | "worker";

/** One case, inside its subprocess: only the writing is timed (data generation is not). */
async function runCase(kind: Kind, format: Format, rows: number): Promise<CaseResult> {
  const dir = `${OUT}/${kind}-${format}-${rows}`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  let ms = 0;
  if (kind === "floor") {
    const columns = orderLines(0, rows);
    const started = performance.now();
    const frame = pl.DataFrame([
      pl.Series("OrderID", columns.OrderID, pl.Int64),
      pl.Series("ProductID", columns.ProductID, pl.Int64),
      pl.Series("ProductName", columns.ProductName, pl.Utf8),
      pl.Series("UnitPrice", columns.UnitPrice, pl.Float64),
      pl.Series("Quantity", columns.Quantity, pl.Int64),
      pl.Series("Discount", columns.Discount, pl.Float64),
      pl.Series("ShipCountry", columns.ShipCountry, pl.Utf8),
      pl.Series("OrderDate", columns.OrderDate, pl.Datetime("ms", "UTC")),
    ]);
    sampleRss();
    if (format === "parquet") frame.writeParquet(`${dir}/all.parquet`, { compression: "zstd" });
    if (format === "csv") frame.writeCSV(`${dir}/all.csv`);
    if (format === "jsonl") frame.writeJSON(`${dir}/all.jsonl`, { format: "lines" });
    ms = performance.now() - started;
  } else {
    const sink = await openSink(dir, {
      format,
      runId: "bench",
      columns: { ...DECLARED },
      thread: kind === "worker" ? "worker" : "main",
    });
    for (let from = 0; from < rows; from += BATCH) {
      const length = Math.min(BATCH, rows - from);
      const columns = orderLines(from, length);
      const started = performance.now();
      await sink.writeColumns(columns, length);
      ms += performance.now() - started;
      sampleRss();
    }
    const started = performance.now();
    await sink.close();
    ms += performance.now() - started;
  }
  let bytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    bytes += (await Deno.stat(`${dir}/${entry.name}`)).size;
  }
  await Deno.remove(dir, { recursive: true });
  sampleRss();
  return { ms, rssMb: sampledPeak / 1024 / 1024, bytes };
}

const TIME = "/usr/bin/time";
const HAS_TIME = await Deno.stat(TIME).then(() => true, () => false);

/**
 * Runs one case in a fresh process. Peak RSS is the kernel's (`/usr/bin/time -f %M`, which
 * sees inside long native polars calls) when available, else sampled between batches.
 */
async function spawnCase(kind: string, format: string, rows: number): Promise<CaseResult> {
  const deno = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-read",
    "--allow-write=.bench",
    "--allow-ffi",
    "--allow-env",
    "--allow-sys",
    new URL(import.meta.url).pathname,
    "--case",
    kind,
    format,
    String(rows),
  ];
  const [command, ...args] = HAS_TIME ? [TIME, "-f", "maxrss_kb=%M", ...deno] : deno;
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`bench case ${kind} ${format} ${rows} failed:\n${stderr}`);
  const result: CaseResult = JSON.parse(
    new TextDecoder().decode(output.stdout).trim().split("\n").pop()!,
  );
  const maxRss = /maxrss_kb=(\d+)/.exec(stderr);
  if (maxRss) result.rssMb = Number(maxRss[1]) / 1024;
  return result;
}

function best(a: CaseResult, b: CaseResult): CaseResult {
  return { ms: Math.min(a.ms, b.ms), rssMb: Math.max(a.rssMb, b.rssMb), bytes: b.bytes };
}

/** Runs every case and prints the table. */
export async function run(): Promise<void> {
  const rows: string[][] = [];
  const rss: Record<string, number[]> = {};
  const cases: [Format, Kind][] = [
    ["parquet", "sink"],
    ["parquet", "worker"],
    ["csv", "sink"],
    ["jsonl", "sink"],
  ];
  for (const [format, kind] of cases) {
    const label = kind === "worker" ? `${format} (thread)` : format;
    for (const size of SIZES) {
      // Alternate floor and sink runs and keep each one's best time: the machine is shared.
      let floor = await spawnCase("floor", format, size);
      let sink = await spawnCase(kind, format, size);
      for (let rep = 1; rep < REPEATS; rep++) {
        floor = best(floor, await spawnCase("floor", format, size));
        sink = best(sink, await spawnCase(kind, format, size));
      }
      (rss[label] ??= []).push(sink.rssMb);
      rows.push([
        label,
        size.toLocaleString("en-US"),
        floor.ms.toFixed(0),
        sink.ms.toFixed(0),
        (sink.ms / floor.ms).toFixed(2),
        Math.round(size / (sink.ms / 1000)).toLocaleString("en-US"),
        floor.rssMb.toFixed(0),
        sink.rssMb.toFixed(0),
        (sink.bytes / floor.bytes).toFixed(2),
      ]);
    }
  }
  const header = [
    "format",
    "rows",
    "floor ms",
    "sink ms",
    "sink/floor",
    "sink rows/s",
    "floor RSS MB",
    "sink RSS MB",
    "size ratio",
  ];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((x, c) => x.padStart(widths[c])).join(" | ")} |`;
  console.log(
    `Order lines written through openSink(...).writeColumns in batches of ${
      BATCH.toLocaleString("en-US")
    }`,
  );
  console.log("beside polars building the same frame and writing it in one call (the floor);");
  console.log('"parquet (thread)" is the same sink with thread: "worker" (openWorkerSink).');
  console.log("Goal: sink/floor ≤ 1.30; sink RSS flat from 200k to 1M rows.\n");
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
  console.log("");
  for (const [format, [small, large]] of Object.entries(rss)) {
    console.log(`${format}: sink RSS 1M / 200k = ${(large / small).toFixed(2)}`);
  }
}

if (import.meta.main) {
  const [flag, kind, format, rows] = Deno.args;
  if (flag === "--case") {
    const result = await runCase(kind as Kind, format as Format, Number(rows));
    console.log(JSON.stringify(result));
  } else {
    await run();
  }
}
