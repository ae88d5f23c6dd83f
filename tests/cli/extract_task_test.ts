/**
 * `deno task extract`: the extraction gets the network of its PostgreSQL URL (none for a SQLite
 * file) and, when it appends, only its database, query and out folders; `--show-permissions`
 * prints and runs nothing; a bad command line exits 2 before anything starts.
 */
import { resolve } from "node:path";
import {
  EXTRACT_MAIN,
  EXTRACT_V8_FLAGS,
  extractPermissions,
  launchExtract,
} from "../../lib/cli/extract_task.ts";
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { capture } from "./capture.ts";

Deno.test("extract task: a postgres:// URL grants its host, a SQLite file grants no network", () => {
  const pg = extractPermissions([
    "--db",
    "postgres://etl@db.example.org/shop",
    "--query",
    "SELECT 1",
    "--out",
    "/srv/out",
  ]);
  assertEquals(pg.flags[0], "--allow-net=db.example.org:5432");
  const file = extractPermissions(["--db", "shop.db", "--query", "SELECT 1", "--out", "/srv/out"]);
  assertEquals(file.flags.some((f) => f.startsWith("--allow-net")), false);
  assertStringIncludes(file.notes[0], "Deno.symlink");
});

Deno.test("extract task: an incremental extraction is scoped to its database, query file and out folder", () => {
  const { flags, notes } = extractPermissions([
    "--db",
    "shop.db",
    "--query-file",
    "q.sql",
    "--out",
    "/srv/out",
    "--incremental-column",
    "OrderDate",
  ]);
  assertEquals(notes, []);
  const read = flags.find((f) => f.startsWith("--allow-read="))!;
  assertStringIncludes(read, resolve("shop.db"));
  assertStringIncludes(read, resolve("q.sql"));
  assertEquals(flags.find((f) => f.startsWith("--allow-write")), "--allow-write=/srv/out");
});

Deno.test("extract task: --show-permissions only prints; a bad line exits 2 and starts nothing", async () => {
  const started: string[][] = [];
  const spawn = (args: string[]) => {
    started.push(args);
    return Promise.resolve(0);
  };
  const args = ["--db", "shop.db", "--query", "SELECT 1", "--out", "/srv/out"];
  const shown = await capture(() => launchExtract([...args, "--show-permissions"], spawn));
  assertEquals([shown.result, started.length], [0, 0]);
  assertStringIncludes(shown.stdout, `${EXTRACT_MAIN} --db shop.db`);
  const bad = await capture(() => launchExtract(["--db", "shop.db"], spawn));
  assertEquals([bad.result, started.length], [2, 0]);
  assertEquals(await launchExtract(args, spawn), 0);
  assertEquals(started[0].slice(-7), [EXTRACT_MAIN, ...args]);
});

Deno.test("extract task: the child and the task's own launcher run with the same V8 flags", async () => {
  // Launcher and child share modules: under other flags each would evict the other's cached
  // compilation of them (V8 rejects code cached under other flags), every run.
  assertStringIncludes(
    extractPermissions(["--db", "x.db", "--out", "out"]).flags.join(" "),
    EXTRACT_V8_FLAGS,
  );
  const { tasks } = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  );
  assertStringIncludes(tasks.extract.command, ` ${EXTRACT_V8_FLAGS} `);
});
