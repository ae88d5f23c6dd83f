/**
 * What a run leaves behind about itself, written in one place for every command that runs
 * (harvest, extract): its row in the state (started with its first write, finished with its
 * counts) and its report in `<out>/reports/`. A run that fails before it writes anything leaves
 * state and the out folder exactly as it found them; a run that began and then threw is marked
 * failed, so the next run knows to clean up after it.
 * @module
 */
import { deferWrites } from "../state/deferred.ts";
import type { RunFinish, StateStore } from "../state/mod.ts";
import { type RunReport } from "../report/report_model.ts";
import { writeRunReport, type WrittenReport } from "../report/report_files.ts";

/** Options of {@link RunRecord}. */
export interface RunRecordOptions {
  /** The run. */
  runId: string;
  /** The command recorded in the run row. */
  command: "harvest" | "extract";
  /** Hash of the config (or options) the run uses. */
  configSha256: string;
  /** The assets the run row lists, read when the run begins (a harvest picks them late). */
  assets: () => string[];
  /** The run's clock. @default the system time */
  now?: () => Date;
  /** Written when the run begins, before its row (a harvest's config stamp). */
  onBegin?: () => Promise<void>;
  /** Secrets masked in the report. @default none */
  secrets?: readonly string[];
  /** Also write the HTML report. @default true */
  html?: boolean;
}

/**
 * The run row and report of one run over `store`. Writes through {@link RunRecord.state} begin
 * the run first ({@link RunRecord.begin}); {@link RunRecord.finish} writes the report and ends
 * the row; {@link RunRecord.abandon} marks a run that threw.
 *
 * @example
 * ```ts
 * import { openSqliteState } from "../state/sqlite.ts";
 * import { RunRecord } from "./run_record.ts";
 * const record = new RunRecord(openSqliteState(":memory:"), {
 *   runId: "r1",
 *   command: "extract",
 *   configSha256: "",
 *   assets: () => ["Orders"],
 * });
 * await record.state.setWatermark({ assetId: "Orders", lastId: "5" }); // the run row first
 * await record.close();
 * ```
 */
export class RunRecord {
  /** The state as the run uses it: its first write begins the run. */
  readonly state: StateStore;
  /** When the run started (UTC ISO-8601). */
  readonly startedAt: string;
  readonly #store: StateStore;
  readonly #options: RunRecordOptions;
  readonly #now: () => Date;
  #began: Promise<void> | undefined;

  /** A record over `store`, which it closes with {@link RunRecord.close}. */
  constructor(store: StateStore, options: RunRecordOptions) {
    this.#store = store;
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.startedAt = this.#now().toISOString();
    this.state = deferWrites(store, () => this.begin());
  }

  /** Hash of the config (or options) the run uses. */
  get configSha256(): string {
    return this.#options.configSha256;
  }

  /** Whether the run has begun (written its row). */
  get began(): boolean {
    return this.#began !== undefined;
  }

  /** Begins the run once: `onBegin`, then its row in the state. */
  begin(): Promise<void> {
    return this.#began ??= (async () => {
      await this.#options.onBegin?.();
      await this.#store.startRun({
        runId: this.#options.runId,
        startedAt: this.startedAt,
        configSha256: this.#options.configSha256,
        command: this.#options.command,
        assets: this.#options.assets(),
      });
    })();
  }

  /**
   * Ends a run that ran to its end (its assets may have failed): begins it if it had not (a run
   * that wrote nothing still leaves its report), writes the report to `out`, then finishes the
   * row with the report's status and `counts`, so a finished row always has its report.
   */
  async finish(
    out: string,
    report: RunReport,
    counts: RunFinish["counts"],
  ): Promise<WrittenReport> {
    await this.begin();
    const written = await writeRunReport(out, report, {
      secrets: this.#options.secrets,
      html: this.#options.html,
    });
    await this.#store.finishRun(this.#options.runId, {
      status: report.status === "succeeded" || report.status === "failed"
        ? report.status
        : "partial",
      finishedAt: this.#now().toISOString(),
      counts,
    });
    return written;
  }

  /**
   * Marks a run that threw as failed, when it had begun (one that had not leaves no trace),
   * with its report if one is given. Never throws: the run's own error is the one to report.
   */
  async abandon(out: string, report?: RunReport): Promise<void> {
    if (!this.began) return;
    if (report) {
      await writeRunReport(out, report, {
        secrets: this.#options.secrets,
        html: this.#options.html,
      }).catch(() => {});
    }
    await this.#store.finishRun(this.#options.runId, {
      status: "failed",
      finishedAt: this.#now().toISOString(),
      counts: {},
    }).catch(() => {});
  }

  /** Closes the state. */
  close(): Promise<void> {
    return this.#store.close();
  }
}
