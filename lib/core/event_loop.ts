/**
 * Letting the event loop run in the middle of long synchronous work. Deno's HTTP client lives on
 * this thread's event loop: a request handed to `fetch` reaches its socket, and a response is
 * read, only while JavaScript has returned to the loop. A microtask does not return to it, nor
 * do `setImmediate` or a `MessageChannel` message here; a zero timer does, but costs about a
 * millisecond of idle waiting (four, once timers nest). A round trip of an asynchronous op does,
 * in 20–40 µs.
 * @module
 */

const NOTHING = new Uint8Array(0);

/**
 * Resolves once the event loop has run (pending socket reads and writes included): the digest of
 * zero bytes is an asynchronous op, the cheapest one that every runtime (Deno Deploy too) has. It
 * follows no clock, so a fake clock in a test does not stop it.
 *
 * @example
 * ```ts
 * import { yieldToEventLoop } from "./event_loop.ts";
 * const next = fetch("http://127.0.0.1:9000/page/2"); // not sent yet
 * await yieldToEventLoop(); // sent: the server works while this thread goes on
 * ```
 */
export async function yieldToEventLoop(): Promise<void> {
  await crypto.subtle.digest("SHA-256", NOTHING);
}

/**
 * Lets the event loop run `turns` times in a row: a response takes several turns to become the
 * next request (its headers, its body, then the request the walk sends after reading it), and
 * work that pauses only once between long steps would hold it one step per turn.
 *
 * @example
 * ```ts
 * import { yieldTurns } from "./event_loop.ts";
 * await yieldTurns(3);
 * ```
 */
export async function yieldTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await yieldToEventLoop();
}
