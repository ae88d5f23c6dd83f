import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import {
  attemptHistory,
  loadManifest,
  manifestRecordSchema,
  ManifestWriter,
  outputsOf,
  parseManifestRecord,
  readManifest,
  type TornLine,
} from "../../lib/provenance/manifest.ts";
import { SnapshotStore } from "../../lib/provenance/snapshot.ts";
import { sha256Hex } from "../../lib/core/stamps.ts";
import { VerifyError } from "../../lib/core/errors.ts";
import { httpRecord, RUN } from "./fixture.ts";

async function withOut(fn: (out: string) => Promise<void>): Promise<void> {
  const out = await Deno.makeTempDir();
  try {
    await fn(out);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

const silent = { onTornLine: () => {} };

Deno.test("the docs/design.md §3 example line is a valid manifest record", () => {
  const line = {
    kind: "http",
    run_id: RUN,
    asset: "Orders",
    page: 7,
    attempt: 2,
    timestamp: "2026-01-01T10:00:03.120Z",
    method: "GET",
    source: "http://127.0.0.1:9000/northwind/Orders.json",
    params: { _size: "200", _next: "10447", OrderDate__gte: "1997-01-01" },
    status: 200,
    attempts: 2,
    retry_after: null,
    slept_ms: 812,
    elapsed_ms: 41,
    sha256: "b6f2".padEnd(64, "0"),
    bytes: 124567,
    rows: 200,
    cursor_in: "10447",
    cursor_out: "10647",
    watermark_in: "1997-01-01",
    snapshot: `raw/Orders/${RUN}/00007.json`,
    output: `parquet/Orders/ShipCountry=USA/part-${RUN}-0001.parquet`,
    auth: "bearer:token-alias",
    config_sha256: "a".repeat(64),
    env: { deno: "2.9.6", tidemark: "0.1.0" },
  };
  assertEquals(manifestRecordSchema.parse(line), line);
});

Deno.test("a sql part record carries query hash, bound params, partition and part hash", () => {
  const record = parseManifestRecord({
    kind: "sql",
    run_id: RUN,
    asset: "orders",
    page: 0,
    timestamp: "2026-01-01T10:00:03.120Z",
    method: "SQL",
    source: "sqlite:northwind.db",
    params: [1997, "USA"],
    status: null,
    elapsed_ms: 12,
    sha256: null,
    bytes: 2048,
    rows: 500,
    snapshot: null,
    output: [`parquet/orders/year=1997/part-${RUN}-0001.parquet`, "parquet/orders/b.parquet"],
    partition: "year=1997",
    query_sha256: sha256Hex("SELECT * FROM orders WHERE year = ?"),
    part_sha256: [sha256Hex("a"), sha256Hex("b")],
    config_sha256: "a".repeat(64),
    env: { deno: "2.9.6", tidemark: "0.1.0" },
  });
  assertEquals(outputsOf(record).length, 2);
  assertEquals(record.attempts, 1);
  assertEquals(record.cursor_in, null);
});

Deno.test("a record with a wrong field is refused naming every bad field", () => {
  const error = (() => {
    try {
      parseManifestRecord({ ...httpRecord(), status: "200", sha256: "XYZ", extra: 1 });
    } catch (e) {
      return e as Error;
    }
    throw new Error("expected a refusal");
  })();
  assert(error instanceof VerifyError);
  assertStringIncludes(error.message, "status:");
  assertStringIncludes(error.message, "sha256: expected 64 lower-case hex digits");
  assertStringIncludes(error.message, '"extra"');
});

Deno.test("an http record without a status, or a sql record without query hash, is refused", () => {
  const http = manifestRecordSchema.safeParse(httpRecord({ status: null }));
  assertEquals(http.success, false);
  const sql = manifestRecordSchema.safeParse(httpRecord({ kind: "sql", status: null }));
  assertEquals(sql.error?.issues.map((i) => i.path.join(".")), ["query_sha256"]);
});

Deno.test("manifest paths that escape the out folder are refused", () => {
  for (const snapshot of ["/etc/passwd", "../raw/x.json", "raw/../../x"]) {
    const result = manifestRecordSchema.safeParse(httpRecord({ snapshot }));
    assertEquals(result.success, false, snapshot);
  }
});

Deno.test("records written then read back are equal, in order, with line numbers", async () => {
  await withOut(async (out) => {
    const store = new SnapshotStore(out);
    const writer = new ManifestWriter(out);
    const written = [];
    for (const page of [1, 2, 3]) {
      const snap = await store.write(
        "Orders",
        RUN,
        page,
        new TextEncoder().encode(`{"p":${page}}`),
      );
      written.push(
        await writer.append(httpRecord({
          page,
          snapshot: snap.path,
          sha256: snap.sha256,
          bytes: snap.bytes,
        })),
      );
    }
    const read = [];
    for await (const entry of readManifest(`${out}/manifest.jsonl`, silent)) read.push(entry);
    assertEquals(read.map((e) => e.line), [1, 2, 3]);
    assertEquals(read.map((e) => e.record), written);
  });
});

Deno.test("defaults are applied when a writer leaves optional fields out", async () => {
  await withOut(async (out) => {
    const { attempt: _a, attempts: _b, slept_ms: _c, retry_after: _d, ...minimal } = httpRecord();
    const record = await new ManifestWriter(out).append(minimal);
    assertEquals([record.attempt, record.attempts, record.slept_ms, record.retry_after], [
      1,
      1,
      0,
      null,
    ]);
  });
});

Deno.test("complete records skip the schema parse but not the secret check", async () => {
  await withOut(async (out) => {
    const secret = "s3cr3t-t0k3n/+=";
    const writer = new ManifestWriter(out, { secrets: [secret] });
    const full = parseManifestRecord(httpRecord());
    assertEquals(await writer.appendAll([full], { complete: true }), [full]);
    await assertRejects(
      () => writer.appendAll([{ ...full, params: { token: secret } }], { complete: true }),
      VerifyError,
      "contains a secret value",
    );
    const { entries } = await loadManifest(`${out}/manifest.jsonl`);
    assertEquals(entries.map((e) => e.record), [full]);
  });
});

Deno.test("a record containing a secret is refused and nothing is written", async () => {
  await withOut(async (out) => {
    const secret = "s3cr3t-t0k3n/+=";
    const writer = new ManifestWriter(out, { secrets: [secret] });
    for (
      const leak of [
        { source: `http://127.0.0.1:9000/x?api_key=${secret}` },
        { source: `http://127.0.0.1:9000/x?api_key=${encodeURIComponent(secret)}` },
        { params: { token: secret } },
        { auth: `bearer:${secret}` },
      ]
    ) {
      await assertRejects(
        () => writer.append(httpRecord(leak)),
        VerifyError,
        "contains a secret value",
      );
    }
    assertEquals(await Deno.stat(`${out}/manifest.jsonl`).catch(() => null), null);
    await writer.append(httpRecord()); // the writer still works after a refusal
    assertEquals((await loadManifest(`${out}/manifest.jsonl`)).entries.length, 1);
  });
});

Deno.test("a short secret that happens to occur inside a sha256 does not refuse the record", async () => {
  await withOut(async (out) => {
    const digest = sha256Hex("anything");
    const writer = new ManifestWriter(out, { secrets: [digest.slice(10, 16)] });
    const record = await writer.append(httpRecord({ sha256: digest, config_sha256: digest }));
    assertEquals(record.sha256, digest);
  });
});

Deno.test("a line whose snapshot is not on disk is refused", async () => {
  await withOut(async (out) => {
    const writer = new ManifestWriter(out);
    await assertRejects(
      () => writer.append(httpRecord({ snapshot: `raw/Orders/${RUN}/00001.json`, bytes: 3 })),
      VerifyError,
      "is missing",
    );
    const snap = await new SnapshotStore(out).write("Orders", RUN, 1, new Uint8Array([1, 2]));
    await assertRejects(
      () => writer.append(httpRecord({ snapshot: snap.path, bytes: 3 })),
      VerifyError,
      "is 2 bytes, not 3",
    );
  });
});

Deno.test("concurrent appends each land as one whole line", async () => {
  await withOut(async (out) => {
    const writer = new ManifestWriter(out);
    await Promise.all(
      Array.from({ length: 40 }, (_, page) => writer.append(httpRecord({ page }))),
    );
    const { entries } = await loadManifest(`${out}/manifest.jsonl`);
    assertEquals(entries.map((e) => e.record.page).sort((a, b) => a - b), [...Array(40).keys()]);
  });
});

Deno.test("a torn last line from a crash is skipped and reported with its line number", async () => {
  await withOut(async (out) => {
    const path = `${out}/manifest.jsonl`;
    const whole = JSON.stringify(httpRecord({ page: 1 }));
    const torn = JSON.stringify(httpRecord({ page: 2 })).slice(0, 57);
    await Deno.writeTextFile(path, `${whole}\n${torn}`);
    const reported: TornLine[] = [];
    const pages = [];
    for await (const { record } of readManifest(path, { onTornLine: (t) => reported.push(t) })) {
      pages.push(record.page);
    }
    assertEquals(pages, [1]);
    assertEquals(reported, [{ line: 2, text: torn }]);
  });
});

Deno.test("a complete last line that only lacks its newline is read", async () => {
  await withOut(async (out) => {
    const path = `${out}/manifest.jsonl`;
    await Deno.writeTextFile(path, JSON.stringify(httpRecord({ page: 4 })));
    const { entries, torn } = await loadManifest(path);
    assertEquals([entries.map((e) => e.record.page), torn], [[4], null]);
  });
});

Deno.test("a bad line that is not the torn last line is an error naming its line", async () => {
  await withOut(async (out) => {
    const path = `${out}/manifest.jsonl`;
    const good = JSON.stringify(httpRecord());
    await Deno.writeTextFile(path, `${good}\n{"oops\n${good}\n`);
    await assertRejects(() => loadManifest(path), VerifyError, "line 2 is not JSON");
    await Deno.writeTextFile(path, `${good}\n${good}\n{"kind":"http"}\n`);
    await assertRejects(() => loadManifest(path), VerifyError, "line 3 is not a manifest record");
  });
});

Deno.test("the next writer trims a torn tail so new lines do not glue onto it", async () => {
  await withOut(async (out) => {
    const path = `${out}/manifest.jsonl`;
    const whole = JSON.stringify(httpRecord({ page: 1 }));
    await Deno.writeTextFile(path, `${whole}\n{"kind":"http","run_`);
    const reported: TornLine[] = [];
    await new ManifestWriter(out, { onTornLine: (t) => reported.push(t) }).append(
      httpRecord({ page: 2 }),
    );
    assertEquals(reported.map((t) => t.line), [2]);
    const { entries, torn } = await loadManifest(path);
    assertEquals([entries.map((e) => [e.line, e.record.page]), torn], [[[1, 1], [2, 2]], null]);
  });
});

Deno.test("the next writer keeps a complete last line and adds its newline", async () => {
  await withOut(async (out) => {
    const path = `${out}/manifest.jsonl`;
    await Deno.writeTextFile(path, JSON.stringify(httpRecord({ page: 1 })));
    await new ManifestWriter(out, silent).append(httpRecord({ page: 2 }));
    const { entries } = await loadManifest(path);
    assertEquals(entries.map((e) => e.record.page), [1, 2]);
  });
});

Deno.test("a torn tail longer than the scan block is trimmed whole", async () => {
  await withOut(async (out) => {
    const path = `${out}/manifest.jsonl`;
    const whole = JSON.stringify(httpRecord({ page: 1 }));
    await Deno.writeTextFile(path, `${whole}\n${whole}\n{"params":"${"x".repeat(200_000)}`);
    const reported: TornLine[] = [];
    await new ManifestWriter(out, { onTornLine: (t) => reported.push(t) }).append(
      httpRecord({ page: 3 }),
    );
    assertEquals(reported.map((t) => t.line), [3]);
    const { entries } = await loadManifest(path);
    assertEquals(entries.map((e) => e.record.page), [1, 1, 3]);
  });
});

Deno.test("a missing manifest reads as empty", async () => {
  await withOut(async (out) => {
    assertEquals(await loadManifest(`${out}/manifest.jsonl`), { entries: [], torn: null });
  });
});

Deno.test("the HTTP layer's attempts become the record's attempt history", () => {
  const started = Date.UTC(2026, 10, 23, 10, 15, 0);
  const history = attemptHistory([
    {
      attempt: 1,
      startedAt: started,
      kind: "http",
      status: 429,
      elapsedMs: 5,
      queuedMs: 0,
      sleptMs: 2000,
      waitHeader: "Retry-After",
    },
    {
      attempt: 2,
      startedAt: started + 2005,
      kind: "timeout",
      error: "timed out after 30 s",
      elapsedMs: 30,
      queuedMs: 10,
      sleptMs: 400,
    },
    {
      attempt: 3,
      startedAt: started + 2445,
      kind: "http",
      status: 200,
      elapsedMs: 41,
      queuedMs: 0,
      sleptMs: 0,
    },
  ]);
  const record = parseManifestRecord(
    httpRecord({ attempt: 3, attempts: 3, attempt_history: history }),
  );
  assertEquals(record.attempt_history?.map((a) => [a.attempt, a.status, a.kind]), [
    [1, 429, "http"],
    [2, null, "timeout"],
    [3, 200, "http"],
  ]);
  assertEquals(record.attempt_history?.[1].started_at, "2026-11-23T10:15:02.005Z");
  assertEquals(record.attempt_history?.[0].wait_header, "Retry-After");
});

Deno.test("a manifest larger than the read buffer is read whole across chunk boundaries", async () => {
  await withOut(async (out) => {
    const path = `${out}/manifest.jsonl`;
    const lines = Array.from(
      { length: 1500 },
      (_, page) => JSON.stringify(httpRecord({ page, asset: "Détails — ü€𝄞" })),
    );
    await Deno.writeTextFile(path, lines.join("\n") + "\n");
    const { entries } = await loadManifest(path);
    assertEquals(entries.length, 1500);
    assertEquals(entries.map((e) => e.record.page), [...Array(1500).keys()]);
    assertEquals(entries[1499].record.asset, "Détails — ü€𝄞");
    assertEquals(entries[1499].line, 1500);
  });
});
