/**
 * `startMockServer(options)`: the mock app served by `Deno.serve` on 127.0.0.1 (port 0, a free
 * port, by default), for tests and the CLI.
 * @module
 */
import { checkMockOptions, createApp, type MockOptions, openMockDatabase } from "./app.ts";
import { isClientGone } from "./middleware/faults.ts";
import type { MockApp } from "./context.ts";

/** Where and how long to serve, on top of the app's {@link MockOptions}. */
export interface MockServerOptions extends MockOptions {
  /** Interface to bind. @default "127.0.0.1" */
  hostname?: string;
  /** Port to bind; 0 picks a free one. @default 0 */
  port?: number;
  /** Aborting it stops the server (like {@link MockServer.close}). */
  signal?: AbortSignal;
}

/** A running mock server. */
export interface MockServer {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  /** The bound port. */
  port: number;
  /** The app being served (for `app.request()` side doors in tests). */
  app: MockApp;
  /** Stops listening, drops held requests, closes a database the server opened. */
  close(): Promise<void>;
}

/**
 * Starts the mock API on `hostname:port`.
 *
 * @example
 * ```ts
 * const server = await startMockServer({ auth: "none", rateLimit: 20, rateWindowMs: 2_000 });
 * const res = await fetch(`${server.url}/northwind/Orders.json?_size=5`);
 * await res.body?.cancel();
 * await server.close();
 * ```
 */
export async function startMockServer(options: MockServerOptions = {}): Promise<MockServer> {
  const { hostname = "127.0.0.1", port = 0, signal, ...appOptions } = options;
  checkMockOptions(appOptions);
  const { db, owned } = openMockDatabase(appOptions);
  const app = createApp({ ...appOptions, db });
  const stop = new AbortController();
  let listening: (addr: Deno.NetAddr) => void = () => {};
  const ready = new Promise<Deno.NetAddr>((resolve) => listening = resolve);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      signal: stop.signal,
      onListen: (addr) => listening(addr),
      // A handler only throws when the client gave up on a held request: nobody to answer.
      onError: (error) => new Response(null, { status: isClientGone(error) ? 499 : 500 }),
    }, (request) => app.fetch(request));
  } catch (error) {
    if (owned) db.close();
    throw error;
  }
  const addr = await ready;
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      signal?.removeEventListener("abort", onAbort);
      // Aborting the serve signal also aborts every in-flight request's signal, which ends held
      // `timeout` faults at once instead of after timeoutHoldMs.
      stop.abort();
      await server.finished;
      if (owned) db.close();
    })();
  const onAbort = () => void close();
  if (signal?.aborted) await close();
  else signal?.addEventListener("abort", onAbort, { once: true });
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return { url: `http://${host}:${addr.port}`, port: addr.port, app, close };
}
