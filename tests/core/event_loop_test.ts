/**
 * Yielding to the event loop in the middle of long synchronous work: a request handed to `fetch`
 * reaches the server only once the loop runs — a microtask is not enough, `yieldToEventLoop` is.
 */
import { yieldToEventLoop, yieldTurns } from "../../lib/core/event_loop.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test("event loop: a fetch reaches the server after yieldToEventLoop, not after microtasks", async () => {
  let arrived = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    arrived++;
    return new Response("ok");
  });
  try {
    const response = fetch(`http://127.0.0.1:${server.addr.port}/`);
    for (let i = 0; i < 100; i++) await Promise.resolve();
    assertEquals(arrived, 0, "microtasks alone sent the request");
    let turns = 0;
    while (arrived === 0 && turns < 1000) {
      await yieldToEventLoop();
      turns++;
    }
    assert(arrived === 1, `the request had not arrived after ${turns} turns`);
    assertEquals(await (await response).text(), "ok");
  } finally {
    await server.shutdown();
  }
});

Deno.test("event loop: yieldTurns lets a request reach the server and its response come back in one call", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    return new Response("ok");
  });
  try {
    let answered = false;
    const response = fetch(`http://127.0.0.1:${server.addr.port}/`).then(async (r) => {
      await r.text();
      answered = true;
    });
    let calls = 0;
    while (!answered && calls < 1000) {
      await yieldTurns(3);
      calls++;
    }
    assert(answered, `no answer after ${calls} calls`);
    await response;
  } finally {
    await server.shutdown();
  }
});
