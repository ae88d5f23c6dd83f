/**
 * `derive:` steps are checked before anything runs: every problem is listed with the path of
 * its field (unknown inputs, a clash with an asset's name, a join without keys, a bad
 * expression, a format other than Parquet, merge mode, a bad partition).
 */
import { parseConfig } from "../../lib/config/load.ts";
import { checkDeriveSteps } from "../../lib/transform/derive_step.ts";
import { assertEquals } from "../assert.ts";

function config(derive: string) {
  return parseConfig(`name: t
base_url: http://127.0.0.1:9000
assets:
  - { name: Orders, path: /o, data_path: rows }
  - { name: Order Details, path: /d, data_path: rows }
derive:
${derive}`).config;
}

Deno.test("the line_items step of the Northwind job has no problem", async () => {
  const text = await Deno.readTextFile(new URL("../../jobs/northwind.yaml", import.meta.url));
  const loaded = parseConfig(text, { env: { API_TOKEN: "t" } });
  assertEquals(checkDeriveSteps(loaded.config), []);
});

Deno.test("every problem of a derive step is listed at its field", () => {
  const issues = checkDeriveSteps(config(`  - name: orders
    from: [Order Details, Order]
    columns: { x: "UnitPrice * (1 -" }
    output: { format: csv, mode: merge, partition_by: ["year(OrderDate"] }
`));
  assertEquals(issues.map((i) => i.path), [
    "derive[0].name",
    "derive[0].from[1]",
    "derive[0].on",
    "derive[0].columns.x",
    "derive[0].output.format",
    "derive[0].output.mode",
    "derive[0].output.partition_by[0]",
  ]);
});

Deno.test("a derive step may read an earlier one, not a later one", () => {
  const issues = checkDeriveSteps(config(`  - { name: b, from: [a] }
  - { name: a, from: [Orders] }
  - { name: c, from: [a] }
`));
  assertEquals(issues.map((i) => i.path), ["derive[0].from[0]"]);
});
