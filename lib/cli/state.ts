/**
 * `tidemark state --out DIR [--asset A] [--json]` lists what the state of an out folder holds:
 * watermarks, the latest runs, rate-limit skips, and assets with committed pages not yet
 * complete (where a re-run resumes). `tidemark state reset --out DIR --asset A [--yes]` forgets
 * one asset (watermarks, pages, skip) after showing what goes and asking for confirmation; off a
 * terminal it refuses unless `--yes` is given. Reading never creates a state file.
 * @module
 */
import { pathExists } from "../core/atomic_file.ts";
import { StateError, UsageError } from "../core/errors.ts";
import { lockOutFolder } from "../run/out_lock.ts";
import {
  describeState,
  openStateStore,
  type PageRow,
  type RunRow,
  type SkipRow,
  type StateLocation,
  stateLocation,
  type StateStore,
  type Watermark,
} from "../state/mod.ts";
import {
  booleanFlag,
  choiceValue,
  type Command,
  intFlag,
  type ParsedFlags,
  parseFlags,
  stringFlag,
} from "./args.ts";

/** How `state reset` talks to the person at the terminal (tests inject these). */
export interface StateCommandIo {
  /** Whether stdin is a terminal a person can answer on. @default Deno.stdin.isTerminal() */
  isTerminal?: () => boolean;
  /** Asks a question, returns the answer (null on end of input). @default globalThis.prompt */
  prompt?: (message: string) => string | null;
}

/** Committed pages of one asset/partition that a re-run resumes from. */
export interface PendingSummary {
  /** The asset. */
  asset: string;
  /** The partition (`""` for none). */
  partition: string;
  /** Pages committed and not yet complete. */
  pages: number;
  /** The last of them. */
  lastPage: number;
  /** The cursor a resumed walk continues from (null: the walk had ended). */
  cursorOut: string | null;
  /** The run that committed the last page. */
  runId: string;
}

/** What `tidemark state --json` prints. */
export interface StateListing {
  /** Where the state is. */
  state: StateLocation;
  /** Every watermark (of `--asset` when given). */
  watermarks: Watermark[];
  /** The latest runs, newest first. */
  runs: RunRow[];
  /** Assets skipped for a rate limit (taken first next run). */
  skips: SkipRow[];
  /** Where a re-run resumes. */
  pending: PendingSummary[];
}

const BACKENDS = ["sqlite", "kv", "postgres"] as const;

/** The `state` command's flags and help. */
const SPEC = {
  name: "state",
  summary: "list or reset watermarks, runs and skips",
  usage:
    "state --out DIR [--asset A] [--json]\n       tidemark state reset --out DIR --asset A [--yes]",
  flags: {
    out: { type: "string" as const, value: "DIR", description: "the out folder of a harvest" },
    asset: {
      type: "string" as const,
      value: "A",
      description: "only this asset (required by reset)",
    },
    json: { type: "boolean" as const, description: "print the listing as JSON" },
    runs: {
      type: "string" as const,
      value: "N",
      description: "how many of the latest runs to list",
      default: "10",
    },
    yes: { type: "boolean" as const, description: "reset without asking" },
    backend: {
      type: "string" as const,
      value: "NAME",
      description: "sqlite, kv or postgres (the config's state.backend)",
      default: "sqlite",
    },
    state: {
      type: "string" as const,
      value: "PATH",
      description:
        "the state file, or a postgres://user@host:port/db URL (the config's state.path)",
      default: "DIR/state.sqlite, or DIR/state.kv",
    },
  },
  details:
    "reset forgets an asset's watermarks, committed pages and skip: its next run starts from\n" +
    "the configured initial value (or --since). It is refused while a run writes to DIR.",
};

