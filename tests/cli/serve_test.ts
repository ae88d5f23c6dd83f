import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parseFlags } from "../../lib/cli/args.ts";
import { command, parseFaultSpec, serveOptions } from "../../lib/cli/serve.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { generateNorthwind } from "../../mock_api/data/northwind.ts";
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The permissions of the `mock` task in deno.json. */
const MOCK_PERMISSIONS = ["--allow-net=127.0.0.1", "--allow-read=.", "--allow-env"];

function options(args: string[]) {
  return serveOptions(parseFlags(command.spec, args));
}

function tidemark(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...MOCK_PERMISSIONS, "main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function readAll(reader: ReadableStreamDefaultReader<string>, stopAt?: string) {
  let text = "";
  for (;;) {
    if (stopAt !== undefined && text.includes(stopAt)) return text;
    const { value, done } = await reader.read();
    if (done) return text;
    text += value;
  }
}

Deno.test("tidemark serve --port 0 prints its URL first, serves /-/health, stops on SIGTERM", async () => {
  const child = tidemark(["serve", "--port", "0", "--token", "do-not-print-me"]);
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = readAll(child.stderr.pipeThrough(new TextDecoderStream()).getReader());
  let text = await readAll(stdout, "\n");
  try {
    const line = text.split("\n")[0];
    assertMatch(line, /^listening on http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${line.slice("listening on ".length)}/-/health`);
    assertEquals(res.status, 200);
    await res.body?.cancel();
  } finally {
    child.kill("SIGTERM");
  }
  text += await readAll(stdout);
  const status = await child.status;
  assertEquals(status.code, 0);
  assertEquals(await stderr, "");
  assertMatch(text, /stopped \(SIGTERM\)/);
  assert(!text.includes("do-not-print-me"), "the token was printed");
});

Deno.test("tidemark serve with a bad flag prints one line and exits 2 before starting", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...MOCK_PERMISSIONS, "main.ts", "serve", "--auth", "kerberos"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const lines = new TextDecoder().decode(stderr).trim().split("\n");
  assertEquals(code, 2);
  assertEquals(new TextDecoder().decode(stdout), "");
  assertEquals(lines.length, 1);
  assertMatch(lines[0], /--auth must be one of bearer, .*, got "kerberos"/);
});

Deno.test("serve flags become the mock options, with the CLI defaults", () => {
  const o = options([
    "--port=0",
    "--auth=jwt",
    "--token-ttl=30s",
    "--rate-window=2s",
    "--rate-limit=20",
    "--limiter=bucket",
    "--retry-after=date",
    "--reset-style=epoch",
    "--etag=off",
    "--faults=500=0.1,timeout=0.02",
    "--fault-seed=9",
    "--latency-ms=5",
    "--timeout-hold=1m",
  ]);
  assertEquals(o, {
    hostname: "127.0.0.1",
    port: 0,
    auth: "jwt",
    ...(Deno.env.get("API_TOKEN") ? { token: Deno.env.get("API_TOKEN") } : {}),
    tokenTtlMs: 30_000,
    rateLimit: 20,
    rateWindowMs: 2_000,
    limiter: "bucket",
    retryAfter: "date",
    resetStyle: "epoch",
    etag: false,
    faults: { "500": 0.1, timeout: 0.02 },
    faultSeed: 9,
    latencyMs: 5,
    timeoutHoldMs: 60_000,
  } as ReturnType<typeof options>);
});

Deno.test("serve defaults to 60 requests per 60 s, ETags on, port 9000", () => {
  const o = options([]);
  assertEquals([o.port, o.rateLimit, o.rateWindowMs, o.etag], [9000, 60, 60_000, true]);
});

Deno.test("--rate-limit 0 means unlimited", () => {
  assertEquals(options(["--rate-limit", "0"]).rateLimit, 0);
});

Deno.test("the token comes from API_TOKEN when --token is absent", () => {
  const before = Deno.env.get("API_TOKEN");
  Deno.env.set("API_TOKEN", "from-env");
  try {
    assertEquals(options([]).token, "from-env");
    assertEquals(options(["--token", "flag"]).token, "flag");
  } finally {
    if (before === undefined) Deno.env.delete("API_TOKEN");
    else Deno.env.set("API_TOKEN", before);
  }
});

Deno.test("bad serve flags are refused with a line naming the value", () => {
  const missing = join(ROOT, "no-such-dir", "nw.sqlite");
  for (
    const [args, part] of [
      [["--scale=-1"], '"-1"'],
      [["--scale", "0"], '"0"'],
      [["--auth", "kerberos"], '"kerberos"'],
      [["--faults", "500=abc"], '"abc"'],
      [["--faults", "foo=0.1"], '"foo"'],
      [["--faults", "503=1.5"], '"1.5"'],
      [["--faults", "503"], '"503"'],
      [["--faults", "500=0.6,503=0.6"], "at most 1"],
      [["--db", missing], missing],
      [["--db", missing, "--scale", "2"], "exclude each other"],
      [["--limiter", "leaky"], '"leaky"'],
      [["--retry-after", "never"], '"never"'],
      [["--reset-style", "iso"], '"iso"'],
      [["--etag", "maybe"], '"maybe"'],
      [["--rate-window", "soon"], '"soon"'],
      [["--port", "70000"], "70000"],
      [["extra"], '"extra"'],
    ] as const
  ) {
    const error = assertThrows(() => options([...args]), UsageError, part);
    assertEquals(error.exitCode, 2);
    assert(!error.message.includes("\n"), `one line for ${args.join(" ")}`);
  }
});

Deno.test("a fault spec parses to probabilities by kind", () => {
  assertEquals(parseFaultSpec("500=0.1, reset=.01,truncate=0"), {
    "500": 0.1,
    reset: 0.01,
    truncate: 0,
  });
});

Deno.test("serve --db without write permission serves the file read-only, writes refused", async () => {
  const dir = await Deno.makeTempDir({ dir: ROOT, prefix: ".serve-test-" });
  try {
    const file = join(dir, "nw.sqlite");
    generateNorthwind(file, { scale: 0.01 }).close();
    const child = tidemark(["serve", "--port", "0", "--db", file]);
    const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const stderr = readAll(child.stderr.pipeThrough(new TextDecoderStream()).getReader());
    const line = (await readAll(stdout, "\n")).split("\n")[0];
    try {
      const base = line.slice("listening on ".length);
      const headers = { Authorization: "Bearer super-secret-token" };
      const read = await fetch(`${base}/northwind/Orders.json?_size=1`, { headers });
      assertEquals(read.status, 200);
      await read.body?.cancel();
      const write = await fetch(`${base}/northwind/Orders/-/insert`, {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/json" },
        body: JSON.stringify({ row: { OrderID: 1 } }),
      });
      assertEquals(write.status, 403);
      await write.body?.cancel();
    } finally {
      child.kill("SIGTERM");
    }
    await readAll(stdout);
    assertEquals((await child.status).code, 0);
    assertMatch(await stderr, /serving it read-only/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
