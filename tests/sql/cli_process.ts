/**
 * Test support: runs `tidemark extract` in a child process and kills it (SIGKILL) as soon as
 * its first part is renamed into place under `watchDir` — event-driven, no sleeping.
 * @module
 */
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** How the child ended. */
export interface KillOutcome {
  /** The signal that ended it (`SIGKILL` when it was still running). */
  signal: Deno.Signal | null;
  /** Its exit code. */
  code: number;
}

/** Starts `tidemark extract ...args`, kills it after its first `.parquet` part appears. */
export async function killExtractAfterFirstPart(
  watchDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<KillOutcome> {
  const watcher = Deno.watchFs(watchDir, { recursive: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      "--allow-net=127.0.0.1",
      MAIN,
      "extract",
      ...args,
    ],
    env,
    stdout: "null",
    stderr: "null",
  }).spawn();
  const exited = child.status.then(() => "exited" as const);
  const events = watcher[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([events.next(), exited]);
      if (next === "exited" || next.done) break;
      if (next.value.paths.some((p) => p.endsWith(".parquet"))) break;
    }
  } finally {
    watcher.close();
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // already ended
  }
  const status = await child.status;
  return { signal: status.signal, code: status.code };
}
