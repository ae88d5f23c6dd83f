/**
 * Rate-limit benchmark: the mock API allows 100 requests per 2 s window per credential;
 * 4 workers fetch 500 pages through one `HttpClient` (adaptive limiter), beside a naive client
 * that retries on 429 only, sleeping `Retry-After` as the seeds do — both in the same run, each
 * against a fresh server. Floor = pages / limit × window = 10 s (the limit's steady rate); the
 * server's windows are aligned on the epoch and both clients start just after a window opens, so
 * the exact earliest finish is when the 5th window opens (8 s) and both floors are printed.
 * Goal: ≤ 1.05 × floor and zero 429s.
 * @module
 */
import { HttpClient } from "../lib/http/client.ts";
import { startMockServer } from "../mock_api/server.ts";

const PAGES = 500;
const WORKERS = 4;
const LIMIT = 100;
const WINDOW_MS = 2000;
const TOKEN = "bench-token";
const FLOOR_MS = (PAGES / LIMIT) * WINDOW_MS;
const EXACT_FLOOR_MS = (Math.ceil(PAGES / LIMIT) - 1) * WINDOW_MS;

interface Outcome {
  ms: number;
  tooMany: number;
  requests: number;
}

function pagePath(i: number): string {
  // Distinct pages (no 304s): two orders after a different key each time.
  return `/northwind/Orders.json?_size=2&_next=${10247 + i}`;
}

async function serverCounts(url: string): Promise<Record<string, number>> {
  const response = await fetch(`${url}/-/stats`);
  return (await response.json()).by_status;
}

/** Starts just after the next window opens, so every run faces the same windows. */
async function nextWindow(): Promise<void> {
  const wait = WINDOW_MS - (Date.now() % WINDOW_MS) + 20;
  await new Promise((resolve) => setTimeout(resolve, wait));
}

async function measure(client: (base: string) => Promise<void>): Promise<Outcome> {
  const server = await startMockServer({
    auth: "bearer",
    token: TOKEN,
    rateLimit: LIMIT,
    rateWindowMs: WINDOW_MS,
  });
  try {
    await nextWindow();
    const started = performance.now();
    await client(server.url);
    const ms = performance.now() - started;
    const counts = await serverCounts(server.url);
    const requests = Object.values(counts).reduce((a, b) => a + b, 0);
    return { ms, tooMany: counts["429"] ?? 0, requests };
  } finally {
    await server.close();
  }
}

async function workers(fetchPage: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: WORKERS }, async () => {
    while (next < PAGES) {
      const i = next++;
      await fetchPage(i);
    }
  }));
}

/** Tidemark: one session, adaptive limiter, default retry policy. */
function tidemark(base: string): Promise<void> {
  const client = new HttpClient({
    baseUrl: base,
    auth: { type: "bearer", token: TOKEN, alias: "BENCH_TOKEN" },
  });
  return workers(async (i) => {
    const result = await client.fetch(pagePath(i));
    if (result.status !== 200) throw new Error(`page ${i}: status ${result.status}`);
  });
}

/** The seeds' client: on 429 sleep Retry-After and try again; nothing else. */
function naive(base: string): Promise<void> {
  return workers(async (i) => {
    for (;;) {
      const response = await fetch(`${base}${pagePath(i)}`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      await response.arrayBuffer();
      if (response.status !== 429) return;
      const seconds = Number(response.headers.get("Retry-After") ?? "1");
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  });
}

function row(name: string, o: Outcome): string {
  const cells = [
    name.padEnd(22),
    `${(o.ms / 1000).toFixed(2)} s`.padStart(9),
    (o.ms / FLOOR_MS).toFixed(3).padStart(12),
    (o.ms / EXACT_FLOOR_MS).toFixed(3).padStart(13),
    String(o.tooMany).padStart(6),
    String(o.requests).padStart(9),
  ];
  return `| ${cells.join(" | ")} |`;
}

/** Runs both clients and prints the table. */
export async function run(): Promise<void> {
  console.log(
    `${PAGES} pages, ${WORKERS} workers, server limit ${LIMIT} requests / ${WINDOW_MS / 1000} s ` +
      `(fixed windows aligned on the epoch); floor ${FLOOR_MS / 1000} s = pages / limit × ` +
      `window; exact floor ${EXACT_FLOOR_MS / 1000} s = when the last needed window opens\n`,
  );
  const ours = await measure(tidemark);
  const seeds = await measure(naive);
  console.log(
    `| ${"client".padEnd(22)} | ${"elapsed".padStart(9)} | ${"× floor".padStart(12)} | ${
      "× exact floor".padStart(13)
    } | ${"429s".padStart(6)} | ${"requests".padStart(9)} |`,
  );
  console.log(
    `|${"-".repeat(24)}|${"-".repeat(11)}|${"-".repeat(14)}|${"-".repeat(15)}|` +
      `${"-".repeat(8)}|${"-".repeat(11)}|`,
  );
  console.log(row("tidemark (adaptive)", ours));
  console.log(row("naive (seeds)", seeds));
  const met = ours.ms <= 1.05 * FLOOR_MS && ours.tooMany === 0;
  console.log(
    `\ngoal ≤ 1.05 × floor and zero 429s: ${met ? "met" : "NOT met"} ` +
      `(tidemark ${(ours.ms / FLOOR_MS).toFixed(3)} × floor, ${ours.tooMany} 429s; naive ` +
      `${(seeds.ms / FLOOR_MS).toFixed(3)} ×, ${seeds.tooMany} 429s)`,
  );
}

if (import.meta.main) await run();
