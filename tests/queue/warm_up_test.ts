/**
 * A worker's warm-up harvest (lib/queue/warm_up.ts) runs offline, leaves nothing behind, and never
 * fails the worker.
 */
import { tmpdir } from "node:os";
import { warmUp } from "../../lib/queue/warm_up.ts";
import { assertEquals } from "../assert.ts";

async function warmUpFolders(): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(Deno.env.get("TMPDIR") ?? tmpdir())) {
    if (entry.name.startsWith("tidemark-warm-up-")) found.push(entry.name);
  }
  return found.sort();
}

Deno.test({
  name: "queue: the warm-up harvest needs no network and removes its temporary folder",
  // The engine's threads outlive the harvest on purpose: later units reuse them.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const before = await warmUpFolders();
    const fetch = globalThis.fetch;
    globalThis.fetch = () => Promise.reject(new Error("the warm-up went to the network"));
    try {
      assertEquals(await warmUp(), true);
    } finally {
      globalThis.fetch = fetch;
    }
    assertEquals(await warmUpFolders(), before);
  },
});
