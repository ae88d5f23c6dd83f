/**
 * The jobs of `tidemark schedule --config FILE`. FILE is either one harvest config with a
 * `schedule:` (and optionally assets with their own `schedule:`), or a jobs file listing configs:
 *
 * ```yaml
 * timezone: UTC                      # optional, for every job
 * jobs:
 *   - northwind.yaml                 # its own schedule:
 *   - { config: wordpress.yaml, schedule: "0 * * * *" }   # overrides the config's schedule:
 * ```
 *
 * Paths are read relative to the jobs file. Assets whose `schedule:` differs from their
 * config's become a job of their own (`<config>:<asset,…>`); the rest of the config is one job.
 * Every config and pattern is checked before the scheduler starts.
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { z } from "zod";
import { loadConfig, type LoadConfigOptions, type LoadedConfig } from "../config/load.ts";
import { formatIssues } from "../config/errors.ts";
import { parseYaml } from "../config/yaml.ts";
import { ConfigError, type ConfigIssue } from "../core/errors.ts";
import { cronSchedule } from "./cron.ts";
import type { SchedulableJob } from "./schedule.ts";

/** One entry of `jobs:`: a config path, or a path with a schedule that overrides its own. */
export const jobEntrySchema = z.union([
  z.string().min(1),
  z.strictObject({
    /** Path of a harvest config, relative to the jobs file. */
    config: z.string().min(1),
    /** Cron pattern replacing the config's `schedule:`. */
    schedule: z.string().min(1).optional(),
  }),
]);

/** A jobs file: the configs `tidemark schedule` runs, each on its schedule. */
export const jobsFileSchema = z.strictObject({
  /** IANA time zone every pattern is read in. @default "UTC" */
  timezone: z.string().min(1).optional(),
  /** The configs. */
  jobs: z.array(jobEntrySchema).min(1),
});
/** A parsed jobs file. */
export type JobsFile = z.infer<typeof jobsFileSchema>;

/** One scheduled job: a config (or some of its assets) and the cron pattern it runs on. */
export interface ScheduledJob extends SchedulableJob {
  /** Time zone of the pattern. */
  timezone: string;
  /** The config file. */
  configPath: string;
  /** The loaded, validated config. */
  loaded: LoadedConfig;
  /** The assets this job harvests; undefined for the whole config. */
  assets?: string[];
  /** Whether this job also runs the config's `extract:` steps (the job on its base schedule). */
  extract?: boolean;
}

/** Options of {@link loadScheduledJobs}. */
export interface LoadScheduledJobsOptions extends LoadConfigOptions {
  /** Time zone of every pattern (`--timezone`); wins over the jobs file's. @default "UTC" */
  timezone?: string;
}

/**
 * Reads a jobs file or a single scheduled config into jobs; throws {@link ConfigError} listing
 * every problem (a missing schedule, a bad pattern, a duplicate job name, a bad config).
 * @example
 * ```ts
 * const jobs = await loadScheduledJobs("jobs/schedule.yaml");
 * jobs.map((j) => `${j.name} ${j.schedule}`); // ["northwind 0 * * * *", …]
 * ```
 */
export async function loadScheduledJobs(
  path: string,
  options: LoadScheduledJobsOptions = {},
): Promise<ScheduledJob[]> {
  const document = await readYaml(path);
  const isJobsFile = document !== null && typeof document === "object" &&
    !Array.isArray(document) && "jobs" in document;
  if (!isJobsFile) {
    const loaded = await loadConfig(path, options);
    const timezone = options.timezone ?? "UTC";
    const issues: ConfigIssue[] = [];
    const jobs = jobsOfConfig(loaded, path, { timezone, issues, where: "" });
    if (issues.length) throw scheduleError(path, issues);
    return jobs;
  }
  const parsed = jobsFileSchema.safeParse(document);
  if (!parsed.success) {
    throw scheduleError(path, formatIssues(parsed.error.issues, document));
  }
  const file = parsed.data;
  const timezone = options.timezone ?? file.timezone ?? "UTC";
  const issues: ConfigIssue[] = [];
  const jobs: ScheduledJob[] = [];
  for (const [i, entry] of file.jobs.entries()) {
    const { config, schedule } = typeof entry === "string" ? { config: entry } : entry;
    const configPath = isAbsolute(config) ? config : join(dirname(path), config);
    let loaded: LoadedConfig;
    try {
      loaded = await loadConfig(configPath, options);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push({ path: `jobs[${i}]`, message: error.message.replaceAll("\n", "\n  ") });
      continue;
    }
    jobs.push(...jobsOfConfig(loaded, configPath, {
      timezone,
      issues,
      where: `jobs[${i}] (${config}): `,
      schedule,
      schedulePath: schedule === undefined ? undefined : `jobs[${i}].schedule`,
    }));
  }
  const seen = new Map<string, string>();
  for (const job of jobs) {
    const first = seen.get(job.name);
    if (first !== undefined) {
      issues.push({
        path: "jobs",
        message:
          `two jobs are named "${job.name}" (${first} and ${job.configPath}); give the configs different name: values`,
      });
    } else seen.set(job.name, job.configPath);
  }
  if (issues.length) throw scheduleError(path, issues);
  return jobs;
}

