/**
 * What every job script of `jobs/` does around `tidemark harvest`, so the scripts stay thin:
 * unless a base URL is given (`--base-url URL`, or `TIDEMARK_BASE_URL` read by the config), the
 * job serves its own mock API on a free 127.0.0.1 port — with the auth, rate limits and faults
 * its real source has — harvests its config from it into its out folder, and stops the mock.
 * So `deno task wordpress` works on a fresh clone with nothing else running, and the same job
 * harvests a real server when pointed at one.
 * @module
 */
import { formatHelp } from "./args.ts";
import { spec } from "./harvest_args.ts";
import { launchHarvest } from "./harvest_task.ts";
import { type MockServer, type MockServerOptions, startMockServer } from "../../mock_api/server.ts";

/** One job script. */
export interface JobScript {
  /** The job's name (its `deno task`), for messages. */
  name: string;
  /** What it harvests, one line for `--help`. */
  summary: string;
  /** Path of its config. */
  config: string;
  /** Its out folder unless `--out` is given. */
  out: string;
  /** How its own mock is served when no base URL is given. */
  mock: MockServerOptions;
  /** What that mock simulates, for the line printed when it starts. */
  mockSummary: string;
}

/** Options of {@link runJobScript}. */
export interface RunJobScriptOptions {
  /** Environment (`TIDEMARK_BASE_URL`). @default Deno.env.toObject() */
  env?: Record<string, string | undefined>;
  /** Where the job's own lines go. @default console.error */
  print?: (line: string) => void;
  /** Called with the served mock (tests reach its `app` and `/-/stats`). */
  onServe?: (server: MockServer) => void | Promise<void>;
  /**
   * Runs `tidemark harvest` with these arguments. @default the task launcher: a child Deno with
   * exactly the permissions the config and flags name (its hosts — the served mock's, or
   * `--base-url` — and its `--out`), so a job reaches any server and writes where it is told
   */
  harvest?: (args: string[]) => Promise<number>;
}

function hasFlag(args: readonly string[], name: string): boolean {
  return args.some((a) => a === name || a.startsWith(`${name}=`));
}

/**
 * Runs a job: its own mock unless a base URL is given, then `tidemark harvest --config <config>
 * --out <out> [args]`. Resolves to the exit code.
 *
 * @example
 * ```ts
 * import { runJobScript } from "../lib/cli/job_script.ts";
 * Deno.exit(await runJobScript({
 *   name: "wordpress",
 *   summary: "posts, pages and media of a WordPress site",
 *   config: "jobs/wordpress.yaml",
 *   out: "out/wordpress",
 *   mock: { auth: "bearer" },
 *   mockSummary: "WordPress REST with bearer auth",
 * }, Deno.args));
 * ```
 */
export async function runJobScript(
  job: JobScript,
  args: string[],
  options: RunJobScriptOptions = {},
): Promise<number> {
  const print = options.print ?? ((line: string) => console.error(line));
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      `deno task ${job.name} [harvest options]: ${job.summary}\n` +
        `  config ${job.config}, out folder ${job.out} (--out DIR wins)\n` +
        `  serves its own mock API (${job.mockSummary}) on a free 127.0.0.1 port unless\n` +
        `  --base-url URL or TIDEMARK_BASE_URL names the server to harvest\n`,
    );
    console.log(formatHelp(spec));
    return 0;
  }
  const env = options.env ?? Deno.env.toObject();
  const external = hasFlag(args, "--base-url") || (env.TIDEMARK_BASE_URL ?? "") !== "";
  let server: MockServer | undefined;
  if (!external) {
    server = await startMockServer(job.mock);
    print(
      `tidemark ${job.name}: serving the mock API at ${server.url} (${job.mockSummary}); ` +
        "pass --base-url URL or set TIDEMARK_BASE_URL to harvest another server",
    );
    await options.onServe?.(server);
  }
  try {
    const harvest = options.harvest ?? ((harvestArgs: string[]) => launchHarvest(harvestArgs));
    return await harvest([
      "--config",
      job.config,
      ...(hasFlag(args, "--out") ? [] : ["--out", job.out]),
      ...(server ? ["--base-url", server.url] : []),
      ...args,
    ]);
  } finally {
    await server?.close();
  }
}
