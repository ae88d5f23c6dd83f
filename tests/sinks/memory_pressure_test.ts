import { assertEquals } from "../assert.ts";
import {
  estimateFrameBytes,
  noteReleasedFrame,
  noteReleasedText,
} from "../../lib/sinks/memory_pressure.ts";

Deno.test("a collection runs only once released frames reach the threshold", () => {
  assertEquals(noteReleasedFrame(1000, 1000), true); // whatever earlier tests left pending
  assertEquals(noteReleasedFrame(400, 1000), false);
  assertEquals(noteReleasedFrame(500, 1000), false);
  assertEquals(noteReleasedFrame(100, 1000), true);
  assertEquals(noteReleasedFrame(999, 1000), false);
});

Deno.test("streamed text counts against its own threshold", () => {
  assertEquals(noteReleasedText(1000, 1000), true);
  assertEquals(noteReleasedText(600, 1000), false);
  assertEquals(noteReleasedText(400, 1000), true);
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
