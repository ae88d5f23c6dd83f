import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { lockOutFolder } from "../../lib/run/out_lock.ts";
import { stateCommand, type StateCommandIo } from "../../lib/cli/state.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { openKvState, openSqliteState, type StateStore } from "../../lib/state/mod.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../assert.ts";
import { capture, cli } from "./capture.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Fills a store the way two harvests would: watermarks, runs, a skip, a half-done asset. */
async function seed(store: StateStore): Promise<void> {
  await store.startRun({
    runId: "20260101T100000Z-aaaaaa",
    startedAt: "2026-01-01T10:00:00.000Z",
    configSha256: "c".repeat(64),
    command: "harvest",
    assets: ["Orders", "Customers"],
  });
  await store.finishRun("20260101T100000Z-aaaaaa", {
    status: "succeeded",
    finishedAt: "2026-01-01T10:05:00.000Z",
    counts: { pages: 4, records: 800 },
  });
  await store.setWatermark({ assetId: "Orders", lastTimestamp: "1998-05-06 00:00:00.000" });
  await store.setWatermark({ assetId: "Customers", lastId: "91" });
  await store.startRun({
    runId: "20260102T100000Z-bbbbbb",
    startedAt: "2026-01-02T10:00:00.000Z",
    configSha256: "c".repeat(64),
    command: "harvest",
    assets: ["Orders", "u1"],
  });
  await store.commitPage({
    runId: "20260102T100000Z-bbbbbb",
    assetId: "Orders",
    partition: "",
    page: 1,
    cursorIn: null,
    cursorOut: "10447",
    rows: 200,
    snapshot: "raw/Orders/20260102T100000Z-bbbbbb/00001.json",
    outputs: ["parquet/Orders/part-20260102T100000Z-bbbbbb-0001.parquet"],
    sha256: "a".repeat(64),
    done: false,
  });
  await store.recordSkip({
    runId: "20260102T100000Z-bbbbbb",
    assetId: "u1",
    reason: "rate limit: wait 900s above max_wait_s 120",
    retryAt: "2026-01-02T10:15:00Z",
  });
}

