/**
 * Check (c): bad input — a config, a flag, or a response — ends with a non-zero exit and a line
 * naming what is wrong, and leaves the out folder and its state exactly as they were, byte for
 * byte (a completed earlier run is there to protect). Responses come from a small server of bad
 * answers. A server that ignores the page size is not an error: every row must arrive.
 * @module
 */
import { join } from "node:path";
import {
  digestChange,
  folderDigest,
  linesConfig,
  parquetLines,
  runCli,
  serveMock,
  TOKEN,
} from "./harness.ts";

/** One bad input: how to run it and what its message must name. */
interface BadInput {
  name: string;
  /** The harvest config (YAML), or null to pass `args` alone. */
  config: ((mock: string, bad: string) => string) | null;
  /** Extra command-line arguments (after `harvest --config FILE --out DIR`, or the whole line). */
  args?: string[];
  /** The command run with `--config FILE`. @default "harvest" (with `--out DIR`) */
  command?: "harvest" | "schedule";
  env?: Record<string, string>;
  /** What the output must say. */
  names: RegExp;
  /** Instead of a failure: the run succeeds, into a fresh folder, with this many distinct rows. */
  rows?: number;
}

const asset = (lines: string) =>
  `assets:
  - name: lines
    path: /northwind/Order%20Details.json
    data_path: rows
${lines}`;
const head = (url: string) =>
  `name: bad\nbase_url: ${url}\nauth: { type: bearer, token: \${API_TOKEN} }\n`;

/** Rows behind the server that ignores the page size. */
const CAPPED_ROWS = 95;

