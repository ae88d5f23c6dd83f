/**
 * Test support for CLI commands: run one in-process with what it prints captured instead of
 * shown, so a test can read its output and exit code.
 * @module
 */
import { runCli } from "../../main.ts";

/** What a captured call returned and printed. */
export interface Captured<T> {
  /** `fn`'s value. */
  result: T;
  /** Its `console.log` lines, joined with newlines. */
  stdout: string;
  /** Its `console.error` lines, joined with newlines. */
  stderr: string;
}

/** Runs `fn` with `console.log` and `console.error` captured. */
export async function capture<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const result = await fn();
    return { result, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** Runs `tidemark <args>` in-process: its exit code and what it printed. */
export async function cli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { result, stdout, stderr } = await capture(() => runCli(args));
  return { code: result, stdout, stderr };
}