async function withOut(
  fn: (out: string) => Promise<void>,
  backend: "sqlite" | "kv" = "sqlite",
): Promise<void> {
  const out = await Deno.makeTempDir({ prefix: "tidemark-state-cli-" });
  try {
    const store = backend === "sqlite"
      ? openSqliteState(join(out, "state.sqlite"))
      : await openKvState(join(out, "state.kv"));
    await seed(store);
    await store.close();
    await fn(out);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

function read(out: string): StateStore {
  return openSqliteState(join(out, "state.sqlite"));
}

Deno.test("tidemark state lists watermarks, runs, skips and resume points as tables", async () => {
  await withOut(async (out) => {
    const { code, stdout } = await cli(["state", "--out", out]);
    assertEquals(code, 0);
    const lines = stdout.split("\n");
    assertEquals(lines[0], `State: ${join(out, "state.sqlite")} (sqlite)`);
    assertMatch(stdout, /\n {2}Customers +default +91 +- +\S+Z\n/);
    assertMatch(stdout, /\n {2}Orders +default +- +1998-05-06T00:00:00\.000Z +\S+Z\n/);
    assertMatch(
      stdout,
      /Runs \(latest 2\)\n {2}run_id .*\n {2}20260102T100000Z-bbbbbb +harvest +running +/,
    );
    assertMatch(stdout, /20260101T100000Z-aaaaaa +harvest +succeeded +.* +pages=4 records=800\n/);
    assertMatch(
      stdout,
      /\n {2}u1 +20260102T100000Z-bbbbbb +2026-01-02T10:15:00\.000Z +\S+ +rate limit: wait 900s/,
    );
    assertMatch(stdout, /Resume points.*\n.*\n {2}Orders +- +1 +1 +10447 +20260102T100000Z-bbbbbb/);
  });
});

Deno.test("tidemark state --json prints the same listing as JSON", async () => {
  await withOut(async (out) => {
    const { stdout } = await cli(["state", "--out", out, "--json", "--runs", "1"]);
    const listing = JSON.parse(stdout);
    assertEquals(listing.state, { backend: "sqlite", path: join(out, "state.sqlite") });
    assertEquals(listing.watermarks.map((w: { assetId: string }) => w.assetId), [
      "Customers",
      "Orders",
    ]);
    assertEquals(listing.runs.map((r: { runId: string }) => r.runId), ["20260102T100000Z-bbbbbb"]);
    assertEquals(listing.skips[0].assetId, "u1");
    assertEquals(listing.pending, [{
      asset: "Orders",
      partition: "",
      pages: 1,
      lastPage: 1,
      cursorOut: "10447",
      runId: "20260102T100000Z-bbbbbb",
    }]);
  });
});

Deno.test("tidemark state --asset shows only that asset", async () => {
  await withOut(async (out) => {
    const { stdout } = await cli(["state", "--out", out, "--asset", "Customers", "--json"]);
    const listing = JSON.parse(stdout);
    assertEquals(listing.watermarks.map((w: { assetId: string }) => w.assetId), ["Customers"]);
    assertEquals(listing.runs.map((r: { runId: string }) => r.runId), ["20260101T100000Z-aaaaaa"]);
    assertEquals([listing.skips, listing.pending], [[], []]);
  });
});

Deno.test("tidemark state --backend kv reads a Deno KV state", async () => {
  await withOut(async (out) => {
    const { code, stdout } = await cli(["state", "--out", out, "--backend", "kv", "--json"]);
    assertEquals(code, 0);
    const listing = JSON.parse(stdout);
    assertEquals(listing.state.path, join(out, "state.kv"));
    assertEquals(listing.pending[0].cursorOut, "10447");
    assertEquals(listing.runs.length, 2);
  }, "kv");
});

Deno.test("tidemark state on a folder without state fails and creates nothing", async () => {
  const out = await Deno.makeTempDir();
  try {
    const { code, stderr } = await cli(["state", "--out", out]);
    assertEquals(code, 1);
    assertStringIncludes(stderr, `no sqlite state at ${join(out, "state.sqlite")}`);
    assertEquals([...Deno.readDirSync(out)], []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("tidemark state without --out, or with a stray argument, exits 2", async () => {
  const missing = await cli(["state"]);
  assertEquals(missing.code, 2);
  assertStringIncludes(missing.stderr, "needs --out DIR");
  const stray = await cli(["state", "rest", "--out", "x"]);
  assertEquals(stray.code, 2);
  assertStringIncludes(stray.stderr, 'unexpected argument "rest"');
});

Deno.test("state reset --yes forgets the asset's watermarks, pages and skip, and nothing else", async () => {
  await withOut(async (out) => {
    for (const asset of ["Orders", "u1"]) {
      const { code, stdout } = await cli([
        "state",
        "reset",
        "--out",
        out,
        "--asset",
        asset,
        "--yes",
      ]);
      assertEquals(code, 0);
      assertStringIncludes(stdout, `reset "${asset}"`);
    }
    const store = read(out);
    try {
      assertEquals(await store.getWatermark("Orders"), undefined);
      assertEquals(await store.resumePoint("Orders", ""), undefined);
      assertEquals(await store.committedOutputs("Orders"), new Set());
      assertEquals(await store.listSkips(), []);
      assertEquals((await store.getWatermark("Customers"))?.lastId, "91");
      assertEquals((await store.listRuns()).length, 2);
    } finally {
      await store.close();
    }
  });
});

Deno.test("state reset while a harvest writes the folder is refused with exit 2 and changes nothing", async () => {
  await withOut(async (out) => {
    const running = await lockOutFolder(out, {
      command: "harvest",
      runId: "20260103T100000Z-cccccc",
    });
    try {
      const { code, stderr } = await cli([
        "state",
        "reset",
        "--out",
        out,
        "--asset",
        "Orders",
        "--yes",
      ]);
      assertEquals(code, 2);
      assertStringIncludes(stderr, "in use by harvest run 20260103T100000Z-cccccc");
    } finally {
      running.release();
    }
    const store = read(out);
    try {
      assertEquals((await store.getWatermark("Orders"))?.lastTimestamp, "1998-05-06T00:00:00.000Z");
    } finally {
      await store.close();
    }
    const { code } = await cli(["state", "reset", "--out", out, "--asset", "Orders", "--yes"]);
    assertEquals(code, 0, "once the run is over, the reset goes through");
  });
});

Deno.test("state reset shows what it forgets before it asks", async () => {
  await withOut(async (out) => {
    const io: StateCommandIo = { isTerminal: () => true, prompt: () => "n" };
    const { result, stdout } = await capture(() =>
      stateCommand(io).run(["reset", "--out", out, "--asset", "Orders"])
    );
    assertEquals(result, 1);
    assertEquals(stdout.split("\n"), [
      `reset asset "Orders" in ${join(out, "state.sqlite")}:`,
      "  forget watermark default: 1998-05-06T00:00:00.000Z",
      "  forget 1 page(s) awaiting resume and the record of 1 output part(s) (files are kept)",
      "  warning: run 20260102T100000Z-bbbbbb (started 2026-01-02T10:00:00.000Z) is still marked running; stop it first if it is alive",
      "  the next run starts from the configured initial value (or --since)",
      "not reset; nothing changed",
    ]);
    const store = read(out);
    try {
      assert((await store.getWatermark("Orders")) !== undefined);
    } finally {
      await store.close();
    }
  });
});

Deno.test("state reset on a terminal resets when the answer is y", async () => {
  await withOut(async (out) => {
    const asked: string[] = [];
    const io: StateCommandIo = {
      isTerminal: () => true,
      prompt: (message) => (asked.push(message), " Y "),
    };
    const { result } = await capture(() =>
      stateCommand(io).run(["reset", "--out", out, "--asset", "Customers"])
    );
    assertEquals([result, asked], [0, ['Reset asset "Customers"? [y/N]']]);
    const store = read(out);
    try {
      assertEquals(await store.getWatermark("Customers"), undefined);
    } finally {
      await store.close();
    }
  });
});

Deno.test("state reset off a terminal without --yes refuses with exit 2 and changes nothing", async () => {
  await withOut(async (out) => {
    let asked = false;
    const io: StateCommandIo = { isTerminal: () => false, prompt: () => (asked = true, "y") };
    const error = await assertRejects(
      () => capture(() => stateCommand(io).run(["reset", "--out", out, "--asset", "Orders"])),
      UsageError,
      'refusing to reset asset "Orders" without confirmation: stdin is not a terminal; pass --yes',
    );
    assertEquals([(error as UsageError).exitCode, asked], [2, false]);
    const store = read(out);
    try {
      assert((await store.getWatermark("Orders")) !== undefined);
    } finally {
      await store.close();
    }
  });
});

Deno.test("tidemark state reset with stdin not a terminal exits 2 with one clear line", async () => {
  await withOut(async (out) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "main.ts",
        "state",
        "reset",
        "--out",
        out,
        "--asset",
        "Orders",
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assertEquals(output.code, 2);
    assertEquals(
      new TextDecoder().decode(output.stderr).trim(),
      'tidemark state: refusing to reset asset "Orders" without confirmation: stdin is not a terminal; pass --yes to confirm',
    );
  });
});

Deno.test("state reset of an unknown asset or without --asset exits 2 naming the known ones", async () => {
  await withOut(async (out) => {
    const unknown = await cli(["state", "reset", "--out", out, "--asset", "orders", "--yes"]);
    assertEquals(unknown.code, 2);
    assertStringIncludes(
      unknown.stderr,
      'nothing is stored for asset "orders"',
    );
    assertStringIncludes(unknown.stderr, "known assets: Customers, Orders, u1");
    const none = await cli(["state", "reset", "--out", out, "--yes"]);
    assertEquals(none.code, 2);
    assertStringIncludes(none.stderr, "needs --asset A");
  });
});