const CASES: BadInput[] = [
  {
    name: "config: wrong type",
    config: (m) => head(m) + "workers: many\n" + asset(""),
    names: /workers/,
  },
  {
    name: "config: unknown field",
    config: (m) => head(m) + "retyr: {}\n" + asset(""),
    names: /retyr/,
  },
  {
    name: "config: unknown pagination",
    config: (m) => head(m) + asset("    pagination: { type: cursr }\n"),
    names: /pagination/,
  },
  {
    name: "config: missing env var",
    config: (m) => head(m).replace("API_TOKEN", "NO_SUCH_VAR") + asset(""),
    names: /NO_SUCH_VAR/,
  },
  {
    name: "config: bad cron",
    config: (m) => head(m) + 'schedule: "61 * * * *"\n' + asset(""),
    command: "schedule",
    args: ["--dry-run"],
    names: /schedule/,
  },
  {
    name: "config: bad path",
    config: (m) => head(m) + asset("").replace("/northwind", "northwind"),
    names: /path/,
  },
  { name: "config: no assets", config: (m) => head(m) + "assets: []\n", names: /asset/ },
  {
    name: "config: duplicate asset",
    config: (m) => head(m) + asset("") + asset("").replace("assets:\n", ""),
    names: /duplicate/,
  },
  {
    name: "config: secret written in the file",
    config: (m) => head(m).replace("${API_TOKEN}", "plain-secret") + asset(""),
    names: /secret/,
  },
  {
    name: "config: merge without key",
    config: (m) => head(m) + asset("    output: { mode: merge }\n"),
    names: /primary_key/,
  },
  {
    name: "config: bad lookback",
    config: (m) =>
      head(m) + asset("    incremental: { cursor_field: OrderID, kind: id, lookback: 2d }\n"),
    names: /lookback/,
  },
  {
    name: "config: bad param_format",
    config: (m) => head(m) + asset("    incremental: { cursor_field: x, param_format: rfc }\n"),
    names: /param_format/,
  },
  {
    name: "config: negative batch_size",
    config: (m) => head(m) + asset("    batch_size: -1\n"),
    names: /batch_size/,
  },
  {
    name: "config: bad base_url",
    config: (m) => head(m).replace(m, "ftp://nowhere") + asset(""),
    names: /base_url/,
  },
  { name: "config: not YAML", config: () => "name: [unclosed\n", names: /YAML|yaml/ },
  {
    name: "config: missing file",
    config: null,
    args: ["harvest", "--config", "/nonexistent/x.yaml"],
    names: /x\.yaml/,
  },
  {
    name: "config: unknown contract",
    config: (m) => head(m) + asset("    contract: nope\n"),
    names: /contract/,
  },
  {
    name: "config: for_each of unknown asset",
    config: (m) => head(m) + asset("    for_each: ghost\n"),
    names: /for_each/,
  },
  {
    name: "flag: unknown",
    config: (m) => head(m) + asset(""),
    args: ["--frobnicate"],
    names: /frobnicate/,
  },
  {
    name: "flag: bad workers",
    config: (m) => head(m) + asset(""),
    args: ["--workers", "zero"],
    names: /workers/,
  },
  {
    name: "flag: bad direction",
    config: (m) => head(m) + asset(""),
    args: ["--direction", "sideways"],
    names: /direction/,
  },
  {
    name: "flag: bad log level",
    config: (m) => head(m) + asset(""),
    args: ["--log-level", "loud"],
    names: /log-level/,
  },
  {
    name: "flag: unknown asset",
    config: (m) => head(m) + asset(""),
    args: ["--asset", "ghost"],
    names: /ghost/,
  },
  {
    name: "flag: contradictory",
    config: (m) => head(m) + asset(""),
    args: ["--if-changed", "--no-change-detection"],
    names: /contradict/,
  },
  {
    name: "flag: backfill without timeline",
    config: (m) => head(m) + asset(""),
    args: ["--direction", "backfill"],
    names: /backfill/,
  },
  {
    name: "response: HTML with status 200",
    config: (_m, b) => head(b) + asset("").replace("/northwind/Order%20Details.json", "/html"),
    names: /not JSON/,
  },
  {
    name: "response: JSON without data_path",
    config: (_m, b) =>
      head(b) +
      asset("").replace("/northwind/Order%20Details.json", "/nodata").replace("rows", "items.rows"),
    names: /data_path|items/,
  },
  {
    name: "response: records that are not objects",
    config: (_m, b) => head(b) + asset("").replace("/northwind/Order%20Details.json", "/scalars"),
    names: /not an object/,
  },
  {
    name: "response: truncated body, always",
    config: (_m, b) =>
      head(b) + "retry: { max_attempts: 3, base_ms: 1, cap_ms: 5 }\n" +
      asset("").replace("/northwind/Order%20Details.json", "/truncated"),
    names: /truncated|unparsable|Content-Length/,
  },
  {
    name: "response: 401 on every request",
    config: (_m, b) =>
      head(b) + asset("").replace("/northwind/Order%20Details.json", "/unauthorized"),
    names: /401/,
  },
  {
    name: "response: a 401 mid-run (the token is revoked after page 1)",
    config: (_m, b) =>
      head(b) +
      asset("    pagination: { type: cursor, param: c, response_path: next }\n").replace(
        "/northwind/Order%20Details.json",
        "/revoked",
      ),
    names: /401/,
  },
  {
    name: "response: 404",
    config: (_m, b) => head(b) + asset("").replace("/northwind/Order%20Details.json", "/missing"),
    names: /404/,
  },
  {
    name: "response: a huge body (Content-Length above retry.max_body_mb)",
    config: (_m, b) => head(b) + asset("").replace("/northwind/Order%20Details.json", "/huge"),
    names: /max_body_mb/,
  },
  {
    name: "response: a huge streamed body (no Content-Length)",
    config: (_m, b) =>
      head(b) + "retry: { max_body_mb: 1 }\n" +
      asset("").replace("/northwind/Order%20Details.json", "/stream"),
    names: /max_body_mb/,
  },
  {
    name: "response: a page size the server ignores",
    config: (_m, b) =>
      head(b) +
      asset(
        "    pagination: { type: offset, param: offset, limit_param: limit, limit: 50 }\n" +
          "    primary_key: [OrderID]\n",
      ).replace("/northwind/Order%20Details.json", "/capped"),
    names: /./,
    rows: CAPPED_ROWS,
  },
  {
    name: "response: a cursor that repeats",
    config: (_m, b) =>
      head(b) +
      asset("    pagination: { type: cursor, param: c, response_path: next }\n").replace(
        "/northwind/Order%20Details.json",
        "/loop",
      ),
    names: /cursor|repeat|same/,
  },
];

