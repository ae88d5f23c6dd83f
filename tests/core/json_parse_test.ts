/**
 * JSON text → values without losing integers beyond 2^53, and the quick look for a run of digits
 * that decides whether the exact (slower) parse is needed.
 */
import fc from "fast-check";
import { hasDigitRun, parseJsonExact } from "../../lib/core/json_parse.ts";
import { assertEquals } from "../assert.ts";

Deno.test("json parse: an integer beyond 2^53 comes back as its exact digits, others as numbers", () => {
  assertEquals(parseJsonExact('{"id":9007199254740993,"n":1,"f":1.5,"s":"12345678901234567"}'), {
    id: "9007199254740993",
    n: 1,
    f: 1.5,
    s: "12345678901234567",
  });
  assertEquals(parseJsonExact("[-12345678901234567890, 9007199254740991]"), [
    "-12345678901234567890",
    9007199254740991,
  ]);
});

Deno.test("json parse: hasDigitRun finds a run of the length wherever it starts, and no shorter run", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom("a", "-", ":", '"', " "), fc.integer({ min: 0, max: 9 })), {
        maxLength: 200,
      }),
      fc.integer({ min: 1, max: 20 }),
      (parts, length) => {
        const text = parts.join("");
        assertEquals(hasDigitRun(text, length), new RegExp(`\\d{${length}}`).test(text));
      },
    ),
    { numRuns: 2000 },
  );
  assertEquals(hasDigitRun("x".repeat(15) + "1".repeat(16), 16), true);
  assertEquals(hasDigitRun("1".repeat(15) + "x" + "1".repeat(15), 16), false);
  assertEquals(hasDigitRun("", 16), false);
});
