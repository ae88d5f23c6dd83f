import { assertEquals } from "../assert.ts";
import { estimateFrameBytes, noteReleasedFrame } from "../../lib/sinks/native_memory.ts";

Deno.test("a collection runs only once released frames reach the threshold", () => {
  assertEquals(noteReleasedFrame(1000, 1000), true); // whatever earlier tests left pending
  assertEquals(noteReleasedFrame(400, 1000), false);
  assertEquals(noteReleasedFrame(500, 1000), false);
  assertEquals(noteReleasedFrame(100, 1000), true);
  assertEquals(noteReleasedFrame(999, 1000), false);
});

Deno.test("frame size estimates count every cell and the text of string columns", () => {
  assertEquals(
    estimateFrameBytes([
      { type: "int64", values: [1, 2, null] },
      { type: "string", values: ["abc", null, "de"] },
    ]),
    3 * 9 + 3 * 9 + 5,
  );
});
