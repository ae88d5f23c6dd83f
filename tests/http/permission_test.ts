/**
 * A permission Deno refuses is not a network error: the request fails at once, is not retried,
 * and the message names the host and how to grant it.
 */
import { fetchResilient } from "../../lib/http/fetch_resilient.ts";
import { PermissionError } from "../../lib/core/errors.ts";
import { assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";

Deno.test("a refused net permission fails after one attempt, naming the host and the flag", async () => {
  let calls = 0;
  const error = await assertRejects(
    () =>
      fetchResilient("http://127.0.0.2:9000/northwind/Orders.json", {
        retry: { max_attempts: 6, base_ms: 1, cap_ms: 5 },
        fetch: () => {
          calls++;
          throw new Deno.errors.NotCapable(
            'Requires net access to "127.0.0.2:9000", run again with the --allow-net flag',
          );
        },
      }),
    PermissionError,
  );
  assertEquals(calls, 1);
  assertStringIncludes(error.message, "--allow-net=127.0.0.2:9000");
  assertStringIncludes(error.message, "deno task harvest");
});

Deno.test("a harvest whose host is not granted ends at once with that message, not after retries", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-permission-" });
  try {
    const config = `${dir}/job.yaml`;
    await Deno.writeTextFile(
      config,
      `name: job
base_url: http://127.0.0.2:9000
auth: { type: none }
retry: { max_attempts: 12, base_ms: 1000, cap_ms: 8000 }
assets:
  - name: Orders
    path: /northwind/Orders.json
    data_path: rows
`,
    );
    const main = new URL("../../main.ts", import.meta.url).pathname;
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-ffi",
        "--allow-sys",
        main,
        "harvest",
        "--config",
        config,
        "--out",
        `${dir}/out`,
        "--log-format",
        "json",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
    assertEquals(result.code, 1, text);
    assertStringIncludes(text, "network access to 127.0.0.2:9000 is not granted");
    assertEquals(text.includes("http.retry"), false, "no retry was attempted");
    assertEquals(text.includes("failed 12 times"), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
