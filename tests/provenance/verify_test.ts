import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { verifyOut, type VerifyResult } from "../../lib/provenance/verify.ts";
import { sha256Hex } from "../../lib/core/stamps.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { httpRecord, RUN, writeOut } from "./fixture.ts";
import { cli } from "../cli/capture.ts";

const PART_A = `parquet/Orders/ShipCountry=USA/part-${RUN}-0001.parquet`;
const PART_B = `parquet/Order Details/part-${RUN}-0001.parquet`;

async function withFixture(fn: (out: string) => Promise<void>): Promise<void> {
  const out = await Deno.makeTempDir();
  try {
    await writeOut(out, [
      { asset: "Orders", page: 1, body: '{"rows":[{"OrderID":1}],"next":"2"}', outputs: [PART_A] },
      { asset: "Orders", page: 2, body: '{"rows":[{"OrderID":2}],"next":null}', outputs: [PART_A] },
      { asset: "Order Details", page: 1, body: '{"rows":[{"OrderID":1}]}', outputs: [PART_B] },
    ]);
    await fn(out);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

function kinds(result: VerifyResult): string[] {
  return result.mismatches.map((m) => `${m.kind} ${m.file}`);
}

Deno.test("an intact out folder verifies with counts and no mismatch", async () => {
  await withFixture(async (out) => {
    const result = await verifyOut(out);
    assertEquals(result.mismatches, []);
    assertEquals(result.ok, true);
    assertEquals(result.manifest_lines, 3);
    assertEquals(result.snapshots_checked, 3);
    assertEquals(result.outputs_checked, 2);
    assertEquals(result.state_pages_checked, 3);
    assertEquals(result.files_checked, 3 + 2 + 2);
    assert(result.bytes_checked > 90);
    assertEquals(result.warnings, []);
  });
});

Deno.test("a flipped byte in a snapshot is a mismatch naming the snapshot", async () => {
  await withFixture(async (out) => {
    const path = `${out}/raw/Orders/${RUN}/00002.json`;
    const bytes = await Deno.readFile(path);
    bytes[5] ^= 0x01;
    await Deno.writeFile(path, bytes);
    const result = await verifyOut(out);
    assertEquals(result.ok, false);
    assertEquals(kinds(result), [`snapshot_hash raw/Orders/${RUN}/00002.json`]);
    assertEquals(result.mismatches[0].line, 2);
  });
});

Deno.test("a deleted snapshot is a mismatch naming it", async () => {
  await withFixture(async (out) => {
    await Deno.remove(`${out}/raw/Order Details/${RUN}/00001.json`);
    const result = await verifyOut(out);
    assertEquals(kinds(result), [`snapshot_missing raw/Order Details/${RUN}/00001.json`]);
  });
});

Deno.test("a deleted output part is a mismatch for the manifest and for state", async () => {
  await withFixture(async (out) => {
    await Deno.remove(`${out}/${PART_A}`);
    const result = await verifyOut(out);
    assertEquals(kinds(result), [
      `output_missing ${PART_A}`,
      `output_missing ${PART_A}`,
      `state_output_missing ${PART_A}`,
      `state_output_missing ${PART_A}`,
    ]);
  });
});

Deno.test("a committed state page without a manifest line is a mismatch", async () => {
  await withFixture(async (out) => {
    const lines = (await Deno.readTextFile(`${out}/manifest.jsonl`)).split("\n");
    await Deno.writeTextFile(`${out}/manifest.jsonl`, [lines[0], lines[2], ""].join("\n"));
    const result = await verifyOut(out);
    assertEquals(kinds(result), [`state_without_manifest raw/Orders/${RUN}/00002.json`]);
    assertStringIncludes(result.mismatches[0].message, "Orders 2 of run");
    // The snapshot is still there, now undescribed: also worth a warning.
    assertStringIncludes(result.warnings.join("\n"), "1 snapshot(s) have no manifest line");
  });
});

Deno.test("a state page is matched by page number when state records no snapshot", async () => {
  await withFixture(async (out) => {
    const db = new DatabaseSync(`${out}/state.sqlite`);
    db.exec("UPDATE pages SET snapshot = ''");
    db.prepare(
      `INSERT INTO pages (run_id, asset_id, "partition", page, rows, snapshot, outputs, sha256,
         done, committed_at) VALUES (?, 'Orders', '', 9, 0, '', '[]', '', 1, ?)`,
    ).run(RUN, "2026-11-23T10:15:09.000Z");
    db.close();
    const result = await verifyOut(out);
    assertEquals(kinds(result), ["state_without_manifest state.sqlite"]);
    assertStringIncludes(result.mismatches[0].message, "Orders 9 of run");
  });
});

Deno.test("a state page whose sha256 differs from its manifest line is a mismatch", async () => {
  await withFixture(async (out) => {
    const db = new DatabaseSync(`${out}/state.sqlite`);
    db.prepare("UPDATE pages SET sha256 = ? WHERE asset_id = 'Order Details'").run(
      "f".repeat(64),
    );
    db.close();
    const result = await verifyOut(out);
    assertEquals(kinds(result), [`state_mismatch raw/Order Details/${RUN}/00001.json`]);
  });
});

Deno.test("a torn last manifest line and crash leftovers are warnings, not mismatches", async () => {
  await withFixture(async (out) => {
    await Deno.writeTextFile(`${out}/manifest.jsonl`, '{"kind":"http","run', { append: true });
    await Deno.writeTextFile(`${out}/raw/Orders/${RUN}/00003.json`, "{}");
    await Deno.writeTextFile(`${out}/raw/Orders/${RUN}/00004.json.1.1.tmp`, "{");
    const result = await verifyOut(out);
    assertEquals(result.ok, true);
    assertEquals(result.warnings.length, 3);
    assertStringIncludes(result.warnings[0], "line 4 is incomplete");
  });
});

Deno.test("a corrupt manifest line in the middle is a mismatch naming its line", async () => {
  await withFixture(async (out) => {
    const lines = (await Deno.readTextFile(`${out}/manifest.jsonl`)).split("\n");
    lines[1] = lines[1].replace('"status":200', '"status":"200"');
    await Deno.writeTextFile(`${out}/manifest.jsonl`, lines.join("\n"));
    const result = await verifyOut(out);
    assertEquals(result.mismatches[0].kind, "manifest_invalid");
    assertStringIncludes(result.mismatches[0].message, "line 2 is not a manifest record");
  });
});

Deno.test("a sql part whose bytes changed fails its part_sha256", async () => {
  await withFixture(async (out) => {
    const part = "parquet/orders/year=1997/part-0001.parquet";
    await Deno.mkdir(`${out}/parquet/orders/year=1997`, { recursive: true });
    await Deno.writeTextFile(`${out}/${part}`, "PAR1 original");
    const record = httpRecord({
      kind: "sql",
      method: "SQL",
      status: null,
      page: 0,
      asset: "orders",
      sha256: null,
      snapshot: null,
      output: part,
      query_sha256: sha256Hex("SELECT 1"),
      part_sha256: sha256Hex("PAR1 original"),
    });
    await Deno.writeTextFile(`${out}/manifest.jsonl`, JSON.stringify(record) + "\n", {
      append: true,
    });
    assertEquals((await verifyOut(out)).ok, true);
    await Deno.writeTextFile(`${out}/${part}`, "PAR1 tampered");
    assertEquals(kinds(await verifyOut(out)), [`part_hash ${part}`]);
  });
});

Deno.test("a missing out folder, a file, or a folder without manifest or state is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assertRejects(() => verifyOut(`${dir}/nope`), UsageError, "does not exist");
    await Deno.writeTextFile(`${dir}/file`, "x");
    await assertRejects(() => verifyOut(`${dir}/file`), UsageError, "is not a folder");
    await assertRejects(() => verifyOut(dir), UsageError, "neither manifest.jsonl nor state");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tidemark verify exits 0 on a good folder, 1 naming the bad file, 2 on a bad folder", async () => {
  await withFixture(async (out) => {
    const good = await cli(["verify", "--out", out]);
    assertEquals(good.code, 0);
    assertStringIncludes(good.stdout, "OK: every snapshot");
    await Deno.remove(`${out}/${PART_B}`);
    const bad = await cli(["verify", "--out", out]);
    assertEquals(bad.code, 1);
    assertStringIncludes(bad.stdout, `MISMATCH ${PART_B} (manifest line 3): output of`);
    const json = await cli(["verify", "--out", out, "--json"]);
    assertEquals(json.code, 1);
    assertEquals(JSON.parse(json.stdout).mismatches[0].file, PART_B);
    const missing = await cli(["verify", "--out", `${out}/nope`]);
    assertEquals(missing.code, 2);
    assertStringIncludes(missing.stderr, "does not exist");
    assertEquals((await cli(["verify"])).code, 2);
  });
});
