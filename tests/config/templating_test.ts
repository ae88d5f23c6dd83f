import {
  checkTemplate,
  formatTimestamp,
  renderParams,
  renderTemplate,
} from "../../lib/config/templating.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import { assertEquals, assertThrows } from "../assert.ts";

const context = {
  watermark: "1997-01-01T10:20:30.456Z",
  lastId: "1861234567890123456",
  runId: "20260101T100000Z-abc123",
  now: new Date("2026-01-02T03:04:05.678Z"),
};

Deno.test("templating: {watermark} renders the normalized watermark", () => {
  assertEquals(renderTemplate("{watermark}", context), "1997-01-01T10:20:30.456Z");
});

Deno.test("templating: {watermark:<format>} renders date, SQL datetime and epochs", () => {
  assertEquals(renderTemplate("{watermark:date}", context), "1997-01-01");
  assertEquals(renderTemplate("{watermark:datetime}", context), "1997-01-01 10:20:30.456");
  assertEquals(renderTemplate("{watermark:epoch}", context), "852114030");
  assertEquals(renderTemplate("{watermark:epoch_ms}", context), "852114030456");
});

Deno.test("templating: an id watermark renders as is whatever the format", () => {
  assertEquals(
    renderTemplate("{watermark:date}", { watermark: "1861234567890123456" }),
    "1861234567890123456",
  );
});

Deno.test("templating: {last_id}, {run_id}, {today} and {now} come from the context and its clock", () => {
  assertEquals(
    renderTemplate("id>{last_id} run={run_id} day={today} at={now}", context),
    "id>1861234567890123456 run=20260101T100000Z-abc123 day=2026-01-02 at=2026-01-02T03:04:05.678Z",
  );
  assertEquals(renderTemplate("{today:iso}", context), "2026-01-02T00:00:00.000Z");
  assertEquals(renderTemplate("{now:epoch}", context), "1767323045");
});

Deno.test("templating: {record.Field} reads the parent record, nested paths included", () => {
  assertEquals(renderTemplate("{record.CustomerID}", { record: { CustomerID: "VINET" } }), "VINET");
  assertEquals(renderTemplate("{record.a.b}", { record: { a: { b: 7 } } }), "7");
});

Deno.test("templating: doubled braces are literal braces", () => {
  assertEquals(
    renderTemplate('{{"since": "{watermark:date}"}}', context),
    '{"since": "1997-01-01"}',
  );
});

Deno.test("templating: a placeholder without a value makes the whole value undefined", () => {
  assertEquals(renderTemplate(">= {watermark}", {}), undefined);
});

Deno.test("templating: renderParams drops params whose placeholder has no value (first run fetches all)", () => {
  const params = { _size: "1000", OrderDate__gte: "{watermark:datetime}" };
  assertEquals(renderParams(params, {}), { _size: "1000" });
  assertEquals(renderParams(params, context), {
    _size: "1000",
    OrderDate__gte: "1997-01-01 10:20:30.456",
  });
  assertEquals(renderParams(params, {}, { keepEmpty: true }), {
    _size: "1000",
    OrderDate__gte: "",
  });
});

Deno.test("templating: checkTemplate explains unknown names, bad formats and stray braces", () => {
  assertEquals(checkTemplate("{today} and {watermark:datetime}"), undefined);
  assertEquals(
    checkTemplate("{watermark:weekday}"),
    'unknown format "weekday" in {watermark:weekday}; expected one of iso, date, datetime, epoch, epoch_ms',
  );
  assertEquals(
    checkTemplate("{run_id:date}"),
    "placeholder {run_id} takes no format; got {run_id:date}",
  );
  assertEquals(checkTemplate("a}b"), 'unmatched "}" in "a}b"; write "}}" for a literal brace');
  assertEquals(checkTemplate("{oops"), 'unclosed "{" in "{oops"; write "{{" for a literal brace');
});

Deno.test("templating: rendering an invalid template throws a ConfigError", () => {
  assertThrows(() => renderTemplate("{nope}", context), ConfigError, "unknown placeholder {nope}");
});

Deno.test("templating: formatTimestamp refuses text that is not a timestamp", () => {
  assertThrows(() => formatTimestamp("soon", "date"), ConfigError, '"soon"');
});
