/**
 * Deterministic misbehaviour (docs/mock_api.md §6): seeded random faults and a scripted list that
 * fails the next requests in order. `timeout` holds the response until the client gives up (its
 * `AbortSignal`) or `timeoutHoldMs` passes; `truncate` sends a 200 whose body is cut short while
 * `Content-Length` states the full length (over `Deno.serve` the length is corrected, so the
 * client gets unparsable JSON); `reset` sends a body stream that errors mid-way (over
 * `Deno.serve` the connection is aborted).
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { MockEnv } from "../context.ts";
import { createRandom } from "../data/random.ts";
import type { RetryAfterStyle } from "./rate_limit.ts";

/** Every fault the mock can inject. */
export const FAULT_KINDS = [
  "500",
  "502",
  "503",
  "504",
  "429",
  "timeout",
  "truncate",
  "reset",
] as const;

/** One fault. */
export type FaultKind = typeof FAULT_KINDS[number];

/** Fault settings. */
export interface FaultOptions {
  /** Probability of each fault per request; their sum must not exceed 1. @default {} */
  faults?: Partial<Record<FaultKind, number>>;
  /** Seed of the fault sequence. @default 42 */
  seed?: number;
  /**
   * Scripted outcomes for the next requests, consumed in place (`shift`), so a test may push
   * more later; `"ok"` passes a request through. The script goes before the random draw.
   */
  script?: string[];
  /** How long a `timeout` holds the response when the client does not give up. @default 60_000 */
  timeoutHoldMs?: number;
  /** `Retry-After` style of an injected 429 (it asks for one second). @default "seconds" */
  retryAfter?: RetryAfterStyle;
  /** Epoch-millisecond clock (for HTTP-date `Retry-After`). @default Date.now */
  now?: () => number;
}

/** Errors raised because the client gave up on a held request (see {@link isClientGone}). */
const goneErrors = new WeakSet<object>();

/**
 * Whether `error` was raised because the client gave up on a held request: there is nobody to
 * answer, so the app's error handler lets it through instead of turning it into a 500. It is the
 * abort signal's own reason, so an in-process `app.request()` rejects exactly as `fetch` would
 * (`TimeoutError` for `AbortSignal.timeout`, `AbortError` for `abort()`).
 */
export function isClientGone(error: unknown): boolean {
  return typeof error === "object" && error !== null && goneErrors.has(error);
}

function clientGone(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  const error = reason instanceof Error
    ? reason
    : new DOMException("the client gave up on the request", "AbortError");
  goneErrors.add(error);
  return error;
}

const FAULT_ERRORS: Record<"500" | "502" | "503" | "504", string> = {
  "500": "internal server error",
  "502": "bad gateway",
  "503": "service unavailable",
  "504": "gateway timeout",
};

/** Refuses unknown fault kinds, probabilities outside [0, 1] and sums above 1. */
export function checkFaults(faults: Partial<Record<string, number>>, script: string[] = []): void {
  let sum = 0;
  for (const [kind, p] of Object.entries(faults)) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new RangeError(`unknown fault "${kind}"; accepted: ${FAULT_KINDS.join(", ")}`);
    }
    if (typeof p !== "number" || !Number.isFinite(p) || p < 0 || p > 1) {
      throw new RangeError(`fault ${kind} needs a probability between 0 and 1, got ${p}`);
    }
    sum += p;
  }
  if (sum > 1 + 1e-9) {
    throw new RangeError(`fault probabilities add up to ${sum}; they must add up to at most 1`);
  }
  for (const entry of script) checkScriptEntry(entry);
}

function checkScriptEntry(entry: string): void {
  if (entry !== "ok" && !(FAULT_KINDS as readonly string[]).includes(entry)) {
    throw new RangeError(
      `unknown scripted fault "${entry}"; accepted: ok, ${FAULT_KINDS.join(", ")}`,
    );
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as `signal` aborts. */
function hold(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(clientGone(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(clientGone(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

async function bodyBytes(res: Response): Promise<Uint8Array<ArrayBuffer>> {
  return res.body ? new Uint8Array(await res.arrayBuffer()) : new Uint8Array();
}

/** Replaces the response without Hono merging the old headers back in. */
function replace(c: Context, res: Response): void {
  c.res = undefined;
  c.res = res;
}

/**
 * Creates the fault middleware.
 *
 * @example
 * ```ts
 * const script = ["503", "ok", "429"];
 * app.use("*", faultsMiddleware({ faults: { "500": 0.1 }, seed: 7, script }));
 * ```
 */
export function faultsMiddleware(options: FaultOptions = {}): MiddlewareHandler<MockEnv> {
  const faults = options.faults ?? {};
  const script = options.script ?? [];
  checkFaults(faults, script);
  // The mock's seeded PRNG: a seed fixes the whole fault sequence.
  const random = createRandom(options.seed ?? 42);
  const holdMs = options.timeoutHoldMs ?? 60_000;
  const retryAfter = options.retryAfter ?? "seconds";
  const now = options.now ?? Date.now;
  const table = FAULT_KINDS.filter((k) => (faults[k] ?? 0) > 0).map((k) =>
    [k, faults[k]!] as const
  );

  function draw(): FaultKind | "ok" {
    if (script.length > 0) {
      const entry = script.shift()!;
      checkScriptEntry(entry);
      return entry as FaultKind | "ok";
    }
    if (table.length === 0) return "ok";
    const u = random();
    let cumulative = 0;
    for (const [kind, p] of table) {
      cumulative += p;
      if (u < cumulative) return kind;
    }
    return "ok";
  }

  return async (c, next) => {
    const fault = draw();
    switch (fault) {
      case "ok":
        return await next();
      case "500":
      case "502":
      case "503":
      case "504":
        return c.json({ error: `${FAULT_ERRORS[fault]} (injected fault)` }, Number(fault) as 500);
      case "429": {
        const headers: Record<string, string> = {};
        if (retryAfter === "seconds") headers["Retry-After"] = "1";
        if (retryAfter === "date") {
          headers["Retry-After"] = new Date((Math.ceil(now() / 1000) + 1) * 1000).toUTCString();
        }
        return c.json({ error: "rate limit exceeded" }, 429, headers);
      }
      case "timeout":
        // The request's signal is read only here: Deno.serve warns once when it is touched.
        await hold(c.req.raw.signal, holdMs);
        return await next();
      case "truncate": {
        await next();
        const full = await bodyBytes(c.res);
        const cut = full.subarray(0, full.length > 0 ? Math.max(1, full.length >> 1) : 0);
        const headers = new Headers(c.res.headers);
        headers.set("Content-Length", String(full.length));
        replace(c, new Response(cut, { status: c.res.status, headers }));
        return;
      }
      case "reset": {
        await next();
        const full = await bodyBytes(c.res);
        const half = full.subarray(0, full.length >> 1);
        let sent = false;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (!sent && half.length > 0) {
              sent = true;
              controller.enqueue(half);
            } else {
              // A TypeError, like fetch's own; Deno.serve also logs a plain Error's stack.
              controller.error(new TypeError("connection reset by peer (injected fault)"));
            }
          },
        });
        const headers = new Headers(c.res.headers);
        headers.set("Content-Length", String(full.length));
        replace(c, new Response(body, { status: c.res.status, headers }));
        return;
      }
    }
  };
}
