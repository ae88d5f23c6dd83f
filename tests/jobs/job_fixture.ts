/**
 * Test support for the job scripts: run a job as `deno task <job>` would (its own mock unless a
 * base URL is given), in-process, with its printed lines captured and its log lines kept off the
 * test output; count what a served mock received.
 * @module
 */
import { type JobScript, runJobScript } from "../../lib/cli/job_script.ts";
import type { MockServer } from "../../mock_api/server.ts";

/** What a job run printed and returned. */
export interface JobRun {
  /** Exit code. */
  code: number;
  /** Lines printed on stdout (the report, the summary). */
  stdout: string[];
  /** Lines the job itself printed (the served mock's address). */
  notes: string[];
  /** Bytes the harvest logged on stderr, decoded. */
  stderr: string;
}

/** Runs a job script with `args`; stdout and stderr are captured, not shown. */
export async function runJob(
  job: JobScript,
  args: string[],
  options: { env?: Record<string, string>; onServe?: (server: MockServer) => void } = {},
): Promise<JobRun> {
  const stdout: string[] = [];
  const notes: string[] = [];
  let stderr = "";
  const log = console.log;
  const writeSync = Deno.stderr.writeSync;
  const decoder = new TextDecoder();
  console.log = (...values: unknown[]) => stdout.push(values.join(" "));
  Deno.stderr.writeSync = (bytes: Uint8Array) => {
    stderr += decoder.decode(bytes);
    return bytes.length;
  };
  try {
    const code = await runJobScript(job, args, {
      env: options.env ?? {},
      print: (line) => notes.push(line),
      onServe: options.onServe,
    });
    return { code, stdout, notes, stderr };
  } finally {
    console.log = log;
    Deno.stderr.writeSync = writeSync;
  }
}

/** Data requests a served mock received, by status (`/-/…` left out). */
export async function requestStats(server: MockServer): Promise<Record<string, number>> {
  const stats = await (await fetch(`${server.url}/-/stats`)).json() as {
    by_path: Record<string, Record<string, number>>;
  };
  const out: Record<string, number> = {};
  for (const [path, counts] of Object.entries(stats.by_path)) {
    if (path.startsWith("/-/")) continue;
    for (const [status, n] of Object.entries(counts)) out[status] = (out[status] ?? 0) + n;
  }
  return out;
}

/** Total of {@link requestStats}. */
export async function requestCount(server: MockServer): Promise<number> {
  return Object.values(await requestStats(server)).reduce((a, b) => a + b, 0);
}

/** A fresh temporary folder. */
export function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "tidemark-job-" });
}
