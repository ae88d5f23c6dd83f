import { serveMockChild } from "../../mock_api/child.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ARGS = ["--auth", "none", "--rate-limit", "0", "--scale", "1"];

Deno.test("serveMockChild: the child serves on a free loopback port, with the caller's deno flags, until stopped", async () => {
  const mock = await serveMockChild(MAIN, ARGS, {
    denoFlags: ["--v8-flags=--max-semi-space-size=4,--heap-growing-percent=50"],
  });
  try {
    assert(/^http:\/\/127\.0\.0\.1:\d+$/.test(mock.url), mock.url);
    assert(mock.pid > 0);
    const res = await fetch(`${mock.url}/northwind/Orders.json?_size=2`);
    assertEquals(res.status, 200);
    assertEquals((await res.json()).rows.length, 2);
  } finally {
    await mock.stop();
  }
  await assertRejects(() => fetch(`${mock.url}/-/health`));
});

Deno.test("serveMockChild: a flag deno refuses stops the start with deno's own message", async () => {
  const error = await assertRejects(
    () => serveMockChild(MAIN, ARGS, { denoFlags: ["--no-such-flag"] }),
    Error,
    "the mock did not start",
  );
  assert(error.message.includes("--no-such-flag"), error.message);
});
