/**
 * The decision both merge engines share: one row per key, the newest by the order column (null
 * oldest), ties to the run's row and then the later row, written in key order; and the same
 * decision applied to one sorted part without sorting it again.
 */
import fc from "fast-check";
import { assertEquals, assertThrows } from "../assert.ts";
import { ContractError } from "../../lib/core/errors.ts";
import { applyToPart, checkDecisionColumns, chooseRows } from "../../lib/sinks/merge_rows.ts";
import type { CellValue } from "../../lib/sinks/column_types.ts";

Deno.test("the newest row of each key survives, in key order", () => {
  const keys = [[3, 1, 3, 2]];
  const order = ["2026-01-02", "2026-01-01", "2026-01-01", null];
  assertEquals(chooseRows({ keys, order, sources: Uint8Array.of(0, 0, 1, 1) }), [1, 3, 0]);
});

Deno.test("on an equal order the run's row wins, then the later row", () => {
  const keys = [[1, 1, 1, 2, 2]];
  assertEquals(chooseRows({ keys, sources: Uint8Array.of(0, 1, 0, 1, 1) }), [1, 4]);
});

Deno.test("a null order is older than any value", () => {
  const keys = [[1, 1]];
  assertEquals(chooseRows({ keys, order: [5, null], sources: Uint8Array.of(0, 1) }), [0]);
});

Deno.test("keys of several columns and ids beyond 2^53 stay distinct", () => {
  const big = 2n ** 60n;
  const keys = [[big, big + 1n, big], ["a", "a", "b"]];
  assertEquals(chooseRows({ keys, sources: new Uint8Array(3) }), [0, 2, 1]);
});

Deno.test("a null key column is refused, naming the column", () => {
  assertThrows(
    () => checkDecisionColumns(["id"], () => [1, null], { primaryKey: ["id"] }),
    ContractError,
    'null "id"',
  );
});

Deno.test("applied to a sorted part, the run's rows take their keys' places", () => {
  const keys = [[1, 2, 3, 2, 3]];
  const order = [1, 5, 1, 4, 1];
  const sources = Uint8Array.of(0, 0, 0, 1, 1);
  assertEquals(applyToPart({ keys, order, sources }, 3), [0, 1, 4]);
});

Deno.test("on a part with unique sorted keys, applyToPart keeps the rows chooseRows keeps", () => {
  const row = fc.record({
    key: fc.integer({ min: 0, max: 30 }),
    order: fc.option(fc.integer({ min: 0, max: 3 })),
  });
  fc.assert(
    fc.property(fc.uniqueArray(row, { selector: (r) => r.key }), fc.array(row), (part, run) => {
      part.sort((a, b) => a.key - b.key);
      const held = new Set(part.map((r) => r.key));
      const theirs = run.filter((r) => held.has(r.key));
      const all = [...part, ...theirs];
      const columns = {
        keys: [all.map((r) => r.key as CellValue)],
        order: all.map((r) => r.order as CellValue),
        sources: Uint8Array.from(all, (_, i) => (i < part.length ? 0 : 1)),
      };
      assertEquals(applyToPart(columns, part.length), chooseRows(columns));
    }),
  );
});