/** Builds the `state` command around injected terminal I/O. */
export function stateCommand(io: StateCommandIo = {}): Command {
  const spec = SPEC;
  const command: Command = {
    spec,
    async run(args: string[]): Promise<number> {
      const flags = parseFlags(spec, args);
      const [action, ...extra] = flags.positionals;
      if (extra.length > 0 || (action !== undefined && action !== "reset")) {
        throw new UsageError(
          `unexpected argument "${
            extra[0] ?? action
          }"; tidemark state takes no argument, or "reset"`,
        );
      }
      const location = locate(flags);
      // A reset under a running harvest would pull its state from under it: refused at once.
      const out = stringFlag(flags, "out");
      const lock = action === "reset" && out !== undefined && await pathExists(out)
        ? await lockOutFolder(out, { command: "state reset" })
        : undefined;
      let store: StateStore;
      try {
        store = await openStateStore({ backend: location.backend, path: location.path }, {
          create: false,
        });
      } catch (error) {
        lock?.release();
        throw error;
      }
      try {
        if (action === "reset") return await reset(store, location, flags, io);
        const runs = intFlag(flags, "runs", { min: 0 }) ?? 10;
        const listing = await readListing(store, location, {
          asset: stringFlag(flags, "asset"),
          runs,
        });
        console.log(
          booleanFlag(flags, "json") ? JSON.stringify(listing, null, 2) : renderListing(listing),
        );
        return 0;
      } finally {
        await store.close();
        lock?.release();
      }
    },
  };
  return command;
}

/** The `state` command. */
export const command: Command = stateCommand();

function locate(flags: ParsedFlags): StateLocation {
  const out = stringFlag(flags, "out");
  const path = stringFlag(flags, "state");
  if (out === undefined && path === undefined) {
    throw new UsageError("tidemark state needs --out DIR, the out folder of a harvest");
  }
  const backend = choiceValue(stringFlag(flags, "backend") ?? "sqlite", "--backend", BACKENDS);
  try {
    return stateLocation({ backend, path }, { out });
  } catch (error) {
    if (error instanceof StateError) throw new UsageError(error.message);
    throw error;
  }
}

/** Options of {@link readListing}. */
interface ListingOptions {
  asset?: string;
  runs: number;
}

/** Reads what `tidemark state` shows. */
async function readListing(
  store: StateStore,
  location: StateLocation,
  options: ListingOptions,
): Promise<StateListing> {
  const only = options.asset;
  const keep = (asset: string) => only === undefined || asset === only;
  const watermarks = (await store.listWatermarks()).filter((w) => keep(w.assetId));
  const runs = (await store.listRuns(options.runs)).filter((r) =>
    only === undefined || r.assets.includes(only)
  );
  const skips = (await store.listSkips()).filter((s) => keep(s.assetId));
  const assets = new Set<string>([
    ...watermarks.map((w) => w.assetId),
    ...runs.flatMap((r) => r.assets),
    ...skips.map((s) => s.assetId),
    ...(only === undefined ? [] : [only]),
  ]);
  const pending: PendingSummary[] = [];
  for (const asset of [...assets].filter(keep).sort()) {
    pending.push(...summarizePending(asset, await store.pendingPages(asset)));
  }
  // The listing may be printed or saved: a PostgreSQL URL is shown with its password masked.
  return {
    state: { backend: location.backend, path: location.path && describeState(location) },
    watermarks,
    runs,
    skips,
    pending,
  };
}

