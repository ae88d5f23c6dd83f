/**
 * Test support for the job scripts: run a job as `deno task <job>` would (its own mock unless a
 * base URL is given), in-process, with its printed lines captured and its log lines kept off the
 * test output; serve the mock for a test and count what it received.
 * @module
 */
import { type JobScript, runJobScript } from "../../lib/cli/job_script.ts";
import { runCli } from "../../main.ts";
import { type MockServer, type MockServerOptions, startMockServer } from "../../mock_api/server.ts";
import { dataStatuses } from "../harvest/fixture.ts";

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

/** What {@link captureOutput} caught. */
export interface CapturedOutput<T> {
  /** `fn`'s value. */
  value: T;
  /** Lines printed with `console.log`. */
  stdout: string[];
  /** Bytes written to stderr (the harvest's log lines), decoded. */
  stderr: string;
}

/** Runs `fn` with its `console.log` lines and its stderr bytes captured, not shown. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<CapturedOutput<T>> {
  const stdout: string[] = [];
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
    const value = await fn();
    return { value, stdout, stderr };
  } finally {
    console.log = log;
    Deno.stderr.writeSync = writeSync;
  }
}

/** Runs a job script with `args`; stdout and stderr are captured, not shown. */
export async function runJob(
  job: JobScript,
  args: string[],
  options: { env?: Record<string, string>; onServe?: (server: MockServer) => void } = {},
): Promise<JobRun> {
  const notes: string[] = [];
  const { value: code, stdout, stderr } = await captureOutput(() =>
    runJobScript(job, args, {
      env: options.env ?? {},
      print: (line) => notes.push(line),
      onServe: options.onServe,
      // In this process, so its output is captured; the task's own launcher is tested apart.
      harvest: (harvestArgs) => runCli(["harvest", ...harvestArgs]),
    })
  );
  return { code, stdout, notes, stderr };
}

/**
 * Runs `fn` with the mock served on 127.0.0.1 (a free port) and a fresh folder; the server is
 * closed and the folder removed afterwards, whatever `fn` did.
 */
export async function withServedMock(
  fn: (server: MockServer, dir: string) => Promise<void>,
  options: MockServerOptions = {},
): Promise<void> {
  const server = await startMockServer(options);
  const dir = await tempDir();
  try {
    await fn(server, dir);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Data requests a served mock received, by status (`/-/…` left out). */
export async function requestStats(server: MockServer): Promise<Record<string, number>> {
  return dataStatuses(await (await fetch(`${server.url}/-/stats`)).json());
}

/** Total of {@link requestStats}. */
export async function requestCount(server: MockServer): Promise<number> {
  return Object.values(await requestStats(server)).reduce((a, b) => a + b, 0);
}

/** A fresh temporary folder. */
export function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "tidemark-job-" });
}
