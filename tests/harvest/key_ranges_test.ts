/** Key ranges: even half-open splits, open ends, BigInt keys. */
import { splitKeyRange } from "../../lib/harvest/key_ranges.ts";
import { assertEquals } from "../assert.ts";

Deno.test("key ranges: the span is cut into half-open ranges, open at both ends", () => {
  const ranges = splitKeyRange("OrderID", 10248n, 11077n, 4);
  assertEquals(ranges.map((r) => r.key), [
    "OrderID<10456",
    "OrderID>=10456<10664",
    "OrderID>=10664<10872",
    "OrderID>=10872",
  ]);
  assertEquals(ranges[1].params, { OrderID__gte: "10456", OrderID__lt: "10664" });
  assertEquals(ranges[0].params, { OrderID__lt: "10456" });
  assertEquals(ranges[3].params, { OrderID__gte: "10872" });
});

Deno.test("key ranges: fewer keys than parts give fewer ranges; one key gives no filter", () => {
  assertEquals(splitKeyRange("id", 1n, 2n, 4).map((r) => r.key), ["id<2", "id>=2"]);
  assertEquals(splitKeyRange("id", 5n, 5n, 4), [
    { index: 0, key: "", lower: null, upper: null, params: {} },
  ]);
});

Deno.test("key ranges: bounds stay exact above 2^53 and parameter names are configurable", () => {
  const ranges = splitKeyRange("id", 9007199254740993n, 9007199254741001n, 2, {
    lowerParam: "min_id",
    upperParam: "max_id",
  });
  assertEquals(ranges.map((r) => r.params), [
    { max_id: "9007199254740998" },
    { min_id: "9007199254740998" },
  ]);
});
