/**
 * The mock served by a child process (`tidemark serve` run from the given `main.ts`), for the
 * benchmarks and demos that must keep the server off their own event loop and CPU accounting.
 * @module
 */

/** A mock served by a child process. */
export interface MockChild {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The child's process id (a benchmark reads its CPU time from `/proc`). */
  pid: number;
  /** Stops the child and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options of {@link serveMockChild}. */
export interface MockChildOptions {
  /**
   * More flags for the child's `deno run`, before the module. A caller whose other processes run
   * with V8 flags passes the same ones: V8 rejects code that Deno cached under other flags, so a
   * child with different flags would evict the compiled modules the others share with it.
   */
  denoFlags?: readonly string[];
}

/**
 * Starts `deno run <main> serve --port 0 …args` and resolves once it prints the address it
 * listens on. Port 0 lets the system pick a free port, so two children never race for one; the
 * child's output keeps being read so that it never blocks on a full pipe.
 *
 * @example
 * ```ts
 * import { serveMockChild } from "./child.ts";
 * const mock = await serveMockChild("main.ts", ["--auth", "none", "--rate-limit", "0"]);
 * // … requests to mock.url …
 * await mock.stop();
 * ```
 */
export async function serveMockChild(
  main: string,
  args: readonly string[],
  options: MockChildOptions = {},
): Promise<MockChild> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      ...(options.denoFlags ?? []),
      main,
      "serve",
      "--port",
      "0",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The child's errors are kept only until it listens (to explain a failed start); after that
  // they are drained unread, so a long-lived mock's output never piles up here.
  let errors = "";
  let listening = false;
  const drained = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      if (!listening) errors += text;
    }
  })().catch(() => {});
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening on (\S+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      await drained;
      throw new Error(`the mock did not start: ${text}${errors}`.trim());
    }
    text += value;
  }
  const url = /listening on (\S+)/.exec(text)![1];
  listening = true;
  errors = "";
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  return {
    url,
    pid: child.pid,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
    },
  };
}
