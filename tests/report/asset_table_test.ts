import { assertEquals } from "../assert.ts";
import { ASSET_TABLE_HEADINGS, formatFigures } from "../../lib/report/asset_table.ts";

const figures = {
  pages: 1234,
  records: 1234567,
  rejects: 0,
  retries: 2,
  status_429: 3,
  status_304: 4,
  skips: 5,
  bytes: 1536,
  seconds: 754,
};

Deno.test("figures are counts with thousands separators, then bytes and time in human units", () => {
  assertEquals(formatFigures(figures), [
    "1,234",
    "1,234,567",
    "0",
    "2",
    "3",
    "4",
    "5",
    "1.5 KB",
    "12m34s",
  ]);
});

Deno.test("the headings name asset and status, one heading per figure, then the starting point", () => {
  assertEquals(ASSET_TABLE_HEADINGS.length, 2 + formatFigures(figures).length + 1);
  assertEquals(ASSET_TABLE_HEADINGS.slice(0, 2), ["asset", "status"]);
  assertEquals(ASSET_TABLE_HEADINGS.slice(2, -1), [
    "pages",
    "records",
    "rejects",
    "retries",
    "429",
    "304",
    "skips",
    "bytes",
    "time",
  ]);
  assertEquals(ASSET_TABLE_HEADINGS.at(-1), "started from");
});
