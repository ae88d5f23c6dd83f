/**
 * A whole Deploy run under deploy:local's permissions (`--deny-write` but for the KV file,
 * `--deny-ffi`, `--deny-run`): the run succeeds with the bucket's Parquet equal to the source,
 * a write anywhere else is refused, and the KV file's folder holds nothing but KV's own files.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { BASE_URL } from "../harvest/fixture.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark-nowrite-");

Deno.test("a Deploy run with write permission on the KV file only writes no other file", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      join(dir, "shop.yaml"),
      `name: shop\nbase_url: ${BASE_URL}\nauth: { type: bearer, token: \${API_TOKEN} }\n` +
        `assets:\n  - name: Orders\n    path: /northwind/Orders.json\n    params: { _size: 100 }\n` +
        `    pagination: { type: cursor, param: _next, response_path: next }\n` +
        `    data_path: rows\n    primary_key: [OrderID]\n    output: { partition_by: [ShipCountry] }\n`,
    );
    await Deno.writeTextFile(
      join(dir, "schedule.yaml"),
      'jobs:\n  - { config: shop.yaml, schedule: "0 * * * *" }\n',
    );
    const before = new Set(await names(dir));
    const kv = join(dir, "state.kv");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        // The flags of `deno task deploy:local`, with the KV file as the only writable path.
        "--unstable-kv",
        "--unstable-cron",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        `--allow-write=${kv}`,
        "--no-prompt",
        "--deny-ffi",
        "--deny-run",
        new URL("./no_write_child.ts", import.meta.url).pathname,
      ],
      env: {
        TIDEMARK_SCHEDULE: join(dir, "schedule.yaml"),
        TIDEMARK_OUT: "s3://lake/tidemark",
        TIDEMARK_KV: kv,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        API_TOKEN: "super-secret-token",
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    });
    const { code, stdout, stderr } = await child.output();
    const errors = new TextDecoder().decode(stderr);
    assertEquals(code, 0, errors);
    const result = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
    assertEquals(result.status, "succeeded");
    assert(result.ids.length > 0);
    assertEquals(result.ids, result.source);
    assertEquals(result.write, "NotCapable", "a write beside the KV file is refused");
    const added = (await names(dir)).filter((name) => !before.has(name));
    assert(
      added.every((name) => /^state\.kv(-wal|-shm|-journal)?$/.test(name)),
      `only KV's files were written: ${added}`,
    );
  });
});

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
}