function summarizePending(asset: string, pages: PageRow[]): PendingSummary[] {
  const byPartition = new Map<string, PageRow[]>();
  for (const p of pages) byPartition.set(p.partition, [...(byPartition.get(p.partition) ?? []), p]);
  return [...byPartition.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(
    ([partition, rows]) => {
      const last = rows[rows.length - 1];
      return {
        asset,
        partition,
        pages: rows.length,
        lastPage: last.page,
        cursorOut: last.cursorOut,
        runId: last.runId,
      };
    },
  );
}

/** Renders the listing as aligned tables. */
export function renderListing(listing: StateListing): string {
  const where = describeState(listing.state);
  const dash = (
    v: string | null | undefined,
  ) => (v === null || v === undefined || v === "" ? "-" : v);
  const sections = [
    `State: ${where} (${listing.state.backend})`,
    "",
    section(
      "Watermarks",
      ["asset", "kind", "last_id", "last_timestamp", "updated_at"],
      listing.watermarks.map((w) => [
        w.assetId,
        w.dataType,
        dash(w.lastId),
        dash(w.lastTimestamp),
        w.updatedAt,
      ]),
    ),
    section(
      `Runs (latest ${listing.runs.length})`,
      ["run_id", "command", "status", "started_at", "finished_at", "assets", "counts"],
      listing.runs.map((r) => [
        r.runId,
        r.command,
        r.status,
        r.startedAt,
        dash(r.finishedAt),
        r.assets.join(","),
        Object.entries(r.counts).map(([k, v]) => `${k}=${v}`).join(" ") || "-",
      ]),
    ),
    section(
      "Skips (taken first on the next run)",
      ["asset", "run_id", "retry_at", "recorded_at", "reason"],
      listing.skips.map((s) => [s.assetId, s.runId, dash(s.retryAt), s.recordedAt, s.reason]),
    ),
    section(
      "Resume points (pages committed, asset not complete)",
      ["asset", "partition", "pages", "last_page", "next_cursor", "run_id"],
      listing.pending.map((p) => [
        p.asset,
        dash(p.partition),
        String(p.pages),
        String(p.lastPage),
        p.cursorOut ?? "(walk ended)",
        p.runId,
      ]),
    ),
  ];
  return sections.join("\n").trimEnd();
}

function section(title: string, headers: string[], rows: string[][]): string {
  if (rows.length === 0) return `${title}\n  (none)\n`;
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ")}`;
  return [title, line(headers), ...rows.map(line), ""].join("\n");
}

async function reset(
  store: StateStore,
  location: StateLocation,
  flags: ParsedFlags,
  io: StateCommandIo,
): Promise<number> {
  const asset = stringFlag(flags, "asset");
  if (asset === undefined) {
    throw new UsageError("tidemark state reset needs --asset A, the asset to forget");
  }
  const where = describeState(location);
  const watermarks = (await store.listWatermarks()).filter((w) => w.assetId === asset);
  const pending = await store.pendingPages(asset);
  const outputs = await store.committedOutputs(asset);
  const skip = (await store.listSkips()).find((s) => s.assetId === asset);
  if (watermarks.length === 0 && pending.length === 0 && outputs.size === 0 && !skip) {
    const known = new Set([
      ...(await store.listWatermarks()).map((w) => w.assetId),
      ...(await store.listSkips()).map((s) => s.assetId),
      ...(await store.listRuns(50)).flatMap((r) => r.assets),
    ]);
    throw new UsageError(
      `nothing is stored for asset "${asset}" in ${where}; known assets: ${
        [...known].sort().join(", ") || "none"
      } (names are case-sensitive)`,
    );
  }
  const running = (await store.listRuns(50)).filter((r) =>
    r.status === "running" && r.assets.includes(asset)
  );
  const plan = [
    `reset asset "${asset}" in ${where}:`,
    ...watermarks.map((w) =>
      `  forget watermark ${w.dataType}: ${
        [w.lastId, w.lastTimestamp].filter((v) => v !== null).join(" ") || "-"
      }`
    ),
    `  forget ${pending.length} page(s) awaiting resume and the record of ${outputs.size} output part(s) (files are kept)`,
    ...(skip ? [`  forget the rate-limit skip of run ${skip.runId}`] : []),
    ...running.map((r) =>
      `  warning: run ${r.runId} (started ${r.startedAt}) is still marked running; stop it first if it is alive`
    ),
    "  the next run starts from the configured initial value (or --since)",
  ];
  console.log(plan.join("\n"));
  if (!booleanFlag(flags, "yes")) {
    const isTerminal = io.isTerminal ?? (() => Deno.stdin.isTerminal());
    if (!isTerminal()) {
      throw new UsageError(
        `refusing to reset asset "${asset}" without confirmation: stdin is not a terminal; pass --yes to confirm`,
      );
    }
    const ask = io.prompt ?? ((message: string) => prompt(message));
    const answer = ask(`Reset asset "${asset}"? [y/N]`)?.trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") {
      console.log("not reset; nothing changed");
      return 1;
    }
  }
  await store.resetAsset(asset);
  console.log(`reset "${asset}"`);
  return 0;
}
