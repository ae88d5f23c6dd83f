import { assert, assertEquals, assertRejects } from "../assert.ts";
import { openSink, openWorkerSink, type SinkOptions } from "../../lib/sinks/mod.ts";
import { ConfigError, ContractError } from "../../lib/core/errors.ts";
import { listFiles, parquetDtypes, parquetRows } from "./read_back.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark_worker_sink_");

const ROWS = [
  { OrderID: 10248, ShipCountry: "France", Freight: 32.38, OrderDate: "1996-07-04", Note: "é" },
  { OrderID: 10249, ShipCountry: "Germany", Freight: 11.61, OrderDate: "1996-07-05", Note: null },
  { OrderID: 2 ** 53 + 2, ShipCountry: "France", Freight: 65.83, OrderDate: "1997-01-08" },
];

/** Writes the same batches through openSink and openWorkerSink; returns both folders' files. */
async function writeBoth(dir: string, options: SinkOptions) {
  const parts = [];
  for (const open of [openSink, openWorkerSink]) {
    const sink = await open(`${dir}/${open.name}`, options);
    const first = await sink.writeRows(ROWS.slice(0, 2), { key: "00001" });
    const second = await sink.writeColumns(
      { OrderID: [BigInt(ROWS[2].OrderID)], ShipCountry: ["France"], Freight: [65.83] },
      1,
      { key: "00002" },
    );
    await sink.close();
    parts.push({ written: [...first, ...second], schema: sink.schema, all: sink.parts });
  }
  return { main: parts[0], worker: parts[1] };
}

Deno.test("a worker sink writes the same parts, bytes and schema as a sink on the caller's thread", async () => {
  await withDir(async (dir) => {
    const options: SinkOptions = {
      format: "parquet",
      runId: "r1",
      partitionBy: ["ShipCountry", "year(OrderDate)"],
      columns: { OrderDate: "date" },
    };
    const { main, worker } = await writeBoth(dir, options);
    const strip = (p: { path: string }) => ({
      ...p,
      path: p.path.replace(/openWorkerSink|openSink/, ""),
    });
    assertEquals(worker.written.map(strip), main.written.map(strip));
    assertEquals(worker.all.map(strip), main.all.map(strip));
    assertEquals(worker.schema, main.schema);
    assertEquals(
      await listFiles(`${dir}/openWorkerSink`),
      await listFiles(`${dir}/openSink`),
    );
    const part = worker.written.find((p) =>
      p.relativePath.startsWith("ShipCountry=France/year=1996")
    )!;
    assertEquals(parquetDtypes(part.path), {
      OrderID: "Int64",
      ShipCountry: "String",
      Freight: "Float64",
      OrderDate: "Date",
      Note: "String",
    });
    assertEquals(parquetRows(part.path)[0].OrderID, 10248n);
  });
});

Deno.test("a worker sink writes raw-load parts like the caller's-thread sink", async () => {
  await withDir(async (dir) => {
    const loadTime = new Date("2026-11-23T10:15:00Z");
    const { main, worker } = await writeBoth(dir, {
      format: "raw",
      runId: "r1",
      idField: "OrderID",
      loadTime,
    });
    assertEquals(
      worker.written.map((p) => [p.relativePath, p.sha256, p.rows]),
      main.written.map((p) => [p.relativePath, p.sha256, p.rows]),
    );
  });
});

Deno.test("a worker sink passes compression and row groups to the thread", async () => {
  await withDir(async (dir) => {
    const rows = Array.from({ length: 2500 }, (_, i) => ({ id: i, text: `row ${i}` }));
    const sizes: Record<string, number> = {};
    for (const compression of ["none", "zstd"] as const) {
      const sink = await openWorkerSink(`${dir}/${compression}`, {
        format: "parquet",
        runId: "r",
        compression,
        rowGroupRows: 1000,
      });
      const [part] = await sink.writeRows(rows);
      await sink.close();
      sizes[compression] = part.bytes;
      assertEquals(parquetRows(part.path).length, 2500);
    }
    assert(sizes.zstd < sizes.none, `zstd ${sizes.zstd} should be smaller than none ${sizes.none}`);
  });
});

Deno.test("writes of several worker sinks at once all land, each with its own result", async () => {
  await withDir(async (dir) => {
    const sinks = await Promise.all(
      [0, 1, 2, 3].map((n) => openWorkerSink(`${dir}/s${n}`, { format: "parquet", runId: "r" })),
    );
    const results = await Promise.all(
      sinks.map((sink, n) =>
        sink.writeRows(Array.from({ length: 100 * (n + 1) }, (_, i) => ({ n, i })), {
          key: `k${n}`,
        })
      ),
    );
    await Promise.all(sinks.map((s) => s.close()));
    assertEquals(results.map(([part]) => part.rows), [100, 200, 300, 400]);
    for (const [n, [part]] of results.entries()) {
      assertEquals(parquetRows(part.path).length, 100 * (n + 1));
      assertEquals(parquetRows(part.path)[0], { n: BigInt(n), i: 0n });
    }
  });
});

Deno.test("a value the worker sink cannot cast is a ContractError and writes nothing", async () => {
  await withDir(async (dir) => {
    const sink = await openWorkerSink(dir, {
      format: "parquet",
      runId: "r",
      columns: { id: "int64" },
    });
    await assertRejects(() => sink.writeRows([{ id: "ten" }]), ContractError, 'column "id"');
    await sink.close();
    assertEquals(await listFiles(dir), []);
  });
});

Deno.test("a file the thread cannot put in place fails the write and leaves no temporary file", async () => {
  await withDir(async (dir) => {
    const sink = await openWorkerSink(dir, { format: "parquet", runId: "r" });
    // A folder where the part should go: the rename into place fails on the thread.
    await Deno.mkdir(`${dir}/part-r-k1.parquet`);
    const error = await assertRejects(() => sink.writeRows([{ id: 1 }], { key: "k1" }));
    assert(error instanceof Error);
    await sink.close();
    assertEquals(await listFiles(dir), []);
    // The thread keeps serving after a failed job.
    const [part] = await (await openWorkerSink(dir, { format: "parquet", runId: "r" }))
      .writeRows([{ id: 2 }], { key: "k2" });
    assertEquals(parquetRows(part.path), [{ id: 2n }]);
  });
});

Deno.test("thread must be main or worker", async () => {
  await assertRejects(
    () => openSink("unused", { format: "parquet", runId: "r", thread: "gpu" as "main" }),
    ConfigError,
    "bad sink options",
  );
});

Deno.test("a program that used a worker sink exits on its own once its writes are done", async () => {
  await withDir(async (dir) => {
    const script = `${dir}/main.ts`;
    const mod = new URL("../../lib/sinks/mod.ts", import.meta.url).href;
    const config = new URL("../../deno.json", import.meta.url).pathname;
    await Deno.writeTextFile(
      script,
      `import { openWorkerSink } from "${mod}";
const sink = await openWorkerSink(${
        JSON.stringify(`${dir}/out`)
      }, { format: "parquet", runId: "r" });
await sink.writeRows([{ id: 1 }]);
await sink.close();
console.log("written");
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        config,
        "--allow-read",
        "--allow-write",
        "--allow-ffi",
        "--allow-env",
        "--allow-sys",
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const output = await child.output();
    clearTimeout(timer);
    const stderr = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, stderr);
    assertEquals(new TextDecoder().decode(output.stdout).trim(), "written");
    assertEquals(await listFiles(`${dir}/out`), ["part-r-00001.parquet"]);
  });
});
