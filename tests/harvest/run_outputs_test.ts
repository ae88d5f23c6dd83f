/**
 * The config stamp a harvest leaves for replay (`configs/<config_sha256>.json`): the effective
 * config, with auth reduced to its alias and no secret anywhere — and the events it writes
 * (`plan` with the previous boundary, `complete`) that replay and verify read.
 */
import { join } from "node:path";
import { loadManifest } from "../../lib/provenance/manifest.ts";
import { configStampPath } from "../../lib/provenance/config_stamp.ts";
import { assert, assertEquals } from "../assert.ts";
import { northwindYaml, run, TOKEN, withMockRun, yamlConfig } from "./fixture.ts";

Deno.test("the config stamp holds the effective config with auth by alias and no secret", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(
      northwindYaml({ details: `headers: { X-Api-Key: "\${API_TOKEN}" }` }),
    );
    await run(fixture, loaded, out);
    const text = await Deno.readTextFile(join(out, configStampPath(loaded.sha256)));
    assert(!text.includes(TOKEN), "no secret in the stamp");
    const stamp = JSON.parse(text);
    assertEquals(stamp.auth, { type: "bearer", alias: loaded.authAlias });
    assertEquals(stamp.assets[1].headers, { "X-Api-Key": "***" });
    assertEquals(stamp.assets[0].data_path, "rows");
    assertEquals(stamp.assets[0].output.partition_by, ["ShipCountry"]);
    assertEquals(stamp.assets[0].batch_size, 10_000, "defaults applied");
  });
});

Deno.test("each new harvest of an asset starts with a plan event holding the boundary it drops, and ends with a complete event", async () => {
  await withMockRun(async (fixture, out) => {
    const loaded = yamlConfig(northwindYaml({ size: 500 }));
    await run(fixture, loaded, out, { assets: ["Orders"] });
    await run(fixture, loaded, out, { assets: ["Orders"] });
    const { entries } = await loadManifest(join(out, "manifest.jsonl"));
    const events = entries.map((e) => e.record).filter((r) => r.kind === "event");
    assertEquals(events.map((e) => e.event), ["plan", "complete", "plan", "complete"]);
    assertEquals(events[0].boundary, null, "the first harvest drops nothing");
    const boundary = events[2].boundary as { value: string; keys: unknown[] };
    assert(boundary.keys.length > 0, "the second drops the rows at the first's watermark");
    assertEquals(events[2].watermark_in, boundary.value);
    const pages = entries.filter((e) => e.record.kind === "http");
    assert(pages.every((p) => p.line > 1), "pages follow their plan event");
  });
});
