/**
 * The plain keep-alive GET loop of `deno task bench harvest`, as a process of its own: it pages
 * Orders (`_size=500`, cursor `_next`), parsing each body only for its cursor, and prints its
 * pages, rows and the loop's own time (without process start and exit) as one JSON line. It
 * imports nothing, so its start is Deno's alone: a loop started from the benchmark's own module
 * would also load the benchmark's imports (the mock, the harvest launcher, zod) and flatter any
 * program compared with it. It also prints when its first request left and its last response
 * ended (epoch ms), so the benchmark can split its process into start, pages and exit as it
 * does a harvest's. Usage: `deno run --allow-net=HOST get_loop.ts BASE_URL`.
 * @module
 */

const PAGE_SIZE = 500;

/** Pages Orders from `url` to the end; prints `{pages, rows, ms, firstRequestAt, lastResponseAt}`. */
async function getLoop(url: string): Promise<void> {
  const firstRequestAt = Date.now();
  const started = performance.now();
  let pages = 0;
  let rows = 0;
  let next: string | null = null;
  do {
    const target = new URL(`${url}/northwind/Orders.json`);
    target.searchParams.set("_size", String(PAGE_SIZE));
    if (next !== null) target.searchParams.set("_next", next);
    const response = await fetch(target);
    if (!response.ok) throw new Error(`GET ${target}: ${response.status}`);
    const body = JSON.parse(await response.text()) as { rows: unknown[]; next: string | null };
    pages++;
    rows += body.rows.length;
    next = body.next;
  } while (next !== null);
  const ms = performance.now() - started;
  console.log(JSON.stringify({ pages, rows, ms, firstRequestAt, lastResponseAt: Date.now() }));
}

if (import.meta.main) await getLoop(Deno.args[0]);
