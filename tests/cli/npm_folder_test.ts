import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { npmReadFolders } from "../../lib/cli/npm_folder.ts";
import { assert, assertEquals } from "../assert.ts";
import { tempFolders } from "../temp_dir.ts";

const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));
const withDir = tempFolders("tidemark-npm-folder-");

Deno.test("npm folder: the folder a scoped child must read holds the Parquet addon's package", async () => {
  const folders = npmReadFolders();
  assertEquals(folders.length, 1);
  const manifest = JSON.parse(
    await Deno.readTextFile(join(folders[0], "nodejs-polars", "0.25.2", "package.json")).catch(
      () => Deno.readTextFile(join(folders[0], "nodejs-polars", "package.json")),
    ),
  );
  assertEquals(manifest.name, "nodejs-polars");
});

Deno.test("npm folder: a child allowed to read only that folder loads polars and writes Parquet", async () => {
  await withDir(async (dir) => {
    const script = join(dir, "polars_child.ts");
    const parquet = join(dir, "out.parquet");
    await Deno.writeTextFile(
      script,
      `import pl from "nodejs-polars";
pl.DataFrame({ id: [1, 2, 3] }).writeParquet(${JSON.stringify(parquet)});
console.log(pl.readParquet(${JSON.stringify(parquet)}).height);
`,
    );
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        CONFIG,
        `--allow-read=${[...npmReadFolders(), parquet].join(",")}`,
        `--allow-write=${parquet}`,
        "--allow-ffi",
        "--allow-env",
        "--allow-sys",
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(child.stderr);
    assert(child.success, stderr);
    assertEquals(new TextDecoder().decode(child.stdout).trim(), "3");
  });
});
