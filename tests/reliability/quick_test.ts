/**
 * `deno task reliability --quick` inside the test suite: chaos profile, kill -9 of harvest and
 * extract, bad configs, flags and responses, no secret anywhere — each must hold.
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";

Deno.test("reliability --quick: chaos, kill -9, bad inputs and secrets all hold", async () => {
  const main = new URL("../../reliability/main.ts", import.meta.url).pathname;
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      main,
      "--quick",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(result.stdout);
  assertEquals(result.code, 0, stdout + new TextDecoder().decode(result.stderr));
  assertStringIncludes(stdout, "6 passed, 0 failed");
});