/** One entry of a jobs file as {@link loadJobEntries} found it: its jobs, or why it has none. */
export type JobEntryResult =
  | { ok: true; entry: string; jobs: ScheduledJob[] }
  | { ok: false; entry: string; name: string; schedule: string | null; error: string };

/**
 * Reads a jobs file (or one scheduled config) entry by entry: a bad config or pattern costs only
 * its own entry, reported with its problem, and the others load (Deno Deploy serves every valid
 * job and shows the broken one). A file that cannot be read or parsed at all still throws.
 * @example
 * ```ts
 * const entries = await loadJobEntries("jobs/schedule.yaml");
 * entries.filter((e) => !e.ok).map((e) => e.error);
 * ```
 */
export async function loadJobEntries(
  path: string,
  options: LoadScheduledJobsOptions = {},
): Promise<JobEntryResult[]> {
  const document = await readYaml(path);
  const isJobsFile = document !== null && typeof document === "object" &&
    !Array.isArray(document) && "jobs" in document;
  if (!isJobsFile) return [await loadEntry(path, path, undefined, options)];
  const parsed = jobsFileSchema.safeParse(document);
  if (!parsed.success) {
    throw scheduleError(path, formatIssues(parsed.error.issues, document));
  }
  const timezone = options.timezone ?? parsed.data.timezone ?? "UTC";
  const results: JobEntryResult[] = [];
  for (const entry of parsed.data.jobs) {
    const { config, schedule } = typeof entry === "string" ? { config: entry } : entry;
    const configPath = isAbsolute(config) ? config : join(dirname(path), config);
    results.push(await loadEntry(config, configPath, schedule, { ...options, timezone }));
  }
  const seen = new Set<string>();
  return results.map((result) => {
    if (!result.ok) return result;
    const clash = result.jobs.find((job) => seen.has(job.name));
    for (const job of result.jobs) seen.add(job.name);
    return clash === undefined ? result : {
      ok: false,
      entry: result.entry,
      name: clash.name,
      schedule: clash.schedule,
      error: `two jobs are named "${clash.name}"; give the configs different name: values`,
    };
  });
}

