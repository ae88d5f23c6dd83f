/** `tidemark replay` arguments: both folders are required, and the out folder must be a harvest's. */
import { runCli } from "../../main.ts";
import { assertEquals, assertRejects } from "../assert.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { command } from "../../lib/cli/replay.ts";

Deno.test("replay without --to is a usage error naming both flags", async () => {
  await assertRejects(() => command.run(["--out", "x"]), UsageError, "--to DIR2");
});

Deno.test("replay of a folder without a manifest exits 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-replay-cli-" });
  try {
    assertEquals(await runCli(["replay", "--out", dir, "--to", `${dir}/again`]), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
