import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import {
  createLogger,
  formatHumanLine,
  type LogOutput,
  logRecordSchema,
} from "../../lib/report/logger.ts";
import { RotatingFile } from "../../lib/report/rotating_file.ts";

const T0 = Date.UTC(2026, 10, 23, 10, 15, 0, 120);
const RUN = "20261123T101500Z-3fa9c1";
const SECRET = "tok-9f8e7d6c5b4a";

function memoryOutput(terminal: boolean): LogOutput & { text(): string } {
  const chunks: Uint8Array[] = [];
  return {
    writeSync(bytes: Uint8Array) {
      chunks.push(bytes.slice());
      return bytes.length;
    },
    isTerminal: () => terminal,
    text: () => chunks.map((c) => new TextDecoder().decode(c)).join(""),
  };
}

function logSomeEvents(output: LogOutput, extra: Parameters<typeof createLogger>[0] = {}) {
  const log = createLogger({ output, runId: RUN, secrets: [SECRET], clock: () => T0, ...extra });
  const orders = log.child({ asset: "Orders" });
  orders.info("page.committed", { page: 7, status: 200, rows: 200 });
  orders.warn("http.retry", { page: 8, status: 503, attempt: 2, wait_ms: 812.4 });
  orders.error("auth.failed", { msg: `token ${SECRET} refused`, url: `http://x/?token=${SECRET}` });
  log.info("run.started", { msg: `Authorization: Bearer ${SECRET}` });
  log.close();
}

Deno.test("off a terminal, logs are JSON lines with every field, and parse line by line", () => {
  const output = memoryOutput(false);
  logSomeEvents(output);
  const lines = output.text().trimEnd().split("\n");
  assertEquals(lines.length, 4);
  const records = lines.map((line) => logRecordSchema.parse(JSON.parse(line)));
  assertEquals(records[1], {
    ts: "2026-11-23T10:15:00.120Z",
    level: "warn",
    run_id: RUN,
    asset: "Orders",
    page: 8,
    event: "http.retry",
    status: 503,
    attempt: 2,
    wait_ms: 812.4,
    msg: "",
  });
  assertEquals(records[0].rows, 200);
  assertEquals(records[3].asset, null);
});

Deno.test("no log line contains a secret, given or by pattern", () => {
  const output = memoryOutput(false);
  logSomeEvents(output);
  const text = output.text();
  assertEquals(text.includes(SECRET), false);
  assertStringIncludes(text, "token *** refused");
});

Deno.test("on a terminal, logs are readable lines", () => {
  const output = memoryOutput(true);
  logSomeEvents(output, { format: "auto" });
  const lines = output.text().trimEnd().split("\n");
  assertMatch(lines[1], /^10:15:00\.120 .*WARN.* Orders p8 http\.retry 503 attempt 2 wait 812ms$/);
  assertEquals(output.text().includes(SECRET), false);
});

Deno.test("format json forces JSON lines on a terminal too", () => {
  const output = memoryOutput(true);
  logSomeEvents(output, { format: "json" });
  for (const line of output.text().trimEnd().split("\n")) JSON.parse(line);
});

Deno.test("records below the level are not written", () => {
  const output = memoryOutput(false);
  logSomeEvents(output, { level: "warn" });
  const levels = output.text().trimEnd().split("\n").map((l) => JSON.parse(l).level);
  assertEquals(levels, ["warn", "error"]);
});

Deno.test("a secret learned later is masked from then on", () => {
  const output = memoryOutput(false);
  const log = createLogger({ output, clock: () => T0 });
  log.addSecret("refreshed-token-123");
  log.info("auth.refreshed", { msg: "got refreshed-token-123" });
  assertEquals(output.text().includes("refreshed-token-123"), false);
});

Deno.test("the log file gets only its level and rotates by size keeping the configured count", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/logs/app.log`;
    const log = createLogger({
      output: null,
      secrets: [SECRET],
      clock: () => T0,
      file: { path, level: "error", maxBytes: 400, keep: 2 },
    });
    for (let i = 0; i < 20; i++) {
      log.info("noise", { page: i });
      log.error("page.failed", { page: i, msg: `with ${SECRET}` });
    }
    log.close();
    const names = [...Deno.readDirSync(`${dir}/logs`)].map((e) => e.name).sort();
    assertEquals(names, ["app.log", "app.log.1", "app.log.2"]);
    const pages: number[] = [];
    for (const name of ["app.log.2", "app.log.1", "app.log"]) {
      const text = await Deno.readTextFile(`${dir}/logs/${name}`);
      assert(new TextEncoder().encode(text).length <= 400, `${name} is over maxBytes`);
      assertEquals(text.includes(SECRET), false);
      for (const line of text.trimEnd().split("\n")) {
        const record = JSON.parse(line);
        assertEquals(record.level, "error");
        pages.push(record.page);
      }
    }
    // The newest lines survive, in order; the oldest were rotated out.
    assertEquals(pages, pages.slice().sort((a, b) => a - b));
    assertEquals(pages[pages.length - 1], 19);
    assert(pages[0] > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a rotating file with keep 0 starts over instead of keeping old files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = new RotatingFile(`${dir}/a.log`, { maxBytes: 10, keep: 0 });
    file.write("12345678\n");
    file.write("abcdefgh\n");
    file.close();
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["a.log"]);
    assertEquals(await Deno.readTextFile(`${dir}/a.log`), "abcdefgh\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a readable line lists the extra fields after the message", () => {
  const line = formatHumanLine({
    ts: "2026-11-23T10:15:00.120Z",
    level: "info",
    run_id: RUN,
    asset: "Orders",
    page: null,
    event: "asset.done",
    status: null,
    attempt: null,
    wait_ms: null,
    msg: "finished",
    rows: 830,
  });
  assertEquals(line, "10:15:00.120 INFO  Orders asset.done — finished rows=830");
});