async function loadEntry(
  entry: string,
  configPath: string,
  schedule: string | undefined,
  options: LoadScheduledJobsOptions,
): Promise<JobEntryResult> {
  const stem = configPath.replace(/^.*\//, "").replace(/\.ya?ml$/i, "");
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(configPath, options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { ok: false, entry, name: stem, schedule: schedule ?? null, error: describe(error) };
  }
  const issues: ConfigIssue[] = [];
  const jobs = jobsOfConfig(loaded, configPath, {
    timezone: options.timezone ?? "UTC",
    issues,
    where: "",
    schedule,
    schedulePath: schedule === undefined ? undefined : "schedule",
  });
  if (issues.length > 0) {
    return {
      ok: false,
      entry,
      name: loaded.config.name,
      schedule: schedule ?? loaded.config.schedule ?? null,
      error: describe(new ConfigError(`invalid job ${loaded.config.name}`, issues)),
    };
  }
  return { ok: true, entry, jobs };
}

function describe(error: ConfigError): string {
  const lines = [error.message.split("\n")[0]];
  for (const issue of error.issues ?? []) lines.push(`${issue.path}: ${issue.message}`);
  return [...new Set(lines)].join("; ");
}

interface ConfigJobsContext {
  timezone: string;
  issues: ConfigIssue[];
  /** Prefix of issue paths for this config (`jobs[1] (wordpress.yaml): `). */
  where: string;
  /** A jobs-file schedule replacing the config's. */
  schedule?: string;
  /** Where that schedule is written. */
  schedulePath?: string;
}

/** Splits one config into jobs by schedule: the config's own, and each differing asset one. */
function jobsOfConfig(
  loaded: LoadedConfig,
  configPath: string,
  ctx: ConfigJobsContext,
): ScheduledJob[] {
  const config = loaded.config;
  const base = ctx.schedule ?? config.schedule;
  const basePath = ctx.schedulePath ?? `${ctx.where}schedule`;
  const check = (pattern: string, path: string): boolean => {
    try {
      cronSchedule(pattern, { timezone: ctx.timezone, path });
      return true;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      ctx.issues.push(...error.issues);
      return false;
    }
  };
  if (base !== undefined && !check(base, basePath)) return [];
  if (base === undefined && config.assets.every((a) => a.schedule === undefined)) {
    ctx.issues.push({
      path: basePath,
      message:
        `config "${config.name}" has no schedule; add schedule: "<cron>" (e.g. "*/15 * * * *") to it${
          ctx.schedulePath === undefined && ctx.where ? " or to its jobs entry" : ""
        }`,
    });
    return [];
  }
  const groups = scheduleGroups(config, base, ctx, check);
  if (config.extract?.length && base === undefined) {
    ctx.issues.push({
      path: basePath,
      message: 'extract: steps run on the config\'s schedule; add schedule: "<cron>"',
    });
  }
  const extract = (config.extract?.length ?? 0) > 0;
  const job = (schedule: string, name: string, assets?: string[]): ScheduledJob => ({
    name,
    schedule,
    timezone: ctx.timezone,
    configPath,
    loaded,
    ...(assets ? { assets } : {}),
    ...(extract && schedule === base ? { extract: true } : {}),
  });
  const patterns = [...groups.keys()];
  if (patterns.length === 0) return base === undefined ? [] : [job(base, config.name)];
  if (patterns.length === 1 && groups.get(patterns[0])!.length === config.assets.length) {
    return [job(patterns[0], config.name)];
  }
  return patterns.map((pattern) => {
    const assets = groups.get(pattern)!;
    return pattern === base
      ? job(pattern, config.name, assets)
      : job(pattern, `${config.name}:${assets.join(",")}`, assets);
  });
}

/**
 * The config's assets grouped by cron pattern (each asset's own or the config's); an asset fed by
 * `for_each` must share its parent's. Problems are added to `ctx.issues`.
 */
function scheduleGroups(
  config: LoadedConfig["config"],
  base: string | undefined,
  ctx: ConfigJobsContext,
  check: (pattern: string, path: string) => boolean,
): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  const scheduleOf = new Map<string, string>();
  for (const [i, asset] of config.assets.entries()) {
    const pattern = asset.schedule ?? base;
    if (pattern === undefined) {
      ctx.issues.push({
        path: `${ctx.where}assets[${i}].schedule`,
        message:
          `asset "${asset.name}" has no schedule; add schedule: "<cron>" to the config (every asset) or to the asset`,
      });
      continue;
    }
    if (
      asset.schedule !== undefined && !check(asset.schedule, `${ctx.where}assets[${i}].schedule`)
    ) {
      continue;
    }
    scheduleOf.set(asset.name, pattern);
    groups.set(pattern, [...(groups.get(pattern) ?? []), asset.name]);
  }
  for (const [i, asset] of config.assets.entries()) {
    const parent = asset.for_each;
    const mine = scheduleOf.get(asset.name);
    if (parent === undefined || mine === undefined || !scheduleOf.has(parent)) continue;
    if (scheduleOf.get(parent) !== mine) {
      ctx.issues.push({
        path: `${ctx.where}assets[${i}].schedule`,
        message:
          `"${asset.name}" takes its parameters from "${parent}" (for_each) and must run in the same job; give both the same schedule`,
      });
    }
  }
  return groups;
}

async function readYaml(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file; check the path"
      : (error as Error).message;
    throw new ConfigError(`cannot read schedule config ${path}: ${why}`);
  }
  const parsed = parseYaml(text);
  return parsed.ok ? parsed.value : null; // not YAML: loadConfig reports it with line numbers
}

function scheduleError(path: string, issues: ConfigIssue[]): ConfigError {
  const n = issues.length;
  return new ConfigError(
    `invalid schedule config ${path}: ${n} problem${n === 1 ? "" : "s"}`,
    issues,
  );
}
