/**
 * Test bed for object storage: an in-process s3rver on 127.0.0.1 (port 0, temporary folder), a
 * fault proxy in front of it that can answer instead of the server or rewrite its answers (to
 * inject a 503, a refused credential or a corrupted HeadObject), and a clock that records
 * sleeps without sleeping.
 * @module
 */
import S3rver from "s3rver";
import type { Clock } from "../../lib/core/clock.ts";

/** A running s3rver. */
export interface S3rverFixture {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Where s3rver keeps its files. */
  directory: string;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
  /** Same as close. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts s3rver with the given buckets (created before it listens). */
export async function startS3rver(buckets: string[] = ["lake"]): Promise<S3rverFixture> {
  const directory = await Deno.makeTempDir({ prefix: "tidemark-s3rver-" });
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const address = await server.run() as { port: number };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
    await Deno.remove(directory, { recursive: true });
  };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    directory,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** What the proxy saw: method, path and query of every request, in order. */
export interface SeenRequest {
  /** HTTP method. */
  method: string;
  /** Decoded path (`/bucket/key`). */
  path: string;
  /** Query parameters. */
  query: URLSearchParams;
}

/** Hooks of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Answer instead of the server (return a Response), or let the request through (undefined). */
  before?: (request: SeenRequest, index: number) => Response | undefined;
  /** Rewrite the server's answer. */
  after?: (request: SeenRequest, response: Response) => Response;
}

/** A proxy in front of s3rver. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Every request received. */
  seen: SeenRequest[];
  /** Stops the proxy. */
  close(): Promise<void>;
  /** Same as close. */
  [Symbol.asyncDispose](): Promise<void>;
}

const HOP_BY_HOP = ["host", "connection", "keep-alive", "transfer-encoding", "content-length"];

/** Starts a proxy on 127.0.0.1 port 0 that forwards to `upstream` through the hooks. */
export function startFaultProxy(upstream: string, options: FaultProxyOptions = {}): FaultProxy {
  const seen: SeenRequest[] = [];
  const http = Deno.createHttpClient({});
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      const entry = {
        method: request.method,
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
      };
      seen.push(entry);
      const early = options.before?.(entry, seen.length - 1);
      if (early) {
        await request.body?.cancel();
        return early;
      }
      const headers = new Headers(request.headers);
      for (const name of HOP_BY_HOP) headers.delete(name);
      // Buffered, so the server sees a Content-Length as it would from the SDK.
      const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
      const answer = await fetch(`${upstream}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        body,
        redirect: "manual",
        client: http,
      });
      const bodyless = request.method === "HEAD" || [101, 204, 205, 304].includes(answer.status);
      const bytes = bodyless ? null : new Uint8Array(await answer.arrayBuffer());
      if (bodyless) await answer.body?.cancel();
      const response = new Response(bytes, { status: answer.status, headers: answer.headers });
      return options.after ? options.after(entry, response) : response;
    },
  );
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.shutdown();
    http.close();
  };
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    seen,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** An S3 error answer as servers send it. */
export function s3ErrorResponse(status: number, code: string, message: string): Response {
  return new Response(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
      `<Message>${message}</Message></Error>`,
    { status, headers: { "content-type": "application/xml" } },
  );
}

/** A copy of `response` with some headers replaced. */
export function withHeaders(response: Response, changes: Record<string, string>): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(changes)) headers.set(name, value);
  return new Response(response.body, { status: response.status, headers });
}

/** A clock that never waits: `sleep` records the wait and moves time on. */
export class RecordingClock implements Clock {
  #now: number;
  /** Every wait requested, in milliseconds. */
  readonly sleeps: number[] = [];
  /** Starts at `start` (epoch ms). */
  constructor(start = Date.UTC(2026, 10, 23, 10, 15, 0)) {
    this.#now = start;
  }
  /** Current fake time. */
  now(): number {
    return this.#now;
  }
  /** Records `ms` and returns at once. */
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.#now += ms;
    return Promise.resolve();
  }
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** `size` bytes of a repeating, non-trivial pattern, written to a temporary file. */
export async function patternFile(dir: string, name: string, size: number): Promise<string> {
  const bytes = new Uint8Array(size);
  let x = 2463534242;
  for (let i = 0; i < size; i++) {
    // xorshift32: cheap bytes with no short period, so misplaced parts change the digest.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  const path = `${dir}/${name}`;
  await Deno.writeFile(path, bytes);
  return path;
}