/** A server of bad answers, one per path. */
function badServer(): { url: string; close(): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/huge":
        // Declares 10 GiB and sends one byte (a stream keeps the declared length): the client
        // must refuse it from the header.
        return new Response(new Blob(["["]).stream(), {
          headers: { "Content-Type": "application/json", "Content-Length": String(10 * 2 ** 30) },
        });
      case "/stream": {
        // Two MiB in chunks, no length: the client must stop counting past its limit.
        let sent = 0;
        const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= 2 * 2 ** 20) return controller.close();
            sent += chunk.length;
            controller.enqueue(chunk);
          },
        });
        return new Response(body, { headers: { "Content-Type": "application/json" } });
      }
      case "/capped": {
        // Honours `offset` but answers at most 10 rows whatever `limit` asks.
        const offset = Number(url.searchParams.get("offset") ?? 0);
        const rows = [];
        for (let id = offset; id < Math.min(offset + 10, CAPPED_ROWS); id++) {
          rows.push({ OrderID: id, ProductID: 1, Quantity: id % 7 });
        }
        return Response.json({ rows });
      }
      case "/html":
        return new Response("<html><body>Sign in</body></html>", {
          headers: { "Content-Type": "text/html" },
        });
      case "/nodata":
        return Response.json({ ok: true, results: [] });
      case "/scalars":
        return Response.json({ rows: [1, 2, 3] });
      case "/truncated":
        return new Response('{"rows": [{"OrderID": 1', {
          headers: { "Content-Type": "application/json", "Content-Length": "500" },
        });
      case "/unauthorized":
        return Response.json({ error: "invalid token" }, { status: 401 });
      case "/revoked":
        return url.searchParams.has("c")
          ? Response.json({ error: "token revoked" }, { status: 401 })
          : Response.json({ rows: [{ OrderID: 1, ProductID: 1 }], next: "page-2" });
      case "/loop":
        return Response.json({ rows: [{ OrderID: 1, ProductID: 1 }], next: "same-cursor" });
      default:
        return Response.json({ error: "no such table" }, { status: 404 });
    }
  });
  const addr = server.addr as Deno.NetAddr;
  return { url: `http://127.0.0.1:${addr.port}`, close: () => server.shutdown() };
}

/** The families of bad input: what a user writes (config, flags), and what a server answers. */
export type BadInputFamily = "config and flags" | "responses";

/** Runs check (c) for one family: the number of cases and the ones that did not hold. */
export async function badInputsCheck(
  dir: string,
  family: BadInputFamily,
): Promise<{ cases: number; failed: string[] }> {
  const cases = CASES.filter((c) => c.name.startsWith("response:") === (family === "responses"));
  const mock = await serveMock(["--token", TOKEN, "--rate-limit", "0"]);
  const bad = badServer();
  const failed: string[] = [];
  try {
    const out = join(dir, family === "responses" ? "bad-out-responses" : "bad-out-config");
    const good = join(dir, "good.yaml");
    await Deno.writeTextFile(good, linesConfig(mock.url).replace("name: reliability", "name: bad"));
    const first = await runCli(["harvest", "--config", good, "--out", out, "--quiet"], {
      env: { API_TOKEN: TOKEN },
    });
    if (first.code !== 0) {
      return { cases: cases.length, failed: [`the first run failed: ${first.stderr}`] };
    }
    for (const c of cases) {
      if (c.rows !== undefined) {
        const fresh = join(dir, "bad-out-complete");
        const file = join(dir, "case.yaml");
        await Deno.writeTextFile(file, c.config!(mock.url, bad.url));
        const run = await runCli(["harvest", "--config", file, "--out", fresh, "--quiet"], {
          env: { API_TOKEN: TOKEN },
        });
        const lines = run.code === 0 ? await parquetLines(join(fresh, "parquet", "lines")) : [];
        if (run.code !== 0) failed.push(`${c.name}: exit ${run.code}: ${run.stderr.slice(-200)}`);
        else if (lines.length !== c.rows || new Set(lines).size !== c.rows) {
          failed.push(`${c.name}: ${lines.length} rows, want ${c.rows}`);
        }
        continue;
      }
      // Refused before anything is written: the whole folder, state included, byte for byte.
      const before = await folderDigest(out);
      let args: string[];
      if (c.config) {
        const file = join(dir, "case.yaml");
        await Deno.writeTextFile(file, c.config(mock.url, bad.url));
        args = c.command === "schedule"
          ? ["schedule", "--config", file, ...(c.args ?? [])]
          : ["harvest", "--config", file, "--out", out, ...(c.args ?? [])];
      } else args = [...c.args!, "--out", out];
      const run = await runCli(args, { env: { API_TOKEN: TOKEN, ...c.env } });
      const said = run.stdout + run.stderr;
      const change = digestChange(before, await folderDigest(out));
      if (run.code === 0) failed.push(`${c.name}: exit 0`);
      else if (!c.names.test(said)) {
        failed.push(`${c.name}: no line names it: ${said.trim().slice(-200)}`);
      } else if (change) failed.push(`${c.name}: changed ${change}`);
    }
  } finally {
    await bad.close();
    await mock.stop();
  }
  return { cases: cases.length, failed };
}
