/**
 * `transform:`: flattened columns or the ELT shape (`raw_data`, `extracted_at`), key
 * fields and their `insert_id`, added fields rendered from the run and the record.
 */
import { shapedWriter, shapeRows } from "../../lib/pipeline/record_shape.ts";
import { assertEquals, assertNotEquals } from "../assert.ts";
import { yamlConfig } from "../harvest/fixture.ts";

const NOW = new Date("2026-01-02T03:04:05.000Z");
const OPTIONS = { runId: "20260102T030405Z-abcdef", now: NOW };
const RECORD = { id: 7, title: { rendered: "Hi" }, author: 3 };

Deno.test("shape: flatten true writes the record's fields plus the added ones", () => {
  const [row] = shapeRows([RECORD], { flatten: true, add_fields: { source: "wp" } }, OPTIONS);
  assertEquals(row, { id: 7, title: { rendered: "Hi" }, author: 3, source: "wp" });
});

Deno.test("shape: flatten false writes raw_data and extracted_at, not the fields", () => {
  const [row] = shapeRows([RECORD], { flatten: false }, OPTIONS);
  assertEquals(row, {
    raw_data: '{"id":7,"title":{"rendered":"Hi"},"author":3}',
    extracted_at: "2026-01-02T03:04:05.000Z",
  });
});

Deno.test("shape: key_fields are kept as columns and hashed into insert_id", () => {
  const rows = shapeRows(
    [RECORD, { ...RECORD, author: 4 }, { ...RECORD, id: 8 }],
    { flatten: false, key_fields: ["id"] },
    OPTIONS,
  );
  assertEquals(rows.map((r) => r.id), [7, 7, 8]);
  assertEquals(rows[0].insert_id, rows[1].insert_id, "same key, same insert id");
  assertNotEquals(rows[0].insert_id, rows[2].insert_id);
  assertEquals(String(rows[0].insert_id).length, 64);
});

Deno.test("shape: add_fields render {run_id}, {now}, {today} and {record.…} of each record", () => {
  const [row] = shapeRows([RECORD], {
    flatten: true,
    add_fields: {
      run: "{run_id}",
      at: "{now}",
      day: "{today}",
      title: "{record.title.rendered}",
      missing: "{record.nope}",
    },
  }, OPTIONS);
  assertEquals(
    [row.run, row.at, row.day, row.title, row.missing],
    [OPTIONS.runId, "2026-01-02T03:04:05.000Z", "2026-01-02", "Hi", null],
  );
});

Deno.test("shape: an asset without transform keeps its writer; with one, rows are shaped and timed by the run id", async () => {
  const written: Record<string, unknown>[][] = [];
  const writer = {
    write: (rows: readonly Record<string, unknown>[]) => {
      written.push([...rows]);
      return Promise.resolve([]);
    },
  };
  const config = yamlConfig(`name: t
base_url: http://127.0.0.1:9000
assets:
  - { name: plain, path: /x, data_path: rows }
  - { name: shaped, path: /y, data_path: rows, transform: { flatten: false } }
`).config;
  assertEquals(shapedWriter(writer, config.assets[0], OPTIONS), writer);
  const later = { runId: OPTIONS.runId, now: new Date("2030-01-01T00:00:00Z") };
  await shapedWriter(writer, config.assets[1], later).write([RECORD], "00001");
  assertEquals(written[0][0].extracted_at, "2026-01-02T03:04:05.000Z");
});
