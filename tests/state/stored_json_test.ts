import { z } from "zod";
import { StateError } from "../../lib/core/errors.ts";
import { openSqliteState } from "../../lib/state/sqlite.ts";
import { readStoredJson, resetCommand } from "../../lib/state/stored_json.ts";
import { assertEquals, assertRejects } from "../assert.ts";

const plan = { asset: "Order Details", dataType: "harvest_plan", what: "harvest plan" };
const schema = z.object({ runId: z.string() });

Deno.test("a stored value is read back through its schema; none is undefined", async () => {
  const state = openSqliteState(":memory:");
  try {
    assertEquals(await readStoredJson(state, { ...plan, schema }), undefined);
    await state.setWatermark({
      assetId: "Order Details",
      dataType: "harvest_plan",
      lastId: JSON.stringify({ runId: "r1" }),
    });
    assertEquals(await readStoredJson(state, { ...plan, schema }), { runId: "r1" });
  } finally {
    await state.close();
  }
});

Deno.test("an unreadable stored value names the asset and the reset command that works", async () => {
  const state = openSqliteState(":memory:");
  try {
    await state.setWatermark({ assetId: "Order Details", dataType: "harvest_plan", lastId: "{" });
    await assertRejects(
      () => readStoredJson(state, { ...plan, schema, out: "out/nw" }),
      StateError,
      `the stored harvest plan of asset "Order Details" is unreadable; the asset's next run ` +
        `starts over once you forget it: tidemark state reset --out out/nw --asset 'Order Details'`,
    );
  } finally {
    await state.close();
  }
});

Deno.test("the reset command quotes what a shell would split", () => {
  assertEquals(resetCommand("Orders", "out"), "tidemark state reset --out out --asset Orders");
  assertEquals(
    resetCommand("it's", "my out"),
    `tidemark state reset --out 'my out' --asset 'it'\\''s'`,
  );
});
