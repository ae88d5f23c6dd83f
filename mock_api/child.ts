/**
 * The mock served by a child process (`tidemark serve` run from the given `main.ts`), for the
 * benchmarks and demos that must keep the server off their own event loop and CPU accounting.
 * @module
 */

/** A mock served by a child process. */
export interface MockChild {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Stops the child and waits for it to exit. */
  stop(): Promise<void>;
}

/** A free port on 127.0.0.1. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts `deno run <main> serve --port P …args` on a free port and resolves once it answers
 * `/-/health` (polled every 50 ms, up to `attempts` times).
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
  options: { attempts?: number } = {},
): Promise<MockChild> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      main,
      "serve",
      "--port",
      String(port),
      ...args,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < (options.attempts ?? 200); i++) {
    const ok = await fetch(`${url}/-/health`).then(async (r) => {
      await r.body?.cancel();
      return r.ok;
    }, () => false);
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}
