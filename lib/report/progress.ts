/**
 * A live progress display on a terminal: one line per asset with pages, rows, rate, retries and
 * whether it is waiting for a rate limit. Redraws are throttled (at most one per `intervalMs`,
 * driven by updates, no timer), and on anything that is not a terminal it writes nothing at all,
 * so logs and pipes stay clean.
 * @module
 */
import { formatCount, formatSeconds } from "../core/units.ts";

/** Where the display is drawn (stderr by default). */
export interface ProgressOutput {
  /** Writes bytes, returning how many were written. */
  writeSync(bytes: Uint8Array): number;
  /** Whether it is a terminal; if not, nothing is drawn. */
  isTerminal(): boolean;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Where to draw. @default Deno.stderr */
  output?: ProgressOutput;
  /** Epoch-ms clock. @default Date.now */
  clock?: () => number;
  /** Minimum milliseconds between two redraws. @default 100 */
  intervalMs?: number;
}

/** Increments for one asset's counters. */
export interface ProgressDelta {
  /** Pages committed. */
  pages?: number;
  /** Rows received. */
  rows?: number;
  /** Retries made. */
  retries?: number;
}

interface AssetLine {
  pages: number;
  rows: number;
  retries: number;
  startedMs: number;
  waitUntil: number | null;
  status: string | null;
  endedMs: number | null;
}

/**
 * The progress display of a run.
 *
 * @example
 * ```ts
 * import { createProgress } from "./progress.ts";
 * const progress = createProgress();
 * progress.update("Orders", { pages: 1, rows: 1000 });
 * progress.waiting("Orders", Date.now() + 12_000); // a 429 asked for 12 s
 * progress.done("Orders", "ok");
 * progress.close();
 * ```
 */
export class Progress {
  readonly #output: ProgressOutput | null;
  readonly #clock: () => number;
  readonly #intervalMs: number;
  readonly #assets = new Map<string, AssetLine>();
  #lastDraw = -Infinity;
  #drawnLines = 0;
  #closed = false;

  /** Use {@link createProgress}. `output` is `null` when not on a terminal. */
  constructor(output: ProgressOutput | null, options: Omit<ProgressOptions, "output"> = {}) {
    this.#output = output;
    this.#clock = options.clock ?? Date.now;
    this.#intervalMs = options.intervalMs ?? 100;
  }

  /** Whether anything is drawn (only on a terminal). */
  get enabled(): boolean {
    return this.#output !== null;
  }

  #asset(name: string): AssetLine {
    let line = this.#assets.get(name);
    if (!line) {
      line = {
        pages: 0,
        rows: 0,
        retries: 0,
        startedMs: this.#clock(),
        waitUntil: null,
        status: null,
        endedMs: null,
      };
      this.#assets.set(name, line);
    }
    return line;
  }

  /** Adds to an asset's counters; a committed page also ends any rate-limit wait. */
  update(asset: string, delta: ProgressDelta): void {
    if (!this.enabled) return;
    const line = this.#asset(asset);
    line.pages += delta.pages ?? 0;
    line.rows += delta.rows ?? 0;
    line.retries += delta.retries ?? 0;
    if (delta.pages) line.waitUntil = null;
    this.#maybeDraw(false);
  }

  /** The asset is waiting for a rate limit until `untilMs` (epoch ms); `null` when it resumes. */
  waiting(asset: string, untilMs: number | null): void {
    if (!this.enabled) return;
    this.#asset(asset).waitUntil = untilMs;
    this.#maybeDraw(true);
  }

  /** The asset finished (`ok`, `failed`, `skipped`, ...). */
  done(asset: string, status = "done"): void {
    if (!this.enabled) return;
    const line = this.#asset(asset);
    line.status = status;
    line.waitUntil = null;
    line.endedMs = this.#clock();
    this.#maybeDraw(true);
  }

  /** The current frame, one line per asset (what a redraw prints). */
  frame(): string[] {
    const now = this.#clock();
    const width = Math.max(5, ...[...this.#assets.keys()].map((a) => a.length));
    return [...this.#assets.entries()].map(([name, a]) => {
      const seconds = Math.max(0.001, ((a.endedMs ?? now) - a.startedMs) / 1000);
      const parts = [
        name.padEnd(width),
        `${formatCount(a.pages).padStart(6)} pages`,
        `${formatCount(a.rows).padStart(11)} rows`,
        `${formatCount(a.rows / seconds).padStart(8)} rows/s`,
        `retries ${formatCount(a.retries)}`,
      ];
      if (a.status !== null) parts.push(`${a.status} in ${formatSeconds(seconds)}`);
      else if (a.waitUntil !== null && a.waitUntil > now) {
        parts.push(`waiting for rate limit ${formatSeconds((a.waitUntil - now) / 1000)}`);
      }
      return parts.join("  ");
    });
  }

  #maybeDraw(force: boolean): void {
    if (this.#closed) return;
    const now = this.#clock();
    if (!force && now - this.#lastDraw < this.#intervalMs) return;
    this.#lastDraw = now;
    this.#draw();
  }

  #draw(): void {
    const lines = this.frame();
    // Move to the start of the first line drawn last time, then rewrite every line.
    let text = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}F` : "";
    for (const line of lines) text += `\x1b[2K${line}\n`;
    this.#drawnLines = lines.length;
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) written += this.#output!.writeSync(bytes.subarray(written));
  }

  /** Draws the final frame and stops; later calls do nothing. */
  close(): void {
    if (!this.enabled || this.#closed) return;
    if (this.#assets.size > 0) this.#draw();
    this.#closed = true;
  }
}

/** A progress display on `output` (stderr), or a silent one when that is not a terminal. */
export function createProgress(options: ProgressOptions = {}): Progress {
  const output = options.output ?? Deno.stderr;
  return new Progress(output.isTerminal() ? output : null, options);
}
