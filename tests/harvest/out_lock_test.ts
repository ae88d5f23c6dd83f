/**
 * One run at a time per out folder (`lib/out_lock.ts`): a second harvest on a folder in use is
 * refused before it touches anything, naming the run that holds it; the first run finishes
 * undisturbed; a killed holder leaves no stale lock.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  LOCK_FILE,
  LOCK_HOLDER_FILE,
  lockOutFolder,
  OutFolderBusyError,
} from "../../lib/run/out_lock.ts";
import type { FetchFunction } from "../../lib/http/fetch_resilient.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import {
  ordersYaml,
  parquetKeys,
  run,
  sorted,
  sourceKeys,
  withMockRun,
  yamlConfig,
} from "./fixture.ts";
import { tempFolders } from "../temp_dir.ts";

const withTempDir = tempFolders("tidemark-lock-");

Deno.test("out lock: a second lock is refused at once with the holder and the fix, exit 2", async () => {
  await withTempDir(async (out) => {
    const first = await lockOutFolder(out, { command: "harvest", runId: "run-one" });
    const error = await assertRejects(
      () => lockOutFolder(out, { command: "harvest", runId: "run-two" }),
      OutFolderBusyError,
    );
    assertEquals(error.exitCode, 2);
    assertEquals(error.holder?.runId, "run-one");
    assertEquals(error.holder?.pid, Deno.pid);
    assertStringIncludes(error.message, "harvest run run-one");
    assertStringIncludes(error.message, "another --out");
    first.release();
    const second = await lockOutFolder(out, { command: "extract", runId: "run-two" });
    second.release();
    second.release(); // idempotent
  });
});

Deno.test("out lock: a holder killed with SIGKILL leaves no stale lock", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    const script = join(dir, "holder.ts");
    const lib = fileURLToPath(new URL("../../lib/run/out_lock.ts", import.meta.url));
    await Deno.writeTextFile(
      script,
      `import { lockOutFolder } from ${JSON.stringify(lib)};\n` +
        `await lockOutFolder(${JSON.stringify(out)}, { command: "harvest", runId: "killed" });\n` +
        `console.log("held");\n` +
        `setInterval(() => {}, 1000);\n`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", script],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assertStringIncludes(new TextDecoder().decode(value), "held");
    const error = await assertRejects(
      () => lockOutFolder(out, { command: "harvest", runId: "next" }),
      OutFolderBusyError,
    );
    assertStringIncludes(error.message, "harvest run killed");
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    const lock = await lockOutFolder(out, { command: "harvest", runId: "next" });
    lock.release();
  });
});

Deno.test("out lock: discard leaves no trace, and removes a folder the lock created", async () => {
  await withTempDir(async (dir) => {
    const fresh = join(dir, "fresh");
    const lock = await lockOutFolder(fresh, { command: "extract", runId: "r1" });
    assert(lock.created);
    lock.release({ discard: true });
    assertEquals(await Array.fromAsync(Deno.readDir(dir)), []);

    const existing = await lockOutFolder(dir, { command: "extract", runId: "r2" });
    assertEquals(existing.created, false);
    existing.release({ discard: true });
    assertEquals(await Array.fromAsync(Deno.readDir(dir)), []);

    const kept = await lockOutFolder(dir, { command: "extract", runId: "r3" });
    assertEquals(
      (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(),
      [LOCK_FILE, LOCK_HOLDER_FILE],
    );
    kept.release();
    assertEquals(
      (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name),
      [LOCK_FILE],
      "the holder note goes with the lock; the lock file stays",
    );
  });
});

Deno.test("harvest: a second run on an out folder in use is refused and the first finishes exactly once", async () => {
  await withMockRun(async (fixture, out) => {
    const config = yamlConfig(ordersYaml({ name: "lock" }));
    // The first run's first request waits until the second run has been refused.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => open = resolve);
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => entered = resolve);
    const held: FetchFunction = async (input, init) => {
      entered();
      await gate;
      return fixture.fetch(input, init);
    };
    const first = run(fixture, config, out, { fetch: held });
    await inFlight;
    const before = (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name).sort();
    const error = await assertRejects(() => run(fixture, config, out), OutFolderBusyError);
    assertEquals(error.exitCode, 2);
    assertEquals(error.holder?.command, "harvest");
    assertStringIncludes(error.message, out);
    assertEquals(
      (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name).sort(),
      before,
      "the refused run wrote nothing",
    );
    open();
    const result = await first;
    assertEquals(result.exitCode, 0);
    assertEquals(result.crashedRuns, [], "the first run was never taken for a crashed one");
    const keys = await parquetKeys(out, "Orders", ["OrderID"]);
    assertEquals(sorted(keys), sourceKeys(fixture.db, "Orders", ["OrderID"]));
    const again = await run(fixture, config, out);
    assertEquals(again.exitCode, 0, "the lock was given back");
  });
});
