/** Where assets start (precedence, lookback, clamp, timelines) and in what order they run. */
import { decideStart, selectAssets } from "../../lib/harvest/plan.ts";
import type { AssetConfig } from "../../lib/config/schema.ts";
import { ConfigError, StateError, UsageError } from "../../lib/core/errors.ts";
import { assertEquals, assertThrows } from "../assert.ts";
import { yamlConfig } from "./fixture.ts";

function asset(incremental: string, pagination = "{ type: cursor, param: _next }"): AssetConfig {
  return yamlConfig(`name: plan
base_url: http://127.0.0.1:9000
assets:
  - name: A
    path: /a
    pagination: ${pagination}
    data_path: rows
${incremental ? `    incremental: ${incremental}` : ""}
`).config.assets[0];
}

const NOW = new Date("2026-01-01T00:00:00Z");
const dates = asset('{ cursor_field: d, param: d__gte, initial: "1997-01-01" }');
const stored = { newest: "1998-05-06T00:00:00.000Z", oldest: null };

Deno.test("plan: --full-refresh > --since > state > initial", () => {
  assertEquals(
    decideStart(dates, stored, { fullRefresh: true, since: "1998-01-01", now: NOW }).decision
      .source,
    "full_refresh",
  );
  assertEquals(
    decideStart(dates, stored, { since: "1998-01-01", now: NOW }).watermark,
    "1998-01-01T00:00:00.000Z",
  );
  assertEquals(decideStart(dates, stored, { now: NOW }).watermark, "1998-05-06T00:00:00.000Z");
  assertEquals(
    decideStart(dates, { newest: null, oldest: null }, { now: NOW }).decision.source,
    "initial",
  );
  assertEquals(decideStart(asset(""), stored, {}).decision.source, "none");
});

Deno.test("plan: a full refresh does not drop the previous boundary's rows; the others do", () => {
  assertEquals(decideStart(dates, stored, { fullRefresh: true, now: NOW }).dedupe, false);
  assertEquals(decideStart(dates, stored, { now: NOW }).dedupe, true);
});

Deno.test("plan: a lookback moves the lower bound back, and the reason says so", () => {
  const a = asset("{ cursor_field: d, param: d__gte, lookback: 2d }");
  const start = decideStart(a, stored, { now: NOW });
  assertEquals(start.watermark, "1998-05-04T00:00:00.000Z");
  assertEquals(
    start.decision.reason,
    "watermark in state: d >= 1998-05-04T00:00:00.000Z (lookback 2d)",
  );
});

Deno.test("plan: a watermark in the future is clamped to now with a warning", () => {
  const start = decideStart(dates, { newest: "2999-01-01T00:00:00.000Z", oldest: null }, {
    now: NOW,
  });
  assertEquals(start.watermark, NOW.toISOString());
  assertEquals(start.warnings.length, 1);
});

Deno.test("plan: timelines go newer than X, or older than X_oldest on a backfill", () => {
  const t = asset("{ cursor_field: id, kind: id }", "{ type: timeline }");
  const ids = { newest: "1861234567890123456", oldest: "1761234567890123456" };
  assertEquals(decideStart(t, ids, {}).sinceId, ids.newest);
  const back = decideStart(t, ids, { direction: "backfill" });
  assertEquals([back.sinceId, back.untilId], [null, ids.oldest]);
});

Deno.test("plan: a backfill without X_oldest fails loudly; one of a non-timeline is refused", () => {
  const t = asset("{ cursor_field: id, kind: id }", "{ type: timeline }");
  assertThrows(
    () => decideStart(t, { newest: null, oldest: null }, { direction: "backfill" }),
    StateError,
    "no X_oldest",
  );
  assertThrows(() => decideStart(dates, stored, { direction: "backfill" }), ConfigError);
  assertThrows(() => decideStart(t, stored, { direction: "backfill", since: "1" }), UsageError);
});

Deno.test("plan: skipped assets run first, then config order; unknown names are refused", () => {
  const assets = yamlConfig(`name: order
base_url: http://127.0.0.1:9000
assets:
  - { name: A, path: /a, data_path: rows }
  - { name: B, path: /b, data_path: rows }
  - { name: C, path: /c, data_path: rows }
`).config.assets;
  assertEquals(selectAssets(assets, { skipped: ["C"] }).map((a) => a.name), ["C", "A", "B"]);
  assertEquals(selectAssets(assets, { only: ["B", "A"] }).map((a) => a.name), ["A", "B"]);
  assertThrows(() => selectAssets(assets, { only: ["D"] }), ConfigError, "known: A, B, C");
});
