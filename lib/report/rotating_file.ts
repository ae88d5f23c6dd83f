/**
 * A log file rotated by size with a kept count (`logs/app.log` rotating): when the next
 * line would push `app.log` over `maxBytes`, `app.log.<keep-1>` → `app.log.<keep>` … `app.log` →
 * `app.log.1`, the oldest beyond `keep` is deleted, and writing goes on in a fresh `app.log`.
 * Writes are synchronous so lines from one process keep their order.
 * @module
 */
import { dirname } from "node:path";

/** Options of {@link RotatingFile}. */
export interface RotatingFileOptions {
  /** Size at which the file rotates, in bytes. @default 10 MiB */
  maxBytes?: number;
  /** Rotated files kept beside the live one (`.1` newest … `.keep` oldest). @default 5 */
  keep?: number;
}

/**
 * An append-only text file that rotates by size.
 *
 * @example
 * ```ts
 * import { RotatingFile } from "./rotating_file.ts";
 * const log = new RotatingFile("logs/app.log", { maxBytes: 1_000_000, keep: 3 });
 * log.write('{"level":"error","msg":"boom"}\n');
 * log.close();
 * ```
 */
export class RotatingFile {
  /** The live file's path. */
  readonly path: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  #file: Deno.FsFile | null = null;
  #size = 0;

  /** Opens (creating folders as needed) the log file at `path` for appending. */
  constructor(path: string, options: RotatingFileOptions = {}) {
    this.path = path;
    this.#maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
    this.#keep = options.keep ?? 5;
    if (!(this.#maxBytes > 0)) {
      throw new RangeError(`log maxBytes must be above 0, got ${this.#maxBytes}`);
    }
    if (!Number.isInteger(this.#keep) || this.#keep < 0) {
      throw new RangeError(`log keep must be a whole number ≥ 0, got ${this.#keep}`);
    }
    Deno.mkdirSync(dirname(path), { recursive: true });
    this.#open();
  }

  #open(): void {
    this.#file = Deno.openSync(this.path, { append: true, create: true });
    this.#size = this.#file.statSync().size;
  }

  /** Appends `text`, rotating first if it would take the file over `maxBytes`. */
  write(text: string): void {
    if (this.#file === null) throw new Error(`log file ${this.path} is closed`);
    const bytes = new TextEncoder().encode(text);
    if (this.#size > 0 && this.#size + bytes.length > this.#maxBytes) this.#rotate();
    let written = 0;
    while (written < bytes.length) written += this.#file!.writeSync(bytes.subarray(written));
    this.#size += bytes.length;
  }

  #rotate(): void {
    this.#file?.close();
    this.#file = null;
    const remove = (p: string) => {
      try {
        Deno.removeSync(p);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    };
    if (this.#keep === 0) {
      remove(this.path);
    } else {
      remove(`${this.path}.${this.#keep}`);
      for (let i = this.#keep - 1; i >= 1; i--) {
        try {
          Deno.renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
      }
      Deno.renameSync(this.path, `${this.path}.1`);
    }
    this.#open();
  }

  /** Closes the file; further writes throw. */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}
